"""The server-rendered pages: log in with a form, see and change the authorisations."""

from __future__ import annotations

import re

import httpx2

from kraken_market.depute import client
from kraken_market.depute.deps import COOKIE
from tests import served
from tests.api.test_docs import check_docs_page
from tests.depute.conftest import Rig


def test_pages_show_the_authorisations(rig: Rig) -> None:
    with served.client(base_url=rig.url) as browser:  # keeps the session cookie
        browse(rig, browser)


def browse(rig: Rig, browser: httpx2.Client) -> None:
    rita = rig.person("Rita")
    rig.register(rita.did)
    # not logged in: to the login page, which shows a challenge
    assert browser.get("/").headers["location"] == "/login"
    login_page = browser.get("/login")
    assert login_page.status_code == 200
    nonce = re.search(r"nonce: <code>([^<]+)</code>", login_page.text)
    assert nonce is not None
    # log in with the form, signing for the challenge the page showed
    signed = client.present(
        rita.key,
        [rita.credential],
        audience=rig.url,
        nonce=nonce.group(1),
    )
    form = browser.post("/login", data={"presentation": signed}, headers={"Origin": rig.url})
    assert form.status_code == 303, form.text
    cookie = form.cookies[COOKIE]
    assert "httponly" in form.headers["set-cookie"].lower()

    bob, eve = rig.person("Bob"), rig.person("Eve")
    authorised = browser.post(
        "/authorise",
        data={"employee_did": bob.did, "scope": ["publish", "buy"], "roles": "analyst, ops"},
    )
    assert authorised.status_code == 303, authorised.text
    invited = browser.post("/invite", data={"scope": ["publish"]})
    assert invited.status_code == 200, invited.text
    assert "<svg" in invited.text
    link = re.search(r"<code>(http://[^<]+/invitations/[^<]+)</code>", invited.text)
    assert link is not None
    offer = browser.get(link.group(1).removeprefix(rig.url))
    assert "kraken-market wallet accept" in offer.text
    client.accept_invitation(link.group(1), eve.key, eve.credential)

    page = browser.get("/")
    assert page.status_code == 200
    assert bob.did in page.text and eve.did in page.text
    assert "analyst, ops" in page.text
    assert page.text.count('class="status-active"') == 2

    listed = browser.get("/api/authorisations", headers={"Authorization": f"Bearer {cookie}"})
    bob_id = next(a["id"] for a in listed.json() if a["employee_did"] == bob.did)
    revoked = browser.post(f"/authorisations/{bob_id}/revoke")
    assert revoked.status_code == 303
    page = browser.get("/")
    assert 'class="status-revoked"' in page.text
    assert "Revocation list published" in page.text

    # a form posted from another site is refused, and errors are pages too
    elsewhere = browser.post(
        "/authorise",
        data={"employee_did": eve.did, "scope": ["buy"]},
        headers={"Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    assert "cross_site_request" in elsewhere.text
    bad = browser.post("/authorise", data={"employee_did": "nope", "scope": ["buy"]})
    assert bad.status_code == 422
    assert "invalid_did" in bad.text
    assert browser.post("/logout").status_code == 303
    with served.client(base_url=rig.url, cookies={COOKIE: cookie}) as stale:
        assert stale.get("/").headers["location"] == "/login"


def test_the_tool_api_docs_are_served_without_a_cdn(rig: Rig) -> None:
    check_docs_page(rig.http, "/api/docs", "/api/openapi.json")
    check_docs_page(rig.http, "/api/redoc", "/api/openapi.json")
