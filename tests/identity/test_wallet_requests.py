"""Signatures asked of a signed-in person's wallet (identity.wallet_requests): the page
asks, the wallet reads a signed request and answers, the page learns the outcome."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from eth_account import Account as EthAccount
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kraken_market.identity import binding
from kraken_market.identity.dids import key_of_did_key
from kraken_market.identity.keys import DidKey
from tests.conftest import Account, person

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def ask(http: TestClient, who: Account) -> dict[str, Any]:
    created = http.post(
        "/api/v1/wallet-requests", json={"kind": "bind_account"}, headers=who.headers
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def request_claims(http: TestClient, created: dict[str, Any]) -> dict[str, Any]:
    token = http.get(urlsplit(created["request_uri"]).path).text
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def answer(http: TestClient, claims: dict[str, Any], **fields: str) -> Any:
    return http.post(
        urlsplit(claims["response_uri"]).path,
        data={"state": claims["state"], **fields},
        headers=FORM,
    )


def outcome(http: TestClient, created: dict[str, Any]) -> Any:
    return http.post(
        "/api/v1/wallet-requests/result", json={"transaction_id": created["transaction_id"]}
    )


def signed_binding(app: FastAPI, key: DidKey) -> binding.Binding:
    audience = app.state.identity.base_url
    return binding.bind(key, EthAccount.create(), audience=audience, now=datetime.now(UTC))


def test_the_wallet_binds_the_account_the_page_asked_for(app: FastAPI, http: TestClient) -> None:
    ana = person(app, "Ana")
    created = ask(http, ana)
    assert created["wallet_url"].startswith("openid4vp://?client_id=decentralized_identifier%3A")
    assert parse_qs(urlsplit(created["wallet_url"]).query)["request_uri"] == [
        created["request_uri"]
    ]
    assert (outcome(http, created).status_code, outcome(http, created).json()["status"]) == (
        202,
        "pending",
    )
    claims = request_claims(http, created)
    assert claims["response_type"] == "kraken_signature"
    assert claims["signing_request"] == {
        "kind": "bind_account",
        "did": ana.key.did,
        "audience": app.state.identity.base_url,
    }
    assert claims["client_id"].startswith("decentralized_identifier:did:key:")
    made = signed_binding(app, ana.key)
    done = answer(http, claims, binding=made.jws, account_signature=made.account_signature)
    assert (done.status_code, done.json()) == (200, {})
    assert outcome(http, created).json() == {
        "status": "done",
        "kind": "bind_account",
        "account": made.account,
        "transaction_hash": None,
        "transaction_status": None,
        "signature": None,
        "code": None,
        "message": None,
    }
    assert http.get(f"/api/v1/identity/bindings/{ana.key.did}").json()["account"] == made.account
    again = answer(http, claims, binding=made.jws, account_signature=made.account_signature)
    assert (again.status_code, again.json()["code"]) == (400, "request_answered")
    closed = http.get(urlsplit(created["request_uri"]).path)
    assert (closed.status_code, closed.json()["code"]) == (410, "request_closed")


def test_the_request_is_signed_by_the_marketplaces_key(app: FastAPI, http: TestClient) -> None:
    created = ask(http, person(app, "Ana"))
    token = http.get(urlsplit(created["request_uri"]).path).text
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    claims = request_claims(http, created)
    signer = claims["client_id"].removeprefix("decentralized_identifier:")
    assert header["kid"].startswith(signer) and header["typ"] == "oauth-authz-req+jwt"
    assert len(key_of_did_key(signer)) == 32


def test_only_the_person_who_asked_can_be_bound(app: FastAPI, http: TestClient) -> None:
    ana, eve = person(app, "Ana"), person(app, "Eve")
    created = ask(http, ana)
    claims = request_claims(http, created)
    made = signed_binding(app, eve.key)
    refused = answer(http, claims, binding=made.jws, account_signature=made.account_signature)
    assert (refused.status_code, refused.json()["code"]) == (401, "holder_mismatch")
    told = outcome(http, created).json()
    assert (told["status"], told["code"]) == ("refused", "holder_mismatch")
    assert http.get(f"/api/v1/identity/bindings/{ana.key.did}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"binding": "not-a-jws", "account_signature": "0x00"}, "malformed_token"),
        ({"error": "access_denied"}, None),
    ],
)
def test_a_bad_or_declined_answer_is_told_to_the_page(
    app: FastAPI, http: TestClient, fields: dict[str, str], code: str | None
) -> None:
    created = ask(http, person(app, "Ana"))
    answered = answer(http, request_claims(http, created), **fields)
    told = outcome(http, created).json()
    assert told["status"] == "refused"
    if code is None:
        assert answered.status_code == 200 and told["code"] == "wallet_declined"
    else:
        assert (answered.status_code, answered.json()["code"], told["code"]) == (401, code, code)


def test_a_wrong_state_changes_nothing(app: FastAPI, http: TestClient) -> None:
    ana = person(app, "Ana")
    created = ask(http, ana)
    claims = request_claims(http, created) | {"state": "forged"}
    made = signed_binding(app, ana.key)
    refused = answer(http, claims, binding=made.jws, account_signature=made.account_signature)
    assert (refused.status_code, refused.json()["code"]) == (400, "state_mismatch")
    assert outcome(http, created).json()["status"] == "pending"


def test_asking_needs_a_session_and_a_known_transaction(http: TestClient) -> None:
    anonymous = http.post("/api/v1/wallet-requests", json={"kind": "bind_account"})
    assert anonymous.status_code == 401
    unknown = http.post("/api/v1/wallet-requests/result", json={"transaction_id": "nope"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "transaction_unknown")
