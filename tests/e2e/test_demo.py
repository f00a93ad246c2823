"""The whole story on real processes: `kraken-market up` (chain, API, indexer, 3 compute
nodes, the demo company's Depute tool), then `kraken-market demo`, on SQLite with the
embedded chain and on PostgreSQL with an external chain (Foundry's anvil, a real EVM
node: `up` refuses until its accounts hold gas money, then deploys there, and the demo
is paid by a funded account); afterwards a privacy check searches everything the
backend stored (its database, the logs, its files, the chain, the share storage) for
the datasets' plaintext values, the data keys and the actors' private keys."""

from __future__ import annotations

import json
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]
import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from tests.conftest import ADMIN_URL, IN_CI
from tests.e2e.test_up import start
from tests.ledger.anvil import rpc, running_anvil

CLI = [sys.executable, "-m", "kraken_market"]
OWNERS = ("nodes", "demo", "depute", "issuer")
"""Directories of the data dir that belong to others than the backend: the nodes' own
keys, the demo wallets, the company's Depute tool, the demo issuer."""


SETUPS = ["sqlite", pytest.param("postgresql-anvil", marks=pytest.mark.postgres)]


@pytest.fixture(params=SETUPS)
def setup(request: pytest.FixtureRequest) -> str:
    """The database, and the chain: the embedded one or an external anvil."""
    name: str = request.param
    return name


@pytest.fixture
def database_url(setup: str) -> Iterator[str | None]:
    if setup == "sqlite":
        yield None
        return
    name = f"kraken_demo_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    except Exception as exc:
        admin.dispose()
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {exc!s:.200}")
        pytest.skip(f"PostgreSQL unreachable: {exc!s:.200}")
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def chain_url(setup: str) -> Iterator[str | None]:
    if not setup.endswith("anvil"):
        yield None
        return
    with running_anvil() as url:
        yield url


@pytest.fixture
def platform(
    environment: dict[str, str], database_url: str | None, chain_url: str | None
) -> Iterator[dict[str, str]]:
    env = dict(environment)
    if database_url is not None:
        env["KRAKEN_DATABASE_URL"] = database_url
    if chain_url is not None:
        # anvil mines a block per transaction and none in between: an event would never
        # gather confirmations (a real chain's depth is for blocks that keep coming).
        env.update(KRAKEN_CHAIN_URL=chain_url, KRAKEN_CHAIN_CONFIRMATIONS="0")
        fund_when_asked(env, chain_url)
    up, info = start(env, timeout=120)
    assert info.chain.embedded is (chain_url is None)
    try:
        yield env
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.communicate()


ROLES = ("admin", "arbiter", "verifier")  # the treasury receives; no process relays yet
SIGNER = r"(admin|arbiter|verifier|relayer|node\s\d|company\saccount)\s+(0x[0-9a-fA-F]{40})"
"""A named account in the refusal (Rich may fold the line anywhere between words)."""


