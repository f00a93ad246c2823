"""The demo issuer over HTTP for the wallet app (identity.demo_issuance): a credential
for the key that proves itself, once per nonce, never a platform role."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.api.app import create_app
from kraken_market.identity import jose
from kraken_market.identity.demo_issuance import PROOF_TYP
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.keys import DidKey
from kraken_market.settings import Settings
from tests.conftest import DeployedToken, login

URL = "/api/v1/demo-issuer/credentials"


def proof(http: TestClient, key: DidKey, **overrides: Any) -> str:
    challenge = http.post("/api/v1/auth/challenge").json()
    payload = {"aud": challenge["audience"], "iat": int(time.time()), "nonce": challenge["nonce"]}
    return jose.sign(key, payload | overrides, PROOF_TYP)


def person_body(http: TestClient, key: DidKey, **overrides: Any) -> dict[str, Any]:
    return {
        "credential": "person",
        "claims": {"name": "Ana Silva"},
        "proof": proof(http, key, **overrides),
    }


def test_a_person_credential_goes_to_the_key_that_proved_itself_and_logs_in(
    app: FastAPI, http: TestClient
) -> None:
    key = DidKey.generate()
    response = http.post(URL, json=person_body(http, key))
    assert response.status_code == 201, response.text
    issued = response.json()
    assert (issued["type"], issued["subject"]) == ("PersonCredential", key.did)
    body = issued["credential"].split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert payload["credentialSubject"] == {"id": key.did, "name": "Ana Silva"}
    session = login(app, key, [issued["credential"]])
    assert (session["did"], session["roles"]) == (key.did, [])
    on_disk = Issuer.open(app.state.identity.demo_issuer.directory)
    assert on_disk.records[issued["id"]].subject == key.did  # revocable from the command line


def test_a_buyer_category_credential_is_offered_too(http: TestClient) -> None:
    key = DidKey.generate()
    body = {
        "credential": "buyer_category",
        "claims": {"category": "research-institution", "organisation": "Uni Graz"},
        "proof": proof(http, key),
    }
    response = http.post(URL, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["type"] == "BuyerCategoryCredential"


def test_a_proof_works_once(http: TestClient) -> None:
    body = person_body(http, DidKey.generate())
    assert http.post(URL, json=body).status_code == 201
    again = http.post(URL, json=body)
    assert (again.status_code, again.json()["code"]) == (401, "nonce_reused")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"aud": "https://elsewhere.example"}, "wrong_audience"),
        ({"iat": int(time.time()) - 3600}, "presentation_expired"),
        ({"nonce": "never-issued"}, "nonce_unknown"),
    ],
)
def test_a_proof_for_elsewhere_old_or_unbound_is_refused(
    http: TestClient, overrides: dict[str, Any], code: str
) -> None:
    response = http.post(URL, json=person_body(http, DidKey.generate(), **overrides))
    assert (response.status_code, response.json()["code"]) == (401, code)


def test_a_proof_signed_by_another_type_of_token_is_refused(http: TestClient) -> None:
    key = DidKey.generate()
    challenge = http.post("/api/v1/auth/challenge").json()
    token = jose.sign(key, {"aud": challenge["audience"], "nonce": challenge["nonce"]}, "vp+jwt")
    response = http.post(
        URL, json={"credential": "person", "claims": {"name": "X"}, "proof": token}
    )
    assert (response.status_code, response.json()["code"]) == (401, "malformed_token")


def test_platform_roles_are_never_offered(http: TestClient) -> None:
    key = DidKey.generate()
    body = {"credential": "platform_role", "claims": {"role": "admin"}, "proof": proof(http, key)}
    response = http.post(URL, json=body)
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


def test_production_has_no_demo_issuer(settings: Settings, engine: Engine) -> None:
    production = settings.model_copy(update={"environment": "production"})
    http = TestClient(create_app(production, engine=engine, token=DeployedToken()))
    response = http.post(URL, json=person_body(http, DidKey.generate()))
    assert (response.status_code, response.json()["code"]) == (403, "demo_issuer_disabled")
