"""POST /api/v1/products/{id}/grants: credentials checked against the policy, the grant
recorded on an in-process chain by the verifier key, for the buyer's bound account."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_tester import EthereumTester, PyEVMBackend
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web3 import EthereumTesterProvider, Web3

from kraken_market.api.app import create_app
from kraken_market.files import write_private
from kraken_market.identity import binding
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.ledger.model import purpose_code
from kraken_market.settings import Settings
from tests.conftest import login, person
from tests.factories import product_body
from tests.ledger.conftest import Market, _deploy


@pytest.fixture(scope="module")
def chain() -> Market:
    return _deploy("in-process", Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))))


@pytest.fixture
def market_app(settings: Settings, engine: Engine, chain: Market) -> FastAPI:
    return create_app(settings, engine=engine, verifier=chain.as_(2))


def buyer(app: FastAPI, country: str | None = "DE", category: str = "research-institution"):
    """A logged-in researcher with a bound ledger account."""
    issuer, base = app.state.identity.demo_issuer, app.state.identity.base_url
    key = DidKey.generate()
    subject = {"id": key.did, "name": "Rhea", **({"country": country} if country else {})}
    held = [
        issuer.issue(CredentialType.PERSON, subject, registry_url=base),
        issuer.issue(
            CredentialType.BUYER_CATEGORY, {"id": key.did, "category": category}, registry_url=base
        ),
    ]
    session = login(app, key, held)
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    account = Account.create()
    made = binding.bind(key, account, audience=base, now=datetime.now(UTC))
    http = TestClient(app)
    body = {"binding": made.jws, "account_signature": made.account_signature}
    assert http.post("/api/v1/identity/bindings", json=body, headers=headers).status_code == 201
    return headers, account.address


def code(answer: Any) -> tuple[int, str]:
    return answer.status_code, answer.json()["code"]


def test_an_eligible_buyer_gets_a_grant_on_chain(market_app: FastAPI, chain: Market) -> None:
    seller = person(market_app, "sam")
    policy = {
        "purposes": ["research"],
        "buyer_categories": ["research-institution"],
        "regions": ["EU"],
    }
    product = seller.api.create_product(product_body(policy=policy))
    headers, account = buyer(market_app)
    http = TestClient(market_app)
    answer = http.post(
        f"/api/v1/products/{product['id']}/grants", json={"purpose": "research"}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    granted = answer.json()
    assert granted["account"] == account
    assert granted["transaction"].startswith("0x")
    assert chain.as_(2).has_grant(account, product["id"], purpose_code("research"))
    assert not chain.as_(2).has_grant(account, product["id"], purpose_code("marketing"))


def test_refusals_record_nothing(market_app: FastAPI, chain: Market, tmp_path: Path) -> None:
    seller = person(market_app, "sam")
    product = seller.api.create_product(
        product_body(policy={"purposes": ["research"], "regions": ["EU"]})
    )
    url = f"/api/v1/products/{product['id']}/grants"
    http = TestClient(market_app)
    headers, account = buyer(market_app)
    assert code(http.post(url, json={"purpose": "marketing"}, headers=headers)) == (
        403,
        "not_eligible",
    )
    abroad, abroad_account = buyer(market_app, country="US")
    assert code(http.post(url, json={"purpose": "research"}, headers=abroad)) == (
        403,
        "not_eligible",
    )
    nowhere = person(market_app, "una")  # no country in the PersonCredential: not in the EU
    assert code(http.post(url, json={"purpose": "research"}, headers=nowhere.headers)) == (
        403,
        "not_eligible",
    )
    seller.api.update_product(product["id"], {"availability": "paused"})
    assert code(http.post(url, json={"purpose": "research"}, headers=headers)) == (
        409,
        "product_not_for_sale",
    )
    assert code(http.post(url, json={"purpose": "research"})) == (401, "unauthenticated")
    seller.api.update_product(product["id"], {"availability": "listed"})
    assert code(http.post(url, json={"purpose": "research"}, headers=seller.headers)) == (
        409,
        "own_product",  # a sale to oneself only lets a seller approve its own stake
    )
    for who in (account, abroad_account):
        assert not chain.as_(2).has_grant(who, product["id"], purpose_code("research"))


def test_a_buyer_without_a_binding_is_told_to_bind(market_app: FastAPI) -> None:
    seller = person(market_app, "sam")
    product = seller.api.create_product(product_body())
    shopper = person(market_app, "una")
    answer = TestClient(market_app).post(
        f"/api/v1/products/{product['id']}/grants",
        json={"purpose": "research"},
        headers=shopper.headers,
    )
    assert code(answer) == (409, "binding_required")


def test_without_a_verifier_the_grant_is_unavailable(settings: Settings, engine: Engine) -> None:
    production_like = settings.model_copy(update={"chain_url": "http://127.0.0.1:9"})
    app = create_app(production_like, engine=engine)
    assert app.state.verifier is None
    seller = person(app, "sam")
    product = seller.api.create_product(product_body())
    headers, _ = buyer(app)
    answer = TestClient(app).post(
        f"/api/v1/products/{product['id']}/grants", json={"purpose": "research"}, headers=headers
    )
    assert code(answer) == (503, "verifier_unavailable")


def test_an_unreachable_chain_is_a_clear_503(settings: Settings, engine: Engine) -> None:
    key_file = settings.data_dir / "keys" / "verifier.key"  # as 'up' makes it
    write_private(key_file, bytes(Account.create().key).hex())
    app = create_app(settings.model_copy(update={"chain_port": 9}), engine=engine)
    seller = person(app, "sam")
    product = seller.api.create_product(product_body())
    headers, _ = buyer(app)
    answer = TestClient(app).post(
        f"/api/v1/products/{product['id']}/grants", json={"purpose": "research"}, headers=headers
    )
    assert answer.status_code == 503, answer.text
    assert answer.json()["code"] == "not_deployed"  # nothing deployed in this data dir


def test_a_person_credential_with_a_country_counts_after_one_without(
    market_app: FastAPI, chain: Market, tmp_path: Path
) -> None:
    """Step by step: a buyer's first PersonCredential names no
    country and a region policy refuses them; the issuer gives them one that does, the
    wallet keeps both and presents both (oldest first), and the next login must stand on
    the newer one. The verifier used to keep only the first PersonCredential presented."""
    from datetime import timedelta

    from kraken_market.identity.wallet import Wallet

    seller = person(market_app, "sam")
    policy = {"purposes": ["research"], "regions": ["EU"]}
    product = seller.api.create_product(product_body(policy=policy))
    url = f"/api/v1/products/{product['id']}/grants"
    issuer, base = market_app.state.identity.demo_issuer, market_app.state.identity.base_url
    wallet = Wallet.create(tmp_path / "wallet.json", "a long passphrase", work_factor=2**10)
    earlier = datetime.now(UTC) - timedelta(days=1)
    wallet.add_credential(
        issuer.issue(
            CredentialType.PERSON, {"id": wallet.did, "name": "Rhea"}, registry_url=base,
            valid_from=earlier,
        )
    )  # fmt: skip
    http = TestClient(market_app)

    def login_with_wallet() -> dict[str, str]:
        challenge = http.post("/api/v1/auth/challenge").json()
        presentation = wallet.present(challenge["audience"], challenge["nonce"])
        answer = http.post("/api/v1/auth/login", json={"presentation": presentation})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['session_token']}"}

    headers = login_with_wallet()
    keys = wallet.keys
    made = binding.bind(keys.did_key, keys.account, audience=base, now=datetime.now(UTC))
    body = {"binding": made.jws, "account_signature": made.account_signature}
    assert http.post("/api/v1/identity/bindings", json=body, headers=headers).status_code == 201
    refused = http.post(url, json={"purpose": "research"}, headers=headers)
    assert code(refused) == (403, "not_eligible")
    assert refused.json()["details"] == {"rule": "region", "allowed": ["EU"], "yours": None}
    assert "names no country" in refused.json()["message"]

    wallet.add_credential(
        issuer.issue(
            CredentialType.PERSON, {"id": wallet.did, "name": "Rhea", "country": "DE"},
            registry_url=base,
        )
    )  # fmt: skip
    assert [c.subject.get("country") for c in wallet.credentials()] == [None, "DE"]
    headers = login_with_wallet()
    answer = http.post(url, json={"purpose": "research"}, headers=headers)
    assert answer.status_code == 201, answer.text
    assert chain.as_(2).has_grant(wallet.address, product["id"], purpose_code("research"))


def test_eligibility_says_what_buying_would_be_refused_with_and_records_nothing(
    market_app: FastAPI, chain: Market
) -> None:
    seller = person(market_app, "sam")
    policy = {"purposes": ["research"], "regions": ["EU"]}
    product = seller.api.create_product(product_body(policy=policy))
    http = TestClient(market_app)
    url = f"/api/v1/products/{product['id']}/eligibility"

    def refusal(
        headers: dict[str, str], purpose: str = "research", item: str = product["id"]
    ) -> str | None:
        answer = http.get(
            f"/api/v1/products/{item}/eligibility", params={"purpose": purpose}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["eligible"] is (body["refusal"] is None)
        return None if body["refusal"] is None else body["refusal"]["code"]

    headers, account = buyer(market_app)
    # Everything a grant checks passes; the product is not on chain yet, so not for sale.
    answer = http.get(url, params={"purpose": "research"}, headers=headers).json()
    assert answer["refusal"]["code"] == "product_not_for_sale"
    assert answer["refusal"]["details"] == {"product": product["id"], "published": False}
    assert refusal(headers, "marketing") == "not_eligible"
    abroad, _ = buyer(market_app, country="US")
    assert refusal(abroad) == "not_eligible"
    una = person(market_app, "una")  # no country, no binding: the policy is checked first
    assert refusal(una.headers) == "not_eligible"
    anywhere = seller.api.create_product(product_body(policy={"purposes": ["research"]}))
    assert refusal(una.headers, item=anywhere["id"]) == "binding_required"
    assert refusal(seller.headers) == "own_product"
    assert http.get(url, params={"purpose": "research"}).status_code == 401
    missing = "/api/v1/products/0x" + "00" * 32 + "/eligibility"
    assert http.get(missing, params={"purpose": "research"}, headers=headers).status_code == 404
    assert not chain.as_(2).has_grant(account, product["id"], purpose_code("research"))
