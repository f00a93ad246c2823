"""Whole-platform tests with real processes: `kraken-market up`, Ctrl-C, restart, kill -9."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest

from tests import served
from tests.factories import product_body

CLI = [sys.executable, "-m", "kraken_market"]


LISTEN_PORTS = (29_000, 32_700)
"""Where the platform's servers listen in these tests: below the kernel's ephemeral
range (32768-60999 by default), which outgoing connections draw from. A port found
free there (bind to 0) can be taken by a client connection before the server binds
it: once seen in CI, a node failing to start with 'address in use'."""


def free_ports(count: int) -> int:
    """A free port with ``count - 1`` free ports after it, outside the ephemeral range
    (node i of 'up' listens on base+i)."""
    for _ in range(200):
        base = random.randrange(*LISTEN_PORTS)
        if all(port_free(base + i) for i in range(count)):
            return base
    raise AssertionError(f"no {count} free ports in a row")


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    """Every port 'kraken-market up' listens on is free and this test's own, so a
    platform already running on the defaults on this machine is no obstacle."""
    return platform_environment(tmp_path)


PASSPHRASE = "correct horse battery staple"
"""The passphrase of the wallets a test platform's CLI makes (KRAKEN_WALLET_PASSPHRASE)."""


def platform_environment(home: Path) -> dict[str, str]:
    """The environment of a platform of its own, with its data under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    base = free_ports(6)  # API, chain, Depute tool, 3 nodes
    env.update(
        KRAKEN_DATA_DIR=str(home / "data"),
        KRAKEN_API_PORT=str(base),
        KRAKEN_CHAIN_PORT=str(base + 1),
        KRAKEN_DEPUTE_PORT=str(base + 2),
        KRAKEN_NODE_BASE_PORT=str(base + 3),
        # below the ephemeral range too: node i uses base + 1000 i + (0..999)
        KRAKEN_NODE_MPC_BASE_PORT=str(random.randrange(10_000, 26_000, 1000)),
        KRAKEN_WALLET_PASSPHRASE=PASSPHRASE,
    )
    return env


def wait_ready(url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited early with {process.returncode}"
        try:
            if served.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready")


def wait_platform(env: dict[str, str], process: subprocess.Popen[str], timeout: float = 90) -> None:
    """Until 'up' is ready as a whole: it writes platform.json then (its API answers
    earlier, while the contracts may still be deploying)."""
    path = Path(env["KRAKEN_DATA_DIR"]) / "platform.json"
    deadline = time.monotonic() + timeout
    while not path.is_file():
        assert process.poll() is None, f"exited early with {process.returncode}"
        assert time.monotonic() < deadline, "up not ready"
        time.sleep(0.1)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def sign_up(env: dict[str, str], name: str) -> str:
    """The new-user flow against the running API: a wallet, a PersonCredential from the
    demo issuer (same data directory as the API), login. Returns the session token."""
    created = json.loads(cli(env, "wallet", "create", "--json"))
    cli(env, "issuer", "issue", "person", "--name", name, "--wallet", created["path"])
    cli(env, "login")
    kept = Path(env["KRAKEN_DATA_DIR"]) / "sessions" / (created["did"].replace(":", "_") + ".json")
    session = json.loads(kept.read_text())
    token: str = session["session_token"]
    return token


def indexed_events(environment: dict[str, str], timeout: float = 30.0) -> int:
    """How many contract events the indexer stored (waits for the first ones)."""
    database = Path(environment["KRAKEN_DATA_DIR"]) / "kraken.db"
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.closing(sqlite3.connect(database)) as connection:
            (count,) = connection.execute("SELECT count(*) FROM chain_events").fetchone()
        if count or time.monotonic() > deadline:
            return int(count)
        time.sleep(0.3)


def test_up_serves_stops_on_ctrl_c_and_resumes(environment: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{environment['KRAKEN_API_PORT']}"
    up = subprocess.Popen(
        [*CLI, "up"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_platform(environment, up)
        assert served.get(f"{url}/docs").status_code == 200
        chain = f"http://127.0.0.1:{environment['KRAKEN_CHAIN_PORT']}"
        call = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
        blocks = int(served.post(chain, json=call).json()["result"], 16)
        assert blocks > 0  # the contracts were deployed on first start
        deployment = json.loads(
            (Path(environment["KRAKEN_DATA_DIR"]) / "deployment.json").read_text()
        )
        assert deployment["chain_id"] and deployment["market"].startswith("0x")
        assert indexed_events(environment) > 0  # up's indexer read the deployment's events
        sign_up(environment, "alice")
        created = json.loads(
            cli(
                environment,
                "products",
                "create",
                "--title",
                "Kept",
                "--mode",
                "batch",
                "--price-access",
                "1",
                "--purpose",
                "research",
                "--json",
            )
        )
    finally:
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=30)
    assert up.returncode == 0, output
    assert f"{url}/docs" in output and "stopped" in output
    assert "kraken-market wallet create" in output  # the getting-started hint
    with pytest.raises(httpx2.HTTPError):
        served.get(f"{url}/healthz", timeout=1)

    again = subprocess.Popen(
        [*CLI, "up"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_platform(environment, again)
        assert served.get(f"{url}/api/v1/products/{created['id']}").json()["title"] == "Kept"
        # the chain resumed and its contracts were reused, not deployed again
        assert int(served.post(chain, json=call).json()["result"], 16) == blocks
        kept = json.loads((Path(environment["KRAKEN_DATA_DIR"]) / "deployment.json").read_text())
        assert kept == deployment
    finally:
        again.send_signal(signal.SIGINT)
        again.communicate(timeout=30)
    assert again.returncode == 0


def test_acknowledged_writes_survive_kill_9(environment: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{environment['KRAKEN_API_PORT']}"
    api = subprocess.Popen(
        [*CLI, "api", "serve"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    acknowledged = []
    try:
        wait_ready(url, api)
        token = sign_up(environment, "alice")
        with served.client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
            for i in range(30):
                answer = http.post("/api/v1/products", json=product_body(title=f"P{i}"))
                assert answer.status_code == 201
                acknowledged.append(answer.json()["id"])
    finally:
        api.send_signal(signal.SIGKILL)
        api.wait(10)
    restarted = subprocess.Popen(
        [*CLI, "api", "serve"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_ready(url, restarted)
        found = served.get(f"{url}/api/v1/products", params={"limit": 100}).json()["items"]
        assert {p["id"] for p in found} == set(acknowledged)
    finally:
        restarted.terminate()
        restarted.wait(10)


def test_up_refuses_a_port_in_use(environment: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(environment["KRAKEN_API_PORT"])))
        taken.listen()
        done = subprocess.run(
            [*CLI, "up"], env=environment, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1
    assert "is in use" in done.stderr


@pytest.mark.postgres
def test_the_api_serves_with_one_worker_per_core_on_postgresql(
    environment: dict[str, str], postgres_url: str
) -> None:
    """Two worker processes share the port and the database: writes through either are
    all there; with SQLite, several workers are refused with what to do instead."""
    sqlite = subprocess.run(
        [*CLI, "api", "serve", "--workers", "2"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sqlite.returncode == 2 and "need PostgreSQL" in sqlite.stderr
    env = {**environment, "KRAKEN_DATABASE_URL": postgres_url, "KRAKEN_API_WORKERS": "2"}
    url = f"http://127.0.0.1:{env['KRAKEN_API_PORT']}"
    api = subprocess.Popen(
        [*CLI, "api", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_ready(url, api)
        workers = subprocess.run(
            ["ps", "--ppid", str(api.pid), "-o", "args="], capture_output=True, text=True
        ).stdout.splitlines()
        assert sum("kraken_market.api.serving" in line for line in workers) == 2, workers
        token = sign_up(env, "alice")
        headers = {"Authorization": f"Bearer {token}"}

        def create(i: int) -> str:
            with served.client(base_url=url, headers=headers) as http:  # a connection each
                answer = http.post("/api/v1/products", json=product_body(title=f"P{i}"))
                assert answer.status_code == 201, answer.text
                return str(answer.json()["id"])

        with ThreadPoolExecutor(8) as pool:
            made = set(pool.map(create, range(24)))
        found = served.get(f"{url}/api/v1/products", params={"limit": 100}).json()["items"]
        assert {p["id"] for p in found} == made
    finally:
        api.send_signal(signal.SIGINT)
        api.wait(30)
