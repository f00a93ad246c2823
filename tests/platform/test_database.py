"""``up``'s check that the database belongs to the data directory's chain, before any
process starts, on SQLite and PostgreSQL, with real embedded chains
in their data directories: a fresh database passes; one set up with another data
directory, another deployment or a chain made anew is refused, naming the database
(password hidden), what it belongs to and what to do; a database from before the
recorded origin is judged by its indexer's cursor."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_tester import EthereumTester
from sqlalchemy import Engine
from web3 import EthereumTesterProvider, Web3

from kraken_market.ledger.chain.embedded import DurableBackend
from kraken_market.ledger.chain.store import canonical_hashes
from kraken_market.ledger.chain_url import shown_chain_url
from kraken_market.ledger.client import dev_account
from kraken_market.ledger.deploy import Roles, deploy_or_reuse
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import DatabaseOfAnotherChain
from kraken_market.ledger.indexer import Indexer
from kraken_market.ledger.model import Parameters
from kraken_market.platform.database import (
    check_database,
    record_origin,
    shown_url,
)
from kraken_market.settings import Settings


@dataclass
class DataDir:
    """A data directory with its embedded chain (``chain.db``) and deployment."""

    path: Path
    w3: Web3
    deployment: Deployment

    @property
    def genesis(self) -> str:
        return "0x" + bytes(self.w3.eth.get_block(0)["hash"]).hex()

    def settings(self, database_url: str) -> Settings:
        return Settings(data_dir=self.path, database_url=database_url, environment="test")


def make_data_dir(path: Path, admin_index: int = 0) -> DataDir:
    """As ``up`` makes one: a chain funding an account of its own at genesis (so no two
    chains share a genesis block), the contracts deployed and saved."""
    path.mkdir(parents=True)
    backend = DurableBackend(path / "chain.db", funded=[Account.create().address])
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend, auto_mine_transactions=True)))
    admin = dev_account(admin_index)
    parameters = Parameters(treasury=dev_account(3).address)
    roles = Roles(arbiters=(dev_account(1).address,), verifiers=(dev_account(2).address,))
    deployment, _ = deploy_or_reuse(w3, admin, parameters, path / "deployment.json", roles)
    return DataDir(path, w3, deployment)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    return make_data_dir(tmp_path_factory.mktemp("first") / "data")


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """Another platform's data directory: same dev admin, so the same contract addresses
    (as after deleting chain.db and starting again), but another chain."""
    return make_data_dir(tmp_path_factory.mktemp("second") / "data")


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """A fresh platform's data directory: its own admin, so other contract addresses."""
    return make_data_dir(tmp_path_factory.mktemp("other") / "data", admin_index=7)


@pytest.fixture
def url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def refusal(settings: Settings, engine: Engine) -> str:
    with pytest.raises(DatabaseOfAnotherChain) as refused:
        check_database(settings, engine)
    assert refused.value.code == "database_of_another_chain"
    message = refused.value.message
    assert shown_url(settings.resolved_database_url) in message
    assert "use another database (KRAKEN_DATABASE_URL" in message
    return message


def test_the_chain_store_is_read_without_starting_the_chain(first: DataDir) -> None:
    head = first.w3.eth.block_number
    found = canonical_hashes(first.path / "chain.db", [0, head, head + 1])
    assert found[0] == first.genesis
    assert found[head] == "0x" + bytes(first.w3.eth.get_block(head)["hash"]).hex()
    assert found[head + 1] is None
    with pytest.raises(FileNotFoundError):
        canonical_hashes(first.path / "missing.db", [0])
    assert not (first.path / "missing.db").exists()


def test_a_database_belongs_to_the_data_directory_that_recorded_it(
    first: DataDir, second: DataDir, engine: Engine, url: str, tmp_path: Path
) -> None:
    assert first.deployment.market == second.deployment.market  # what made it confusing
    check_database(first.settings(url), engine)  # a fresh database: anything goes
    record_origin(engine, first.settings(url), first.deployment, first.genesis)
    check_database(first.settings(url), engine)
    record_origin(engine, second.settings(url), second.deployment, second.genesis)  # kept
    check_database(first.settings(url), engine)

    fresh = Settings(data_dir=tmp_path / "fresh", database_url=url, environment="test")
    message = refusal(fresh, engine)
    assert f"the data directory {first.path.resolve()}" in message
    assert "has no contracts yet" in message
    assert f"KRAKEN_DATA_DIR={first.path.resolve()}" in message

    message = refusal(second.settings(url), engine)  # same addresses, another chain
    assert "it was made anew since" in message
    assert second.genesis in message

    no_chain = tmp_path / "no-chain"
    no_chain.mkdir()
    shutil.copy(first.path / "deployment.json", no_chain / "deployment.json")
    assert "chain.db is missing" in refusal(
        Settings(data_dir=no_chain, database_url=url, environment="test"), engine
    )


def test_a_database_without_a_recorded_origin_is_judged_by_its_cursor(
    first: DataDir, second: DataDir, engine: Engine, url: str, tmp_path: Path
) -> None:
    Indexer(first.w3, first.deployment, engine).poll_once()  # as before the origin existed
    check_database(first.settings(url), engine)
    message = refusal(second.settings(url), engine)
    assert f"holds the events of Market {first.deployment.market}" in message
    assert "it was made anew since" in message
    fresh = Settings(data_dir=tmp_path / "fresh", database_url=url, environment="test")
    assert "has no contracts yet" in refusal(fresh, engine)


def test_the_indexer_refuses_a_database_of_another_chain(
    first: DataDir, second: DataDir, engine: Engine, url: str
) -> None:
    record_origin(engine, first.settings(url), first.deployment, first.genesis)
    with pytest.raises(DatabaseOfAnotherChain) as refused:
        Indexer(second.w3, second.deployment, engine).poll_once()
    assert first.genesis in refused.value.message
    Indexer(first.w3, first.deployment, engine).poll_once()  # its own chain: indexed


def test_the_printed_url_hides_the_password() -> None:
    shown = shown_url("postgresql+psycopg://kraken:s3cret@db.example:5432/market")
    assert "s3cret" not in shown
    assert shown == "postgresql+psycopg://kraken:***@db.example:5432/market"


def test_the_indexer_refuses_events_of_another_chain_at_the_same_places(
    first: DataDir, other: DataDir, engine: Engine
) -> None:
    """Without a recorded origin: embedded chains share a chain id, so the other chain's
    events sit where this chain's would go (this used to end in ``event_conflict``)."""
    assert first.deployment.market != other.deployment.market
    Indexer(first.w3, first.deployment, engine).poll_once()
    with pytest.raises(DatabaseOfAnotherChain) as refused:
        Indexer(other.w3, other.deployment, engine).poll_once()
    assert refused.value.details["recorded_market"] == first.deployment.market


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
        ("https://rpc.gnosischain.com", "https://rpc.gnosischain.com"),
        ("https://mainnet.infura.io/v3/0123abcd", "https://mainnet.infura.io/…"),
        ("https://user:secret@node.example:8545", "https://node.example:8545/…"),
        ("https://node.example/?apikey=secret", "https://node.example/…"),
        ("http://[::1]:8545", "http://[::1]:8545"),
        ("not a url", "(not a URL)"),
    ],
)
def test_a_chain_url_is_shown_without_what_may_be_a_key(url: str, shown: str) -> None:
    assert shown_chain_url(url) == shown
