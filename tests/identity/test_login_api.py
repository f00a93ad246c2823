"""Marketplace login over HTTP: sessions, and every refusal with its own code (issue 4,
"Bad input"), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kraken_market.identity import credentials
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.identity.status_list import StatusEntry
from tests.factories import product_body
from tests.identity.conftest import Platform


def refusal(answer: object) -> tuple[int, str]:
    return answer.status_code, answer.json()["code"]  # type: ignore[attr-defined]


def test_login_opens_a_session(platform: Platform) -> None:
    key = DidKey.generate()
    answer = platform.login(platform.presentation(key, [platform.person_credential(key)]))
    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert session["did"] == session["acting_as"] == key.did
    assert session["account"] is None  # no ledger account bound yet
    assert session["session_token"].startswith("kms_")
    me = platform.http.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {session['session_token']}"}
    )
    assert me.json() == {
        "did": key.did,
        "name": "Alice",
        "acting_as": key.did,
        "account": None,
        "company": None,
        "roles": [],
        "scope": ["buy", "manage", "publish"],
    }


def test_the_newest_person_credential_is_the_one_a_session_stands_on(platform: Platform) -> None:
    """Whatever order a wallet presents them in: the newest states what the issuer knows
    now (the first one presented used to win)."""
    key = DidKey.generate()
    old = platform.issuer.issue(
        CredentialType.PERSON,
        {"id": key.did, "name": "Alice Old"},
        registry_url=platform.base,
        valid_from=datetime.now(UTC) - timedelta(days=30),
    )
    new = platform.issuer.issue(
        CredentialType.PERSON, {"id": key.did, "name": "Alice New"}, registry_url=platform.base
    )
    for order in ([old, new], [new, old]):
        answer = platform.login(platform.presentation(key, order))
        assert answer.status_code == 200, answer.text
        bearer = {"Authorization": f"Bearer {answer.json()['session_token']}"}
        assert platform.http.get("/api/v1/auth/me", headers=bearer).json()["name"] == "Alice New"


def test_a_nonce_works_once(platform: Platform) -> None:
    key = DidKey.generate()
    presentation = platform.presentation(key, [platform.person_credential(key)])
    assert platform.login(presentation).status_code == 200
    assert refusal(platform.login(presentation)) == (401, "nonce_reused")
    made_up = platform.presentation(key, [platform.person_credential(key)], nonce="invented")
    assert refusal(platform.login(made_up)) == (401, "nonce_unknown")


def test_a_presentation_for_another_audience_is_refused(platform: Platform) -> None:
    key = DidKey.generate()
    other = platform.presentation(
        key, [platform.person_credential(key)], audience="https://other.example"
    )
    assert refusal(platform.login(other)) == (401, "wrong_audience")


def test_a_presenter_who_is_not_the_subject_is_refused(platform: Platform) -> None:
    alice, mallory = DidKey.generate(), DidKey.generate()
    stolen = platform.person_credential(alice)
    assert refusal(platform.login(platform.presentation(mallory, [stolen]))) == (
        401,
        "holder_mismatch",
    )


def test_self_issued_and_unknown_issuers_are_refused(platform: Platform) -> None:
    key = DidKey.generate()
    mine = credentials.issue(
        key, CredentialType.PERSON, {"id": key.did, "name": "Me"}, valid_from=datetime.now(UTC)
    )
    assert refusal(platform.login(platform.presentation(key, [mine]))) == (401, "untrusted_issuer")
    role = credentials.issue(
        key,
        CredentialType.PLATFORM_ROLE,
        {"id": key.did, "role": "admin"},
        valid_from=datetime.now(UTC),
    )
    both = [platform.person_credential(key), role]
    assert refusal(platform.login(platform.presentation(key, both))) == (401, "untrusted_issuer")


def test_a_person_credential_is_required(platform: Platform) -> None:
    key = DidKey.generate()
    role = platform.issuer.issue(
        CredentialType.PLATFORM_ROLE, {"id": key.did, "role": "arbiter"}, registry_url=platform.base
    )
    assert refusal(platform.login(platform.presentation(key, [role]))) == (
        401,
        "credential_missing",
    )
    both = [platform.person_credential(key), role]
    assert platform.login(platform.presentation(key, both)).json()["roles"] == ["arbiter"]


def test_an_oversized_presentation_is_refused(platform: Platform) -> None:
    key = DidKey.generate()
    huge = platform.presentation(key, [platform.person_credential(key)], nonce="n" * 40_000)
    assert refusal(platform.login(huge)) == (401, "token_too_large")


def test_revocation_takes_effect_at_the_next_sensitive_request(platform: Platform) -> None:
    key = DidKey.generate()
    credential = platform.person_credential(key)
    session = platform.login(platform.presentation(key, [credential])).json()
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    assert (
        platform.http.post("/api/v1/products", json=product_body(), headers=headers).status_code
        == 201
    )

    checked = credentials.verify(
        credential, platform.app.state.identity.resolver, datetime.now(UTC)
    )
    platform.issuer.revoke(checked.id)
    listed = platform.publish(platform.issuer)
    assert listed["revoked_count"] == 1

    before = platform.http.get("/api/v1/products").json()["items"]
    answer = platform.http.post(
        "/api/v1/products", json=product_body(title="Later"), headers=headers
    )
    assert refusal(answer) == (401, "credential_revoked")
    assert platform.http.get("/api/v1/products").json()["items"] == before  # nothing changed
    ended = platform.http.get("/api/v1/auth/me", headers=headers)
    assert refusal(ended) == (401, "session_ended")  # and why, for the page to tell
    assert ended.json()["details"] == {"reason": "credential_revoked"}
    again = platform.login(platform.presentation(key, [credential]))
    assert refusal(again) == (401, "credential_revoked")


def test_a_status_list_that_cannot_be_read_fails_closed(platform: Platform) -> None:
    key = DidKey.generate()
    for url in (
        "http://127.0.0.1:9/api/v1/status-lists/elsewhere",  # remote, unreachable
        platform.base + "/api/v1/status-lists/0000000000000000-missing",  # ours, unknown
    ):
        credential = credentials.issue(
            platform.issuer.key,
            CredentialType.PERSON,
            {"id": key.did, "name": "Alice"},
            valid_from=datetime.now(UTC),
            status=StatusEntry(url, 3),
        )
        answer = platform.login(platform.presentation(key, [credential]))
        assert refusal(answer) == (503, "status_unavailable"), url


def test_refresh_rotates_and_logout_ends_the_session(platform: Platform) -> None:
    key = DidKey.generate()
    first = platform.login(platform.presentation(key, [platform.person_credential(key)])).json()
    second = platform.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    renewed = second.json()
    assert renewed["session_token"] != first["session_token"]
    again = platform.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert refusal(again) == (401, "session_invalid")
    old = {"Authorization": f"Bearer {first['session_token']}"}
    assert refusal(platform.http.get("/api/v1/auth/me", headers=old)) == (401, "session_invalid")
    headers = {"Authorization": f"Bearer {renewed['session_token']}"}
    assert platform.http.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert platform.http.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert refusal(platform.http.get("/api/v1/auth/me", headers=headers)) == (
        401,
        "session_invalid",
    )
    refreshed = platform.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": renewed["refresh_token"]}
    )
    assert refusal(refreshed) == (401, "session_invalid")


def _sessions(platform: Platform) -> int:
    from sqlalchemy import func, select

    from kraken_market.identity.models import AuthSession

    with platform.app.state.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuthSession)) or 0)


def _forge(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{signature[::-1]}"


def _b64(value: dict[str, object]) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_every_bad_presentation_has_its_code_and_changes_nothing(platform: Platform) -> None:
    from datetime import timedelta

    key = DidKey.generate()
    good = platform.person_credential(key)
    now = datetime.now(UTC)

    def issued(**when: datetime) -> str:
        return credentials.issue(
            platform.issuer.key,
            CredentialType.PERSON,
            {"id": key.did, "name": "Alice"},
            valid_from=when.get("valid_from", now - timedelta(days=1)),
            valid_until=when.get("valid_until"),
        )

    cases = {
        "invalid_signature": platform.presentation(key, [_forge(good)]),
        "credential_expired": platform.presentation(
            key, [issued(valid_until=now - timedelta(hours=1))]
        ),
        "credential_not_yet_valid": platform.presentation(
            key, [issued(valid_from=now + timedelta(hours=1))]
        ),
    }
    payload = platform.presentation(key, [good]).split(".")[1]
    cases["unsupported_algorithm"] = (
        _b64({"alg": "none", "typ": "vp+jwt", "kid": key.kid}) + f".{payload}."
    )
    cases["invalid_did"] = (
        _b64({"alg": "Ed25519", "typ": "vp+jwt", "kid": "did:key:zBAD#x"}) + f".{payload}.AAAA"
    )
    cases["malformed_token"] = "not.a-token"
    before = _sessions(platform)
    for code, presentation in cases.items():
        answer = platform.login(presentation)
        assert answer.json()["code"] == code, (code, answer.text)
        assert answer.status_code in (401, 422)
    assert _sessions(platform) == before