def fund_when_asked(env: dict[str, str], chain_url: str) -> None:
    """The first ``up`` on a chain it does not own deploys nothing: it names the
    accounts that need gas money. Fund exactly those (as an operator would, here with
    anvil's own balance setter) and the next ``up`` goes on."""
    refused = subprocess.run(
        [*CLI, "up", "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1, refused.stderr[-2000:]
    assert "error [accounts_unfunded]" in refused.stderr, refused.stderr[-2000:]
    named = {" ".join(k.split()): a for k, a in re.findall(SIGNER, refused.stderr)}
    assert set(named) == {*ROLES, "node 0", "node 1", "node 2", "company account"}, named
    assert not (Path(env["KRAKEN_DATA_DIR"]) / "deployment.json").exists()  # nothing deployed
    for account in named.values():
        rpc(chain_url, "anvil_setBalance", account, hex(100 * 10**18))


def chain_contents(url: str) -> bytes:
    """What an external chain holds: every transaction's input, every log, the state."""
    chunks = [bytes.fromhex(str(rpc(url, "anvil_dumpState"))[2:])]
    last = int(rpc(url, "eth_blockNumber"), 16)
    for number in range(last + 1):
        block = rpc(url, "eth_getBlockByNumber", hex(number), True)
        chunks += [bytes.fromhex(tx["input"][2:]) for tx in block["transactions"]]
    logs = rpc(url, "eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(last)})
    chunks += [bytes.fromhex(log["data"][2:]) for log in logs]
    return b"\n".join(chunks)


def backend_files(data_dir: Path) -> Iterator[Path]:
    for path in data_dir.rglob("*"):
        relative = path.relative_to(data_dir)
        if path.is_file() and relative.parts[0] not in OWNERS:
            yield path


def database_dump(url: str) -> bytes:
    engine = create_engine(url)
    chunks: list[str] = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                chunks.append(repr(tuple(row)))
    engine.dispose()
    return "\n".join(chunks).encode()


PRIME = 2**128 - 173


def element(value: float) -> bytes:
    """A value as the plaintext field element it is encoded to before sharing
    (docs/share-format.md: round(v * 2^32) mod P, 16 bytes little-endian)."""
    return (round(value * 2**32) % PRIME).to_bytes(16, "little")


def needles(found: dict[str, list[str]]) -> dict[str, bytes]:
    """What must not be found: each key raw and in hex, each plaintext file's lines
    and every value of the analytics data as the fixed-point field element it becomes."""
    out: dict[str, bytes] = {}
    for kind in ("private_keys", "data_keys"):
        for i, key in enumerate(found[kind]):
            out[f"{kind}[{i}] hex"] = key.encode()
            out[f"{kind}[{i}] raw"] = bytes.fromhex(key)
    for path in map(Path, found["plaintexts"]):
        lines = path.read_bytes().splitlines()[1:]
        for j, line in enumerate(lines[:50]):
            if len(line) >= 8:
                out[f"{path.name} line {j}"] = line
        if path.suffix == ".csv" and path.name.startswith("patients"):
            table = pd.read_csv(path)
            for column in ("age", "heart_rate"):
                for value in table[column].head(40):
                    encoded = element(float(value))
                    if sum(map(bool, encoded)) >= 8:  # whole numbers are mostly zero bytes
                        out[f"{column}={value} as a field element"] = encoded
    return out


def test_the_demo_runs_and_the_backend_holds_no_secret(
    platform: dict[str, str], tmp_path: Path, database_url: str | None, chain_url: str | None
) -> None:
    report = tmp_path / "secrets.json"
    data_dir = Path(platform["KRAKEN_DATA_DIR"])
    # On an external chain the platform's admin pays the demo's people: it holds the
    # DATA of the token it deployed and the gas money funded above.
    bank = ["--bank-key-file", str(data_dir / "keys" / "admin.key")] if chain_url else []
    done = subprocess.run(
        [*CLI, "demo", "--out", str(tmp_path / "demo"), "--secrets", str(report), "--json", *bank],
        env=platform,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    steps = json.loads(done.stdout)["steps"]
    assert any("approved" in s for s in steps) and steps[-1].endswith("credential_revoked")
    mean = pd.read_csv(tmp_path / "demo" / "mean.csv", index_col=0)
    patients = pd.read_csv(tmp_path / "demo" / "work" / "patients.csv")
    assert mean.loc["mean", "heart_rate"] == pytest.approx(patients["heart_rate"].mean(), abs=1e-6)

    haystacks = {str(p): p.read_bytes() for p in backend_files(data_dir)}
    if database_url is not None:
        haystacks["postgresql"] = database_dump(database_url)
    if chain_url is not None:
        haystacks["anvil"] = chain_contents(chain_url)
    assert any(name.endswith(".kshare") for name in haystacks)  # the storage was searched
    leaks = [
        (what, where)
        for what, needle in needles(json.loads(report.read_text())).items()
        for where, content in haystacks.items()
        if needle in content
    ]
    assert not leaks, leaks[:10]
