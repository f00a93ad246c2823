"""The CLI against a real API server over HTTP (uvicorn in a thread, SQLite)."""

from __future__ import annotations

import json
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kraken_market.api.app import create_app
from kraken_market.cli.main import app as cli
from kraken_market.settings import Settings, get_settings
from tests.conftest import serving

runner = CliRunner()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def live_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KRAKEN_CONFIG", raising=False)
    monkeypatch.delenv("KRAKEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("KRAKEN_API_TOKEN", raising=False)
    get_settings.cache_clear()
    with serving(create_app(Settings())) as url:
        monkeypatch.setenv("KRAKEN_API_URL", url)  # where the CLI finds this server
        get_settings.cache_clear()
        yield url
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_seller_workflow_from_the_command_line(live_api: str, tmp_path: Path) -> None:
    code, out, _ = run("accounts", "create", "alice", "--save", "--json")
    assert code == 0, out
    token_file = tmp_path / "data" / "cli-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(out)["token"] == token_file.read_text().strip()

    code, out, err = run(
        "products",
        "create",
        "--title",
        "Step counts",
        "--mode",
        "batch",
        "--price-access",
        "5000",
        "--purpose",
        "research",
        "--purpose",
        "education",
        "--tag",
        "mobility",
        "--json",
    )
    assert code == 0, err
    product = json.loads(out)
    assert product["prices"]["access"] == "5000"
    assert product["policy"]["purposes"] == ["research", "education"]

    code, out, _ = run("products", "list", "step", "--json")
    assert [p["id"] for p in json.loads(out)["items"]] == [product["id"]]
    code, out, _ = run("products", "list")
    assert code == 0 and "Step counts" in out

    code, out, _ = run(
        "products",
        "update",
        product["id"],
        "--availability",
        "paused",
        "--price-access",
        "6000",
        "--json",
    )
    assert code == 0 and json.loads(out)["version"] == 2
    code, out, _ = run("products", "history", product["id"], "--json")
    assert [h["action"] for h in json.loads(out)] == ["created", "updated"]
    code, out, _ = run("products", "show", product["id"])
    assert code == 0 and "paused" in out

    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"columns": [{"name": "steps", "type": "numeric", "min": 0}]}))
    ids = []
    for title in ("Clinic A", "Clinic B"):
        code, out, err = run(
            "products",
            "create",
            "--title",
            title,
            "--mode",
            "analytics",
            "--price-computation",
            "10",
            "--purpose",
            "research",
            "--schema",
            str(schema),
            "--parent",
            product["id"],
            "--json",
        )
        assert code == 0, err
        ids.append(json.loads(out)["id"])
    code, out, _ = run("products", "lineage", product["id"], "--json")
    assert {n["id"] for n in json.loads(out)["nodes"]} == {product["id"], *ids}
    code, out, err = run(
        "unions",
        "create",
        "--title",
        "Clinics",
        "--member",
        f"{ids[0]}:2",
        "--member",
        ids[1],
        "--json",
    )
    assert code == 0, err
    union = json.loads(out)
    assert union["status"] == "active"
    assert [m["weight"] for m in union["members"]] == [2, 1]
    code, out, _ = run("unions", "list", "--json")
    assert [u["id"] for u in json.loads(out)["items"]] == [union["id"]]

    code, out, _ = run("products", "retire", product["id"], "--reason", "replaced", "--json")
    assert code == 0 and json.loads(out)["availability"] == "retired"


def test_errors_are_clear_and_exit_non_zero(live_api: str) -> None:
    assert run("accounts", "create", "bob", "--save")[0] == 0
    code, _, err = run(
        "products", "create", "--title", "x", "--mode", "batch", "--purpose", "research"
    )
    assert code == 1
    assert "error [validation_error]" in err and "prices" in err
    code, _, err = run("products", "show", "0x" + "00" * 32)
    assert code == 1 and "[product_not_found]" in err
    code, _, err = run(
        "products",
        "create",
        "--title",
        "x",
        "--mode",
        "batch",
        "--price-access",
        "-5",
        "--purpose",
        "research",
    )
    assert code == 1 and "amount_type" in err
    code, _, err = run(
        "unions", "create", "--title", "u", "--member", "0xab:heavy", "--member", "0xcd"
    )
    assert code == 2 and "PRODUCT_ID:WEIGHT" in err
    code, _, err = run("accounts", "create", "Not Valid")
    assert code == 1 and "[invalid_request]" in err
    code, _, err = run("accounts", "create", "bob")
    assert code == 1 and "[conflict]" in err


def test_unreachable_api_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KRAKEN_API_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    try:
        code, _, err = run("products", "list")
    finally:
        get_settings.cache_clear()
    assert code == 1
    assert "[api_unreachable]" in err and "kraken-market up" in err
