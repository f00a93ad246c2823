"""``kraken-market up`` lets the web wallet reach the Depute tool: the API child gets
the tool's origin in ``KRAKEN_WEB_CONNECT_SOURCES`` (the pages' CSP connect-src)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from kraken_market.platform.launch import Launch
from kraken_market.platform.supervisor import Supervisor
from kraken_market.settings import Settings


def api_env(tmp_path: Path, configured: list[str] | None = None) -> list[str]:
    settings = Settings(
        data_dir=tmp_path,
        environment="test",
        depute_port=8999,
        web_connect_sources=configured or [],
    )
    launch = Launch(settings, Supervisor(tmp_path / "logs", threading.Event()), timeout=1.0)
    sources: list[str] = json.loads(launch._api_env()["KRAKEN_WEB_CONNECT_SOURCES"])
    return sources


def test_the_depute_tool_is_a_connect_source(tmp_path: Path) -> None:
    assert api_env(tmp_path) == ["http://127.0.0.1:8999"]


def test_configured_sources_are_kept(tmp_path: Path) -> None:
    sources = api_env(tmp_path, ["https://rpc.example"])
    assert sources == ["https://rpc.example", "http://127.0.0.1:8999"]
    assert api_env(tmp_path, ["http://127.0.0.1:8999"]) == ["http://127.0.0.1:8999"]
