"""The catalog shows the stake the chain holds, ``trade status`` names what differs
between catalog and chain, and the API tells clients the token's units: the API, the
seller's and buyer's SDK and the indexer against one in-process chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.api.app import create_app
from kraken_market.ledger.indexer import Indexer
from kraken_market.settings import Settings
from kraken_market.trade.buy import buy_access
from kraken_market.trade.publish import publish_on_chain, sync_on_chain
from tests.cli.test_cli import run
from tests.conftest import person, serving
from tests.factories import product_body
from tests.ledger.conftest import DATA, Market
from tests.trade import test_market_flow as flow

chain, forwarder, indexer, bound = flow.chain, flow.forwarder, flow.indexer, flow.bound


@pytest.fixture
def market_app(
    settings: Settings, engine: Engine, chain: Market, forwarder: flow.RecordingForwarder
) -> FastAPI:
    """The API of ``test_market_flow``, reading the token from the chain's client."""
    return create_app(
        settings,
        engine=engine,
        verifier=chain.as_(2),
        forwarder=forwarder,
        arbiter=flow.Arbiter(chain.arbiter),
        token=chain.as_(0),
    )


def test_the_catalog_shows_the_stake_the_chain_holds(
    market_app: FastAPI, chain: Market, indexer: Indexer
) -> None:
    seller, ledger = bound(market_app, chain, "sam", 7)
    product = seller.api.create_product(product_body("batch", stake="0"))
    assert (product["stake"], product["stake_on_chain"]) == ("0", False)
    # the seller locks another amount than the catalog entry declared
    publish_on_chain(seller.api, ledger, product["id"], stake=15 * DATA, wait=0)
    assert seller.api.product(product["id"])["stake"] == "0"  # not indexed yet
    waiting = seller.api.chain_state(product["id"])  # the page says "waiting for the chain"
    assert waiting["publishing_announced"] and not waiting["published"]
    indexer.poll_once()

    shown = seller.api.product(product["id"])
    assert (shown["stake"], shown["stake_on_chain"]) == (str(15 * DATA), True)
    [found] = [p for p in seller.api.search_products(q="heart")["items"] if p["id"] == shown["id"]]
    assert (found["stake"], found["stake_on_chain"]) == (str(15 * DATA), True)
    state = seller.api.chain_state(product["id"])
    assert state["stake"] == shown["stake"] and state["differs"] == []
    assert state["prices_match"] and state["availability_matches"]
    assert all(not r["changes"].get("stake_on_chain") for r in seller.api.history(product["id"]))

    # an upheld claim slashes the stake: the catalog shows what is left (nothing)
    buyer, buyer_ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    bought = buy_access(buyer.api, buyer_ledger, product["id"], "research")
    indexer.poll_once()
    digest = buyer.api.claim_evidence(bought.purchase_id, product["id"], "empty file")
    buyer_ledger.file_claim(bought.purchase_id, product["id"], bytes.fromhex(digest[2:]))
    person(market_app, "ada", roles=("arbiter",)).api.rule(bought.purchase_id, uphold=True)
    indexer.poll_once()
    shown = seller.api.product(product["id"])
    assert (shown["stake"], shown["stake_on_chain"]) == ("0", True)
    state = seller.api.chain_state(product["id"])
    assert state["quality"] == "slashed"
    # the provenance timeline: every indexed event, oldest first, with time and transaction
    events = state["events"]
    names = [e["name"] for e in events]
    assert names[0] == "ProductPublished" and {"ClaimFiled", "ClaimRuled"} <= set(names)
    assert [e["block"] for e in events] == sorted(e["block"] for e in events)
    assert all(len(e["transaction"]) == 66 and e["at"].endswith("+00:00") for e in events)
    assert events[0]["transaction"] == state["transaction"]


def test_trade_status_names_what_the_catalog_changed_until_it_is_synced(
    market_app: FastAPI, chain: Market, indexer: Indexer
) -> None:
    seller, ledger = bound(market_app, chain, "sam", 7)
    product = seller.api.create_product(product_body("batch"))
    unpublished = seller.api.chain_state(product["id"])
    assert not unpublished["published"] and unpublished["differs"] == []
    assert unpublished["events"] == [] and not unpublished["publishing_announced"]
    publish_on_chain(seller.api, ledger, product["id"], stake=10 * DATA, wait=0)
    indexer.poll_once()
    assert seller.api.chain_state(product["id"])["differs"] == []

    changed = seller.api.update_product(
        product["id"], {"prices": {"access": str(7 * DATA)}, "availability": "paused"}
    )
    assert changed["stake"] == str(10 * DATA)  # an update's answer shows the chain's stake too
    state = seller.api.chain_state(product["id"])
    assert state["differs"] == ["prices", "availability"]
    assert not state["prices_match"] and not state["availability_matches"]
    assert state["metadata_matches"] and state["policy_matches"]
    seller.api.update_product(product["id"], {"title": "Heart rate of runners, 2026"})
    assert seller.api.chain_state(product["id"])["differs"] == [
        "metadata",
        "prices",
        "availability",
    ]

    sync_on_chain(seller.api, ledger, product["id"])
    indexer.poll_once()
    assert seller.api.chain_state(product["id"])["differs"] == []


def test_the_api_tells_clients_the_tokens_units(market_app: FastAPI, chain: Market) -> None:
    answer = TestClient(market_app).get("/api/v1/ledger/token")
    assert answer.status_code == 200
    assert answer.json() == {
        "address": chain.deployment.token,
        "symbol": "DATA",
        "decimals": 18,
    }


def test_without_a_chain_the_token_is_unavailable_and_says_why(settings: Settings) -> None:
    app = create_app(settings)  # reads the chain the settings name: none deployed here
    answer = TestClient(app).get("/api/v1/ledger/token")
    assert answer.status_code == 503
    body = answer.json()
    assert body["code"] == "not_deployed" and "chain deploy" in body["message"]


def test_the_cli_shows_the_chains_stake_the_claims_bonds_and_what_differs(
    market_app: FastAPI,
    chain: Market,
    indexer: Indexer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller, ledger = bound(market_app, chain, "sam", 7)
    product = seller.api.create_product(product_body("batch", stake="0"))["id"]
    publish_on_chain(seller.api, ledger, product, stake=15 * DATA, wait=0)
    buyer, buyer_ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    bought = buy_access(buyer.api, buyer_ledger, product, "research")
    indexer.poll_once()
    digest = buyer.api.claim_evidence(bought.purchase_id, product, "empty file")
    buyer_ledger.file_claim(bought.purchase_id, product, bytes.fromhex(digest[2:]))
    indexer.poll_once()
    seller.api.update_product(product, {"prices": {"access": str(7 * DATA)}})
    with serving(market_app) as url:
        monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("KRAKEN_API_URL", url)
        monkeypatch.setenv("KRAKEN_API_TOKEN", seller.token)
        monkeypatch.delenv("KRAKEN_CONFIG", raising=False)
        status = run("trade", "status", product)
        shown = run("products", "show", product)
        claims = run("trade", "claims", product)
        claims_json = run("trade", "claims", product, "--json")
    code, out, err = status
    assert code == 0, err
    assert "15 DATA" in out and "no: prices differ" in out
    assert f"apply them with 'kraken-market trade sync {product}'" in err
    assert "15 DATA (held on chain)" in shown[1]
    assert "bond DATA" in claims[1] and "│ 5 " in claims[1]  # the claim bond, 5 DATA
    [claim] = json.loads(claims_json[1])
    assert (claim["bond"], claim["bond_data"]) == (str(5 * DATA), "5")
