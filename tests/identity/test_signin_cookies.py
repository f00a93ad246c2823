"""Browser sessions in cookies: their attributes, the CSRF header on cookie writes (and
not on Bearer ones), refresh by cookie, logout clearing them, and the reason a
session ended (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.testclient import TestClient

from kraken_market.api.app import create_app
from kraken_market.api.cookies import set_session_cookies
from kraken_market.db.base import utcnow
from kraken_market.identity import credentials
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.keys import DidKey
from kraken_market.identity.service import Opened
from kraken_market.settings import Settings
from tests.conftest import DeployedToken
from tests.factories import product_body
from tests.identity.conftest import Platform
from tests.identity.signin_kit import SigninKit

CSRF = {"X-Kraken-CSRF": "1"}


def cookies_of(answer: Any) -> dict[str, str]:
    """Set-Cookie headers by cookie name, lower-cased."""
    headers = answer.headers.get_list("set-cookie")
    return {h.split("=", 1)[0]: h.lower() for h in headers}


def signed_in(platform: Platform, key: DidKey) -> Any:
    """Sign in through ``platform.http``, which keeps the cookies; the result's answer."""
    kit = SigninKit(platform)
    created = kit.start()
    answer = kit.answer(created, key, {"person": [platform.person_credential(key)]})
    assert answer.status_code == 200, answer.text
    return kit.result(created, deliver="cookie")


def test_the_session_is_delivered_as_httponly_strict_cookies(platform: Platform) -> None:
    done = signed_in(platform, DidKey.generate())
    assert done.status_code == 200, done.text
    session = done.json()["session"]
    assert session["session_token"] is None and session["refresh_token"] is None
    cookies = cookies_of(done)
    assert set(cookies) == {"kraken_session", "kraken_refresh"}
    for text in cookies.values():
        assert "httponly" in text and "samesite=strict" in text
        assert "secure" not in text  # the test API's URL is http
    assert "path=/api;" in cookies["kraken_session"] + ";"
    assert "path=/api/v1/auth/refresh" in cookies["kraken_refresh"]
    assert "max-age=900" in cookies["kraken_session"]


def test_cookies_are_secure_when_the_api_is_https(tmp_path: Any) -> None:
    settings = Settings(data_dir=tmp_path / "data", environment="test", api_url="https://m.example")
    app = create_app(settings, token=DeployedToken())
    scope = {"type": "http", "app": app, "headers": [], "method": "GET", "path": "/"}
    response = Response()
    opened = Opened(session=None, session_token="kms_x", refresh_token="kmr_y")  # type: ignore[arg-type]
    set_session_cookies(Request(scope), response, opened)
    assert all("secure" in h.lower() for h in response.headers.getlist("set-cookie"))


def test_cookie_writes_need_the_csrf_header_and_bearer_ones_do_not(platform: Platform) -> None:
    key = DidKey.generate()
    signed_in(platform, key)
    http = platform.http  # holds the cookies now
    assert http.get("/api/v1/auth/me").json()["did"] == key.did  # reads need no header
    refused = http.post("/api/v1/products", json=product_body())
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_header_missing")
    assert http.get("/api/v1/products").json()["items"] == []  # nothing was written
    made = http.post("/api/v1/products", json=product_body(), headers=CSRF)
    assert made.status_code == 201, made.text
    other = DidKey.generate()
    with TestClient(platform.app) as cli:  # a Bearer client (CLI, SDK): no CSRF header
        kit = SigninKit(platform, cli)
        created = kit.start()
        kit.answer(created, other, {"person": [platform.person_credential(other)]})
        token = kit.result(created).json()["session"]["session_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        answer = cli.post("/api/v1/products", json=product_body(), headers=bearer)
        assert answer.status_code == 201, answer.text


def test_refresh_by_cookie_rotates_both_and_logout_clears_them(platform: Platform) -> None:
    key = DidKey.generate()
    signed_in(platform, key)
    http = platform.http
    first = dict(http.cookies)
    refused = http.post("/api/v1/auth/refresh")
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf_header_missing")
    renewed = http.post("/api/v1/auth/refresh", headers=CSRF)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["session_token"] is None
    assert set(cookies_of(renewed)) == {"kraken_session", "kraken_refresh"}
    assert dict(http.cookies) != first
    assert http.get("/api/v1/auth/me").status_code == 200
    ended = http.post("/api/v1/auth/logout", headers=CSRF)
    assert ended.status_code == 204
    assert all("max-age=0" in c for c in cookies_of(ended).values())
    assert not http.cookies
    stale = {"Authorization": f"Bearer {first['kraken_session']}"}
    assert http.get("/api/v1/auth/me", headers=stale).status_code == 401


def test_a_revoked_credential_ends_the_session_and_says_why(platform: Platform) -> None:
    key = DidKey.generate()
    credential = platform.person_credential(key)
    kit = SigninKit(platform)
    created = kit.start()
    kit.answer(created, key, {"person": [credential]})
    token = kit.result(created).json()["session"]["session_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    platform.issuer.revoke(credentials.verify(credential, DidResolver(), utcnow()).id)
    platform.publish(platform.issuer)
    first = platform.http.post("/api/v1/products", json=product_body(), headers=bearer)
    assert first.json()["code"] == "credential_revoked"
    after = platform.http.get("/api/v1/auth/me", headers=bearer)
    assert after.status_code == 401
    assert (after.json()["code"], after.json()["details"]) == (
        "session_ended",
        {"reason": "credential_revoked"},
    )


def test_the_register_reads_the_cookie_session_like_a_bearer_one(platform: Platform) -> None:
    """KCIT's reads that show more to some (a pending company to its representative,
    every status to admins) know the web apps' cookie session, not only Bearer."""
    key = DidKey.generate()
    assert signed_in(platform, key).status_code == 200
    http = platform.http  # holds the cookies now
    company = DidKey.generate().did
    body = {"did": company, "legal_name": "Pending GmbH", "country": "DE", "lei": None}
    body["registration_number"] = "HRB 1"
    registered = http.post("/api/v1/companies", json=body, headers=CSRF)
    assert registered.status_code == 201, registered.text
    assert registered.json()["status"] == "pending"
    assert http.get(f"/api/v1/companies/{company}").status_code == 200  # its representative
    with TestClient(http.app) as anonymous:
        assert anonymous.get(f"/api/v1/companies/{company}").status_code == 404
    with TestClient(http.app, cookies={"kraken_session": "not-a-session"}) as stale:
        refused = stale.get(f"/api/v1/companies/{company}")
    assert (refused.status_code, refused.json()["code"]) == (401, "session_invalid")
