"""``kraken-market up`` as a real process: the whole platform (chain, API with KCIT and
the registry, indexer, three compute nodes, the demo company's Depute tool) comes up
on a fresh data directory, stops on Ctrl-C leaving nothing behind, resumes with all
its state, and stops with an error naming the log when one of its processes dies."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx2
from eth_account import Account
from sqlalchemy import insert

from kraken_market.client import MarketClient
from kraken_market.db.engine import make_engine
from kraken_market.db.migrate import upgrade
from kraken_market.identity.wallet import Wallet
from kraken_market.ledger.client import Ledger, connect
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.models import DatabaseOrigin
from kraken_market.platform.report import PlatformInfo
from tests import served
from tests.e2e.test_platform import CLI, environment  # noqa: F401 - the fixture

NAMES = {"chain", "api", "indexer", "node-0", "node-1", "node-2", "depute"}


def start(env: dict[str, str], timeout: float = 90) -> tuple[subprocess.Popen[str], PlatformInfo]:
    """``up --json`` until it is ready, which is when it writes platform.json."""
    path = Path(env["KRAKEN_DATA_DIR"]) / "platform.json"
    process = subprocess.Popen(
        [*CLI, "up", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + timeout
    while not path.is_file():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, errors = process.communicate()
            raise AssertionError(f"up not ready (status {process.returncode}): {errors}")
        time.sleep(0.1)
    return process, PlatformInfo.model_validate_json(path.read_text())


def ports(env: dict[str, str]) -> list[int]:
    base = int(env["KRAKEN_NODE_BASE_PORT"])
    named = ("KRAKEN_CHAIN_PORT", "KRAKEN_API_PORT", "KRAKEN_DEPUTE_PORT")
    return [int(env[n]) for n in named] + [base, base + 1, base + 2]


def block_number(url: str) -> int:
    call = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    return int(served.post(url, json=call).json()["result"], 16)


def check_running(info: PlatformInfo) -> None:
    """Every process answers; the nodes are registered on chain; the company is in KCIT."""
    assert block_number(info.chain.url) > 0
    assert served.get(f"{info.api.url}/healthz").status_code == 200
    assert served.get(info.api.docs).status_code == 200
    for page in (info.api.marketplace, info.api.wallet_app):  # the built web apps
        answer = served.get(page)
        assert answer.status_code == 200, answer.text
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    nodes = [served.get(f"{n.url}/node").json() for n in info.nodes]
    assert sorted(n["index"] for n in nodes) == [0, 1, 2]
    assert [n["account"] for n in nodes] == [n.account for n in info.nodes]
    reader = Ledger(
        connect(info.chain.url), Deployment.load(Path(info.chain.deployment_file)), Account.create()
    )
    on_chain = {(n.account, n.hpke_public_key.hex(), n.endpoint) for n in reader.nodes()}
    assert on_chain == {(n.account, n.hpke_public_key, n.url) for n in info.nodes}
    health = served.get(f"{info.depute.url}/api/health").json()
    assert health["company"] == info.depute.company
    company = served.get(f"{info.api.url}/api/v1/companies/{quote(info.depute.company, safe=':')}")
    assert company.status_code == 200  # public read: no session
    assert (company.json()["status"], company.json()["legal_name"]) == (
        "identified",
        "Demo Hospital",
    )
    assert set(info.logs) == set(info.processes) == NAMES


WELL_KNOWN = {
    Account.from_key(f"0x{index:064x}").address for index in range(1, 11)
}  # eth-tester's dev keys
WELL_KNOWN |= {
    Account.from_key(key).address
    for key in (  # Hardhat's and anvil's first default accounts, the other public test keys
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    )
}


def check_secure_defaults(info: PlatformInfo) -> None:
    """No platform role is a well-known key; the chain signs for no one and cannot be
    rewritten; the keys are the owner's files only."""
    deployment = Deployment.load(Path(info.chain.deployment_file))
    reader = Ledger(connect(info.chain.url), deployment, Account.create())
    roles = reader.contracts["Authority"]
    accounts = {deployment.admin, *info.chain.roles.values(), *(n.account for n in info.nodes)}
    assert not accounts & WELL_KNOWN
    arbiter_role = roles.functions.ARBITER_ROLE().call()
    verifier_role = roles.functions.VERIFIER_ROLE().call()
    assert roles.functions.hasRole(arbiter_role, info.chain.roles["arbiter"]).call()
    assert roles.functions.hasRole(verifier_role, info.chain.roles["verifier"]).call()
    for known in WELL_KNOWN:
        assert not roles.functions.hasRole(arbiter_role, known).call()
        assert not roles.functions.hasRole(verifier_role, known).call()
    for key in Path(info.chain.keys_dir).iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    height = block_number(info.chain.url)
    for method, params in [
        (
            "eth_sendTransaction",
            [{"from": info.chain.roles["admin"], "to": info.chain.roles["admin"]}],
        ),
        ("evm_snapshot", []),
        ("testing_timeTravel", [2_000_000_000]),
    ]:
        call = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        assert served.post(info.chain.url, json=call).json()["error"]["code"] == -32601
    assert block_number(info.chain.url) == height


