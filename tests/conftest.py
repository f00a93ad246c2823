"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: a throwaway database on 127.0.0.1:5432 (``KRAKEN_TEST_POSTGRES_URL``
overrides the server) is created for the session and dropped at its end.
Outside CI an unreachable server skips those tests with the reason shown;
with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from starlette.types import ASGIApp

from kraken_market.api.app import create_app
from kraken_market.client import MarketClient
from kraken_market.db.base import Base
from kraken_market.db.engine import make_engine
from kraken_market.db.migrate import upgrade
from kraken_market.identity import presentations
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.identity.principal import Principal
from kraken_market.ledger.amounts import Token
from kraken_market.ledger.model import Node
from kraken_market.settings import Settings, get_settings

ADMIN_URL = os.environ.get(
    "KRAKEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
pytest_plugins = ["tests.cpu_time"]  # CPU per module, when KRAKEN_TEST_CPU names a folder


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test reads the environment it set: ``get_settings`` keeps the first
    ``Settings`` of the process, and one test's cached settings (without the wallet
    passphrase one test sets, say) must not answer for the next test on the worker."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"kraken_test_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
            )
    except Exception as exc:  # any failure to reach the server
        admin.dispose()
        reason = f"PostgreSQL unreachable at {make_url(ADMIN_URL).render_as_string()}: {exc!s:.200}"
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Database:
    backend: str
    url: str
    template: Path | None = None  # SQLite: a migrated file copied for each test


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Database:
    return prepare_database(request, tmp_path_factory)


def prepare_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Database:
    """A migrated database of ``request.param`` (a SQLite template file, or a
    throwaway PostgreSQL database), for fixtures of any scope."""
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("template") / "kraken.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        engine.dispose()
        return Database("sqlite", f"sqlite:///{template}", template)
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return Database("postgresql", url)


