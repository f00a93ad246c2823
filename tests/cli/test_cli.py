"""The CLI against a real API server over HTTP (uvicorn in a thread, SQLite)."""

from __future__ import annotations

import json
import socket
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from kraken_market.api.app import create_app
from kraken_market.cli.common import client
from kraken_market.cli.main import app as cli
from kraken_market.settings import Settings, get_settings
from tests.conftest import DeployedToken

runner = CliRunner()
PASSPHRASE = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving_on(app: FastAPI, port: int) -> Iterator[str]:
    """``app`` behind uvicorn in a thread on ``port``: the app must know its own URL
    before it starts (it is the audience of login presentations and the base of
    its status lists), so the port is chosen first."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def live_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The API on a real server, with the CLI (same data directory, so the same demo
    issuer) pointed at it; wallet passphrase from KRAKEN_WALLET_PASSPHRASE."""
    port = free_port()
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KRAKEN_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("KRAKEN_WALLET_PASSPHRASE", PASSPHRASE)
    for name in ("KRAKEN_CONFIG", "KRAKEN_DATABASE_URL", "KRAKEN_API_TOKEN", "KRAKEN_WALLET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    with serving_on(create_app(Settings(), token=DeployedToken()), port) as url:
        yield url
    get_settings.cache_clear()


def run(
    *args: str, env: dict[str, str | None] | None = None, stdin: str | None = None
) -> tuple[int, str, str]:
    get_settings.cache_clear()  # settings are read per command, as in a new process
    result = runner.invoke(cli, list(args), env=env, input=stdin)
    get_settings.cache_clear()
    return result.exit_code, result.stdout, result.stderr


def sign_up(name: str, wallet: Path | None = None) -> dict[str, str]:
    """wallet create -> demo issuer's PersonCredential into the wallet -> login."""
    where = ["--wallet", str(wallet)] if wallet else []
    code, out, err = run("wallet", "create", *where, "--json")
    assert code == 0, err
    created: dict[str, str] = json.loads(out)
    code, _, err = run("issuer", "issue", "person", "--name", name, "--wallet", created["path"])
    assert code == 0, err
    code, _, err = run("login", *where)
    assert code == 0, err
    return created


def test_seller_workflow_from_the_command_line(live_api: str, tmp_path: Path) -> None:
    created = sign_up("alice")
    session_file = tmp_path / "data" / "sessions" / (created["did"].replace(":", "_") + ".json")
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert json.loads(session_file.read_text())["did"] == created["did"]

    code, out, err = run(
        "products",
        "create",
        "--title",
        "Step counts",
        "--mode",
        "batch",
        "--price-access",
        "2.5",
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
    assert product["owner"] == created["did"]
    assert product["prices"]["access"] == str(25 * 10**17)  # DATA typed, base units stored
    assert (product["prices_data"], product["stake_data"]) == ({"access": "2.5"}, "0")
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
        "unions", "create", "--title", "Clinics", "--member", f"{ids[0]}:2", "--member", ids[1]
    )  # fmt: skip
    # A union is sold by the chain, and there is none here: refused, nothing recorded.
    assert code == 1 and "[not_deployed]" in err, err
    code, out, _ = run("unions", "list", "--json")
    assert json.loads(out)["items"] == []
    with client() as api:  # as the catalog alone records it (every owner consented)
        body = {"title": "Clinics", "members": [{"product_id": i} for i in ids]}
        union = api.create_union(body)
    code, out, _ = run("unions", "list", "--json")
    assert [(u["id"], u["status"]) for u in json.loads(out)["items"]] == [
        (union["id"], "awaiting_chain")
    ]
    code, out, _ = run("unions", "show", union["id"])  # members priced 10 DATA each
    assert code == 0 and "a buyer pays 20 DATA per computation for the union" in out
    shown = " ".join(out.split())  # Rich folds lines
    assert "(waiting for the chain, analytics)" in shown
    assert f"run 'kraken-market unions consent {union['id']}' again" in shown

    code, out, _ = run("products", "retire", product["id"], "--reason", "replaced", "--json")
    assert code == 0 and json.loads(out)["availability"] == "retired"


def test_errors_are_clear_and_exit_non_zero(live_api: str) -> None:
    sign_up("bob")
    code, _, err = run(
        "products", "create", "--title", "x", "--mode", "batch", "--purpose", "research"
    )
    assert code == 1
    assert "error [validation_error]: --price-access is required" in err
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
    assert code == 1 and "[invalid_amount]: --price-access: -5 is negative" in err
    code, _, err = run(
        "unions", "create", "--title", "u", "--member", "0xab:heavy", "--member", "0xcd"
    )
    assert code == 2 and "PRODUCT_ID:WEIGHT" in err
    code, _, err = run("wallet", "create")
    assert code == 1 and "[wallet_exists]" in err
    code, _, err = run("issuer", "issue", "role", "--role", "boss", "--subject", "did:key:z6Mk")
    assert code == 1 and "[credential_invalid]" in err


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
