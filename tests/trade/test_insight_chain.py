"""Insight from a real history: grants through the API's verifier, purchases on an
in-process chain, events stored by the indexer itself (no scripted rows)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web3 import EthereumTesterProvider, Web3

from kraken_market.api.app import create_app
from kraken_market.identity import binding
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.ledger.client import dev_account
from kraken_market.ledger.indexer import Indexer
from kraken_market.ledger.model import ModeCode, Prices, purpose_code
from kraken_market.settings import Settings
from tests.conftest import login, person
from tests.factories import product_body
from tests.ledger.conftest import DATA, PARAMETERS, Market, _deploy

BUYER = 8


@pytest.fixture(scope="module")
def chain() -> Market:
    return _deploy("in-process", Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))))


@pytest.fixture
def market_app(settings: Settings, engine: Engine, chain: Market) -> FastAPI:
    return create_app(settings, engine=engine, verifier=chain.as_(2))


def researcher(app: FastAPI) -> dict[str, str]:
    """A logged-in research-institution buyer bound to dev account 8; its headers."""
    issuer, base = app.state.identity.demo_issuer, app.state.identity.base_url
    key = DidKey.generate()
    held = [
        issuer.issue(CredentialType.PERSON, {"id": key.did, "name": "Rhea"}, registry_url=base),
        issuer.issue(
            CredentialType.BUYER_CATEGORY,
            {"id": key.did, "category": "research-institution"},
            registry_url=base,
        ),
    ]
    headers = {"Authorization": f"Bearer {login(app, key, held)['session_token']}"}
    made = binding.bind(key, dev_account(BUYER), audience=base, now=datetime.now(UTC))
    body = {"binding": made.jws, "account_signature": made.account_signature}
    answer = TestClient(app).post("/api/v1/identity/bindings", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return headers


def test_insight_reads_what_the_indexer_stored(
    market_app: FastAPI, engine: Engine, chain: Market
) -> None:
    seller = person(market_app, "sam")
    http = TestClient(market_app)
    price = 4 * DATA
    product = seller.api.create_product(product_body(prices={"access": str(price)}))["id"]
    partner = seller.api.create_product(product_body())["id"]
    for item in (product, partner):
        chain.funded(chain.seller).publish(
            item, mode=ModeCode.BATCH, prices=Prices(access=price), stake=20 * DATA
        )
    union, _ = chain.seller.propose_union({product: 1, partner: 3})
    headers = researcher(market_app)
    answer = http.post(
        f"/api/v1/products/{product}/grants", json={"purpose": "research"}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    buyer = chain.funded(chain.as_(BUYER))
    buyer.buy_access(product, purpose_code("research"))
    chain.grant(buyer, union, purpose_code("commercial"))
    buyer.buy_access(union, purpose_code("commercial"))
    Indexer(chain.w3, chain.deployment, engine).poll_once()

    answer = http.get(f"/api/v1/products/{product}/insight", headers=seller.headers)
    assert answer.status_code == 200, answer.text
    totals: dict[str, Any] = answer.json()["totals"]

    def net(amount: int) -> int:
        return amount - amount * PARAMETERS["fee_bps"] // 10_000

    union_price, rest = 2 * price, net(2 * price)  # a union costs its members' prices
    ordered = sorted([product, partner], key=lambda i: bytes.fromhex(i[2:]))  # chain order
    share = rest // 4 if ordered[0] == product else rest - rest * 3 // 4
    assert totals["purchases"]["access"] == 2 and totals["purchases"]["via_union"] == 1
    assert totals["union_revenue"] == {"gross": str(union_price // 4), "net": str(share)}
    assert totals["revenue"] == {
        "gross": str(price + union_price // 4), "net": str(net(price) + share),
    }  # fmt: skip
    assert totals["by_category"]["research-institution"] == {
        "purchases": 1, "gross": str(price), "net": str(net(price)),
    }  # fmt: skip
    assert totals["by_category"]["unknown"]["purchases"] == 1  # granted on chain, not by the API
    assert set(totals["by_purpose"]) == {"research", "commercial"}
    assert answer.json()["unions"] == [
        {"union": "0x" + union.hex(), "weight": 1, "total_weight": 4}
    ]
    assert dev_account(BUYER).address not in answer.text


def test_a_computation_is_paid_out_when_the_nodes_attest(
    market_app: FastAPI, engine: Engine, chain: Market
) -> None:
    seller = person(market_app, "sam")
    product = seller.api.create_product(product_body("analytics"))["id"]
    price = 3 * DATA
    chain.funded(chain.seller).publish(
        product, mode=ModeCode.ANALYTICS, prices=Prices(computation=price), stake=20 * DATA
    )
    buyer = chain.funded(chain.as_(BUYER))
    chain.grant(buyer, product, purpose_code("education"))
    request = secrets.token_bytes(32)
    buyer.request_computation(
        request, b"\x01" * 32, [product], purpose_code("education"), b"\x02" * 32
    )
    Indexer(chain.w3, chain.deployment, engine).poll_once()
    http = TestClient(market_app)
    path = f"/api/v1/products/{product}/insight"

    held = http.get(path, headers=seller.headers).json()["totals"]
    assert held["computations"] == {"requested": 1, "delivered": 0, "reclaimed": 0, "refunded": 0}
    assert held["revenue"] == {"gross": "0", "net": "0"}

    for node in (4, 5):
        chain.as_(node).attest(request, secrets.token_bytes(32))
    Indexer(chain.w3, chain.deployment, engine).poll_once()
    paid = http.get(path, headers=seller.headers).json()["totals"]
    net = price - price * PARAMETERS["fee_bps"] // 10_000
    assert paid["computations"] == {"requested": 1, "delivered": 1, "reclaimed": 0, "refunded": 0}
    assert paid["revenue"] == {"gross": str(price), "net": str(net)}
    assert paid["by_purpose"] == {
        "education": {"purchases": 1, "gross": str(price), "net": str(net)}
    }

    refused = secrets.token_bytes(32)
    buyer.request_computation(
        refused, b"\x01" * 32, [product], purpose_code("education"), b"\x02" * 32
    )
    chain.as_(6).refuse(refused, "object_not_found")  # the seller's share file is gone
    Indexer(chain.w3, chain.deployment, engine).poll_once()
    after = http.get(path, headers=seller.headers).json()["totals"]
    assert after["computations"] == {"requested": 2, "delivered": 1, "reclaimed": 0, "refunded": 1}
    assert after["revenue"] == paid["revenue"]  # the refunded one earned nothing