@pytest.fixture
def engine(database: Database, tmp_path: Path) -> Iterator[Engine]:
    if database.template is not None:
        path = tmp_path / "kraken.db"
        shutil.copy(database.template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    eng = make_engine(database.url)
    yield eng
    truncate_all(eng)
    eng.dispose()


def truncate_all(eng: Engine) -> None:
    """Empty every table of a PostgreSQL test database (keeps the migrated schema)."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with eng.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Write limits far above what a test sends: every TestClient request comes from one
    address and a test writes faster than a person (tests/api/test_limits.py tests them)."""
    return Settings(
        data_dir=tmp_path / "data",
        environment="test",
        write_burst=100_000,
        anonymous_write_burst=100_000,
    )


@dataclass(frozen=True)
class DeployedToken:
    """The token an API with a chain reports (``GET /api/v1/ledger/token``), for test
    APIs served without one: DataToken's DATA with 18 decimals unless told otherwise.
    The chain's own answer (``Ledger.token``) is tested in tests/ledger/test_token_units.py."""

    symbol: str = "DATA"
    decimals: int = 18

    def token(self) -> Token:
        return Token("0x" + "Da" * 20, self.symbol, self.decimals)

    def balance(self, account: str) -> int:
        return 0  # a chain with no transfers yet (tests/trade/test_market_flow reads a real one)

    def nodes(self) -> list[Node]:
        return []


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    chain = DeployedToken()
    return create_app(settings, engine=engine, token=chain, chain=chain)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@dataclass
class Account:
    principal: Principal
    token: str
    headers: dict[str, str]
    api: MarketClient
    key: DidKey
    credentials: list[str]


def login(
    app: FastAPI,
    key: DidKey,
    credentials: list[str],
    act_for: str | None = None,
) -> dict[str, Any]:
    """Log ``key``'s holder in through the API with a presentation of ``credentials``."""
    with TestClient(app) as client:
        challenge = client.post("/api/v1/auth/challenge").json()
        presentation = presentations.present(
            key, credentials, audience=challenge["audience"], nonce=challenge["nonce"]
        )
        response = client.post(
            "/api/v1/auth/login", json={"presentation": presentation, "act_for": act_for}
        )
        assert response.status_code == 200, response.text
        session: dict[str, Any] = response.json()
        return session


def person(
    app: FastAPI, name: str, *, roles: tuple[str, ...] = (), category: str | None = None
) -> Account:
    """A new person with a PersonCredential (and role/category credentials) from the app's
    demo issuer, logged in."""
    issuer = app.state.identity.demo_issuer
    base = app.state.identity.base_url
    key = DidKey.generate()
    issued = [issuer.issue(CredentialType.PERSON, {"id": key.did, "name": name}, registry_url=base)]
    for role in roles:
        issued.append(
            issuer.issue(
                CredentialType.PLATFORM_ROLE, {"id": key.did, "role": role}, registry_url=base
            )
        )
    if category is not None:
        issued.append(
            issuer.issue(
                CredentialType.BUYER_CATEGORY,
                {"id": key.did, "category": category},
                registry_url=base,
            )
        )
    session = login(app, key, issued)
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    principal = Principal(
        account=session["acting_as"],
        name=name,
        did=key.did,
        roles=frozenset(session["roles"]),
    )
    client = TestClient(app, headers=headers)
    return Account(principal, session["session_token"], headers, MarketClient(client), key, issued)


@pytest.fixture
def alice(app: FastAPI) -> Account:
    return person(app, "alice")


@pytest.fixture
def bob(app: FastAPI) -> Account:
    return person(app, "bob")


@pytest.fixture
def admin(app: FastAPI) -> Account:
    return person(app, "ada", roles=("admin",))


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """``app`` behind a real uvicorn server in a thread; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    """The test app behind a real server, for concurrent clients."""
    with serving(app) as url:
        yield url


SHARED_PLATFORMS = ("tests/e2e/browser/",)
"""Directories whose modules share one session-scoped platform (their conftest)."""

LONGEST_FIRST = (
    "tests/e2e/browser/",
    "tests/e2e/test_cli_trade.py",
    "tests/e2e/test_newcomer.py",
    "tests/e2e/test_platform.py",
    "tests/e2e/test_demo.py",
    "tests/e2e/test_public_dataset.py",
    "tests/e2e/test_faults.py",
    "tests/e2e/test_up.py",
    "tests/smpc/test_separate_hosts.py",
    "tests/ledger/test_ledger_cli.py",
)
"""Groups that take minutes (``--durations``), longest first. With
``--no-loadscope-reorder`` (``make test``) xdist hands out groups in the order collected
rather than by their number of tests, which put these one- or two-test modules last:
started first, they no longer leave one of them running alone on one worker for the
last minutes of a run while the others idle."""


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """How ``make test`` shares the tests among its worker processes (``--dist
    loadgroup``): a module's tests stay together on one worker, in order, as they share
    module fixtures (a platform, a chain); the browser tests (tests/e2e/browser, the
    wallet app's included) share one platform of their own, so they stay together too.
    Whole-platform modules are shared out like the others: run one at a time, they
    alone would take longer than the rest of the suite; the longest start first
    (:data:`LONGEST_FIRST`)."""
    items.sort(key=lambda item: _rank(_group_of(item)))  # stable: modules keep their order
    for item in items:
        group = _group_of(item)
        item.add_marker(pytest.mark.xdist_group(group))
        if config.getoption("loadgroup", default=False):  # xdist workers, --dist loadgroup
            _group_in_id(item, group)


def _group_of(item: pytest.Item) -> str:
    module = item.nodeid.split("::", 1)[0]
    return next((d for d in SHARED_PLATFORMS if module.startswith(d)), module)


def _rank(group: str) -> int:
    return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)


def _group_in_id(item: pytest.Item, group: str) -> None:
    """xdist (3.8) groups tests by an ``@group`` suffix of their id, which it writes into
    ``item._nodeid``; pytest 9.2 keeps ids in ``item._id`` and never reads that, so every
    group was spread over all workers. Write the suffix where pytest reads it (the
    scheduler splits the id at its last ``@``)."""
    current = getattr(item, "_id", None)
    if current is None or str(current).endswith(f"@{group}"):
        return
    item._id = type(current).parse(f"{current}@{group}")
