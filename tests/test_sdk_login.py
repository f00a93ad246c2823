"""The data scientist's SDK as the README uses it, run from a directory that is not the
platform's: ``Marketplace.login`` finds the contracts through the
API (no ``.kraken/deployment.json`` where the script runs) and checks them on the chain
node, and ``search(..., eligible=True)`` keeps only the products the reader may buy.
A real JSON-RPC chain (the embedded chain's server) and the API behind real servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.api.app import create_app
from kraken_market.client import MarketClient
from kraken_market.identity import binding
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.wallet import Wallet
from kraken_market.ledger.chain.embedded import DurableBackend
from kraken_market.ledger.chain.rpc_server import ChainNode, create_rpc_app
from kraken_market.ledger.client import connect, dev_account
from kraken_market.ledger.errors import NotDeployed
from kraken_market.ledger.indexer import Indexer
from kraken_market.sdk import DeploymentMismatch, Marketplace, marketplace_deployment
from kraken_market.settings import Settings
from kraken_market.trade.publish import publish_on_chain
from tests.conftest import person, serving
from tests.depute.conftest import Server, free_port
from tests.factories import product_body
from tests.ledger.conftest import DATA, Market, _deploy

PASSPHRASE = "a long passphrase for tests"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Market]]:
    store = tmp_path_factory.mktemp("chain") / "chain.db"
    with serving(create_rpc_app(ChainNode(DurableBackend(store)))) as url:
        yield url, _deploy("chain-serve", connect(url))


@pytest.fixture
def platform(
    chain: tuple[str, Market], engine: Engine, tmp_path: Path
) -> Iterator[tuple[Settings, Market]]:
    """The API on its own port, its deployment file in its own data directory."""
    chain_url, market = chain
    settings = Settings(
        data_dir=tmp_path / "platform",
        environment="test",
        api_url=f"http://127.0.0.1:{free_port()}",
        chain_url=chain_url,
        write_burst=100_000,
        anonymous_write_burst=100_000,
    )
    market.deployment.save(settings.deployment_file)
    app = create_app(settings, engine=engine, verifier=market.as_(2))
    server = Server(app, int(settings.resolved_api_url.rsplit(":", 1)[1]))
    server.start()
    try:
        yield settings, market
    finally:
        server.stop()


def test_the_readme_snippet_works_from_another_directory_and_picks_what_one_may_buy(
    platform: tuple[Settings, Market],
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, market = platform
    app = create_app(settings, engine=engine)  # the same database, for the test's setup
    identity = app.state.identity
    seller = person(app, "sam")
    made = binding.bind(
        seller.key, dev_account(7), audience=identity.base_url, now=datetime.now(UTC)
    )
    seller.api.bind(made.jws, made.account_signature)
    regional = {"purposes": ["research"], "regions": ["US"]}
    ids = [
        seller.api.create_product(product_body(title=title, policy=policy, stake=str(10 * DATA)))[
            "id"
        ]
        for title, policy in [
            ("Heart rate of runners", {"purposes": ["research"]}),
            ("Heart rate of American runners", regional),
            ("Heart rate of cyclists", {"purposes": ["research"]}),
        ]
    ]
    publisher = market.funded(market.as_(7))
    for product in ids[:2]:  # the cyclists' product stays off chain
        publish_on_chain(seller.api, publisher, product, wait=0)
    Indexer(market.w3, market.deployment, engine).poll_once()

    wallet_path = tmp_path / "home" / "wallet.json"
    wallet_path.parent.mkdir()
    wallet = Wallet.create(wallet_path, PASSPHRASE, work_factor=2**10)
    subject = {"id": wallet.did, "name": "Rhea", "country": "DE"}
    wallet.add_credential(
        identity.demo_issuer.issue(CredentialType.PERSON, subject, registry_url=identity.base_url)
    )
    elsewhere = tmp_path / "notebooks"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # where a data scientist's notebook runs
    client_settings = Settings(
        environment="test", api_url=settings.resolved_api_url, chain_url=settings.chain_url
    )
    assert not client_settings.deployment_file.resolve().exists()

    with Marketplace.login(wallet_path, passphrase=PASSPHRASE, settings=client_settings) as shop:
        assert shop.ledger.deployment == market.deployment  # as the marketplace names it
        keys = wallet.keys
        mine = binding.bind(
            keys.did_key, keys.account, audience=identity.base_url, now=datetime.now(UTC)
        )
        shop.api.bind(mine.jws, mine.account_signature)
        found = shop.search("heart rate", purpose="research", sort="oldest")
        assert [p["id"] for p in found] == ids
        buyable = shop.search("heart rate", purpose="research", sort="oldest", eligible=True)
        assert [p["id"] for p in buyable] == ids[:1]
        assert shop.eligibility(ids[1])["refusal"]["code"] == "not_eligible"
        assert shop.eligibility(ids[2])["refusal"]["code"] == "product_not_for_sale"
        with pytest.raises(ValueError, match="needs a purpose"):
            shop.search("heart rate", eligible=True)


def test_without_contracts_anywhere_the_error_says_what_to_set(
    settings: Settings, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(settings, engine=engine)  # no deployment file in its data directory
    monkeypatch.chdir(tmp_path)
    with MarketClient(TestClient(app)) as api, pytest.raises(NotDeployed) as refused:
        marketplace_deployment(api, Settings(environment="test"), "http://testserver")
    assert "KRAKEN_DATA_DIR" in refused.value.message
    assert str(tmp_path / ".kraken" / "deployment.json") in refused.value.message


def test_an_api_naming_other_contracts_than_the_data_directory_is_refused(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """The SDK pays what it is told: with a deployment file of its own, it refuses an API
    naming other contracts (a wrong or spoofed marketplace URL) instead of paying them."""
    theirs = settings.deployment_file
    theirs.parent.mkdir(parents=True, exist_ok=True)
    named = {
        "chain_id": 1337,
        "block": 1,
        "admin": "0x" + "11" * 20,
        "token": "0x" + "22" * 20,
        "faucet": None,
        "authority": "0x" + "33" * 20,
        "registry": "0x" + "44" * 20,
        "market": "0x" + "55" * 20,
        "deployed_at": "2026-12-01T00:00:00+00:00",
        "token_deployed": True,
    }
    theirs.write_text(json.dumps(named))
    app = create_app(settings, engine=engine)
    mine = Settings(environment="test", data_dir=tmp_path / "mine")
    mine.data_dir.mkdir()
    mine.deployment_file.write_text(json.dumps(named | {"market": "0x" + "66" * 20}))
    with MarketClient(TestClient(app)) as api:
        with pytest.raises(DeploymentMismatch) as refused:
            marketplace_deployment(api, mine, "http://testserver")
        assert "0x" + "55" * 20 in refused.value.message
        mine.deployment_file.write_text(json.dumps(named | {"market": "0x" + "55" * 20}))
        assert marketplace_deployment(api, mine, "http://testserver").market == "0x" + "55" * 20
