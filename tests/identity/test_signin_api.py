"""Sign-in with OpenID4VP over HTTP: the request object, the wallet's answer, the
result, browser sessions in cookies and the CSRF header (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from tests.conftest import Account as Person
from tests.identity.conftest import Platform
from tests.identity.signin_kit import REQUESTS, SigninKit, response_code
from tests.identity.test_attorney_api import register


def refusal(answer: Any) -> tuple[int, str]:
    return answer.status_code, answer.json()["code"]


def _part(part: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return value


def _claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return _part(header), _part(payload)


def test_a_cross_device_sign_in_opens_a_session_once(platform: Platform) -> None:
    kit, key = SigninKit(platform), DidKey.generate()
    created = kit.start()
    pending = kit.result(created)
    assert (pending.status_code, pending.json()["status"]) == (202, "pending")
    answer = kit.answer(created, key, {"person": [platform.person_credential(key)]})
    assert (answer.status_code, answer.json()) == (200, {})
    done = kit.result(created)
    assert done.status_code == 200, done.text
    session = done.json()["session"]
    assert done.json()["status"] == "signed_in" and session["did"] == key.did
    bearer = {"Authorization": f"Bearer {session['session_token']}"}
    assert platform.http.get("/api/v1/auth/me", headers=bearer).json()["name"] == "Alice"
    assert refusal(kit.result(created)) == (409, "result_redeemed")


def test_the_request_object_is_signed_by_the_client_id_did(platform: Platform) -> None:
    kit = SigninKit(platform)
    company = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    created = kit.start(act_for=company)
    link = parse_qs(urlsplit(created["wallet_url"]).query)
    assert created["wallet_url"].startswith("openid4vp://?client_id=decentralized_identifier%3A")
    assert link["request_uri"] == [created["request_uri"]]
    assert created["request_uri"].endswith(f"{REQUESTS}/{created['request_id']}")
    fetched = platform.http.get(urlsplit(created["request_uri"]).path)
    assert fetched.headers["content-type"] == "application/oauth-authz-req+jwt"
    header, claims = _claims(fetched.text)
    assert header["typ"] == "oauth-authz-req+jwt"
    assert header["kid"].startswith(claims["client_id"].removeprefix("decentralized_identifier:"))
    assert link["client_id"] == [claims["client_id"]]
    assert claims["response_type"] == "vp_token" and claims["response_mode"] == "direct_post"
    assert claims["response_uri"] == created["request_uri"] + "/response"
    assert claims["aud"] == "https://self-issued.me/v2"
    assert claims["client_metadata"]["vp_formats_supported"]["jwt_vc_json"]
    queries = {q["id"]: q for q in claims["dcql_query"]["credentials"]}
    assert set(queries) == {"person", "attorney", "platform_role", "buyer_category"}
    assert queries["attorney"]["claims"][0]["values"] == [company]
    optional = [s for s in claims["dcql_query"]["credential_sets"] if s.get("required") is False]
    assert sorted(s["options"][0][0] for s in optional) == ["buyer_category", "platform_role"]
    kit.request(created)  # the wallet's own checks: signature by the client_id's DID
    assert refusal(platform.http.get(f"{REQUESTS}/nosuchrequest")) == (404, "request_unknown")


def test_an_answer_is_taken_once(platform: Platform) -> None:
    kit, key = SigninKit(platform), DidKey.generate()
    created = kit.start()
    request = kit.request(created)
    vp = {"person": [kit.present(key, [platform.person_credential(key)], request)]}
    assert kit.post(request, vp).status_code == 200
    assert refusal(kit.post(request, vp)) == (400, "request_answered")
    closed = platform.http.get(urlsplit(created["request_uri"]).path)
    assert (closed.status_code, closed.json()["details"]) == (410, {"reason": "answered"})


def test_bad_answers_change_nothing(platform: Platform) -> None:
    kit, key, other = SigninKit(platform), DidKey.generate(), DidKey.generate()
    created = kit.start()
    request = kit.request(created)
    mine = platform.person_credential(key)
    good = {"person": [kit.present(key, [mine], request)]}
    assert refusal(kit.post(request, good, state="forged")) == (400, "state_mismatch")
    foreign = {"person": [kit.present(key, [mine], request, audience="https://other.example")]}
    assert refusal(kit.post(request, foreign)) == (401, "wrong_audience")
    stale = {"person": [kit.present(key, [mine], request, nonce="another-request")]}
    assert refusal(kit.post(request, stale)) == (400, "nonce_mismatch")
    theirs = kit.present(other, [platform.person_credential(other)], request)
    mixed = {"person": [kit.present(key, [mine], request)], "platform_role": [theirs]}
    assert refusal(kit.post(request, mixed)) == (401, "holder_mismatch")
    assert refusal(kit.post(request, {"nobody": ["x"]})) == (400, "vp_token_invalid")
    assert refusal(kit.post(request, {"platform_role": [theirs]})) == (400, "vp_token_invalid")
    assert kit.result(created).status_code == 202  # still pending: nothing was used up
    assert kit.post(request, good).status_code == 200
    assert kit.result(created).json()["status"] == "signed_in"


def test_a_refused_credential_tells_the_page_why(platform: Platform) -> None:
    kit, key = SigninKit(platform), DidKey.generate()
    created = kit.start()
    stranger = platform.company("stranger")  # not a trusted issuer of PersonCredentials
    forged = stranger.issue(
        CredentialType.PERSON, {"id": key.did, "name": "Mallory"}, registry_url=platform.base
    )
    assert refusal(kit.answer(created, key, {"person": [forged]})) == (401, "untrusted_issuer")
    result = kit.result(created)
    assert result.status_code == 200
    assert result.json()["status"] == "refused" and result.json()["code"] == "untrusted_issuer"


def test_a_wallet_that_declines_ends_the_request(platform: Platform) -> None:
    kit = SigninKit(platform)
    created = kit.start()
    request = kit.request(created)
    path = urlsplit(request.response_uri).path
    form = {"state": request.state, "error": "access_denied"}
    assert platform.http.post(path, data=form).status_code == 200
    assert kit.result(created).json()["code"] == "wallet_declined"


def test_acting_for_a_company_needs_its_attorney_credential(
    platform: Platform, admin: Person
) -> None:
    kit, key = SigninKit(platform), DidKey.generate()
    company = platform.company("acme")
    register(platform, admin, company)
    person = platform.person_credential(key)
    created = kit.start(act_for=company.did)
    assert refusal(kit.answer(created, key, {"person": [person]})) == (400, "vp_token_invalid")
    attorney = platform.attorney(company, key, ["buy"])
    answer = kit.answer(created, key, {"person": [person], "attorney": [attorney]})
    assert answer.status_code == 200, answer.text
    session = kit.result(created).json()["session"]
    assert session["company"] == session["acting_as"] == company.did


def test_same_device_needs_the_wallets_response_code(platform: Platform) -> None:
    """A request started in one browser and answered by another person's wallet never
    yields a session without the code that wallet sent to its own browser (§14.2)."""
    kit, key = SigninKit(platform), DidKey.generate()
    created = kit.start("same_device")
    answer = kit.answer(created, key, {"person": [platform.person_credential(key)]})
    redirect = answer.json()["redirect_uri"]
    assert redirect.startswith(platform.base + "/signin/complete#response_code=")
    assert refusal(kit.result(created)) == (400, "response_code_mismatch")
    assert refusal(kit.result(created, "guessed")) == (400, "response_code_mismatch")
    done = kit.result(created, response_code(answer), deliver="cookie")
    assert done.status_code == 200 and done.json()["session"]["did"] == key.did
    assert refusal(kit.result(created, response_code(answer))) == (409, "result_redeemed")