def check_admin(info: PlatformInfo) -> None:
    """The printed admin wallet logs in as a platform admin."""
    admin = next(w for w in info.wallets if w.role == "admin")
    for path in (Path(admin.path), Path(info.wallet_passphrase_file)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    wallet = Wallet.open(Path(admin.path))
    wallet.unlock(Path(info.wallet_passphrase_file).read_text().strip())
    with MarketClient.connect(info.api.url) as api:
        challenge = api.challenge()
        session = api.login(wallet.present(challenge["audience"], challenge["nonce"]))
    assert "admin" in session["roles"]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def all_stopped(env: dict[str, str]) -> None:
    assert not [port for port in ports(env) if listening(port)], "a process still listens"
    assert not (Path(env["KRAKEN_DATA_DIR"]) / "platform.json").exists()


def test_up_runs_the_platform_stops_cleanly_resumes_and_restarts_a_dead_child(
    environment: dict[str, str],  # noqa: F811 - the fixture
) -> None:
    up, first = start(environment)
    try:
        check_running(first)
        check_secure_defaults(first)
        check_admin(first)
        blocks = block_number(first.chain.url)
    finally:
        up.send_signal(signal.SIGINT)
        output, errors = up.communicate(timeout=60)
    assert up.returncode == 0, errors
    assert PlatformInfo.model_validate_json(output) == first  # --json printed the same
    assert first.first_start and first.chain.deployed_now
    assert "contracts deployed" in errors and "stopped" in errors
    all_stopped(environment)

    again, second = start(environment)
    try:
        check_running(second)
        assert not second.first_start
        assert second.nodes == first.nodes  # same keys, accounts, endpoints
        assert (second.wallets, second.depute) == (first.wallets, first.depute)
        assert second.chain.contracts == first.chain.contracts
        assert block_number(second.chain.url) == blocks  # nothing deployed or registered again
        killed = second.processes["node-1"]
        os.kill(killed, signal.SIGKILL)  # the others go on; up restarts it
        path = Path(environment["KRAKEN_DATA_DIR"]) / "platform.json"
        deadline = time.monotonic() + 60
        while PlatformInfo.model_validate_json(path.read_text()).processes["node-1"] == killed:
            assert again.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        while True:
            try:
                assert served.get(f"{second.nodes[1].url}/node").json()["index"] == 1
                break
            except httpx2.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        check_running(second)  # (the API and the chain never stopped)
    finally:
        again.send_signal(signal.SIGINT)
        _, errors = again.communicate(timeout=60)
    assert again.returncode == 0, errors
    assert "node-1 exited with status -9; restarted" in errors
    assert second.logs["node-1"] in errors
    all_stopped(environment)
    print(f"ready in {first.ready_in_seconds} s (first start), {second.ready_in_seconds} s")


def test_a_process_failing_at_start_stops_up_naming_its_log(
    environment: dict[str, str],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    # The database is one of a newer version (a revision this code does not know): up's
    # check reads it, the API cannot migrate it, so it exits while starting.
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
    environment["KRAKEN_DATABASE_URL"] = f"sqlite:///{newer}"
    done = subprocess.run([*CLI, "up"], env=environment, capture_output=True, text=True, timeout=90)
    assert done.returncode == 1
    log = Path(environment["KRAKEN_DATA_DIR"]).resolve() / "logs" / "api.log"
    assert f"api exited with status 1; its log: {log}" in done.stderr, done.stderr
    assert "api |" in done.stderr  # the end of the log, printed
    all_stopped(environment)  # (the contracts may or may not be deployed by then: a race)


def test_a_database_of_another_data_directory_is_refused_before_anything_starts(
    environment: dict[str, str],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    """A database reused with a fresh data directory used to start,
    then stop the indexer with ``chain_reorganised``; now ``up`` names the database and
    refuses at once, saying what to do."""
    shared = tmp_path / "shared.db"
    engine = make_engine(f"sqlite:///{shared}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(DatabaseOrigin).values(
                id=1,
                chain_id=131277322940537,
                genesis_hash="0x" + "ab" * 32,
                market="0x" + "12" * 20,
                data_dir="/srv/kraken/first",
                recorded_at=datetime.now(UTC),
            )
        )
    engine.dispose()
    environment["KRAKEN_DATABASE_URL"] = f"sqlite:///{shared}"
    done = subprocess.run([*CLI, "up"], env=environment, capture_output=True, text=True, timeout=90)
    assert done.returncode == 1, done.stderr
    assert f"database sqlite:///{shared}" in done.stderr
    assert "error [database_of_another_chain]" in done.stderr
    assert "KRAKEN_DATA_DIR=/srv/kraken/first" in done.stderr
    logs = Path(environment["KRAKEN_DATA_DIR"]) / "logs"
    assert not logs.exists() or not list(logs.iterdir())  # no process was started
    all_stopped(environment)


def test_a_child_stops_when_up_is_killed(environment: dict[str, str]) -> None:  # noqa: F811
    """Children have their own process groups; a SIGKILLed 'up' still leaves no orphan."""
    port = environment["KRAKEN_API_PORT"]
    spawn = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-m', 'kraken_market.platform.child', "
        f"'--parent', str(os.getpid()), 'api', 'serve', '--port', '{port}'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", spawn], env=environment, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    deadline = time.monotonic() + 60
    while not listening(int(port)):
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.1)
    parent.kill()
    parent.communicate(timeout=10)
    deadline = time.monotonic() + 20
    while listening(int(port)) or alive(child):
        assert time.monotonic() < deadline, "the child outlived its parent"
        time.sleep(0.1)


def alive(pid: int) -> bool:
    """Running (a zombie waiting for an init that does not reap counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
