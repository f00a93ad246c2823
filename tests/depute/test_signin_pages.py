"""The representative signs in to the Depute tool with a wallet (OpenID4VP): a QR code
page that reloads until the wallet answered, a same-device link, KCIT's answer."""

from __future__ import annotations

import html
import re

import httpx2

from kraken_market.db.base import utcnow
from kraken_market.depute.deps import COOKIE
from kraken_market.identity import openid4vp_wallet as wallet
from kraken_market.identity import presentations
from kraken_market.identity.dids import DidResolver
from tests import served
from tests.depute.conftest import Person, Rig


def answer(link_text: str, person: Person, audience: str | None = None) -> httpx2.Response:
    """What a wallet does with the QR code's text: fetch, check, present, post."""
    with httpx2.Client(timeout=10.0) as http:
        link = wallet.parse_link(link_text)
        request = wallet.open_request(
            wallet.fetch_request(http, link), link, DidResolver(), utcnow()
        )
        presented = presentations.present(
            person.key,
            [person.credential],
            audience=audience or request.client_id,
            nonce=request.nonce,
        )
        form = {"vp_token": f'{{"person": ["{presented}"]}}', "state": request.state}
        return http.post(request.response_uri, data=form)


def qr_text(page: str) -> str:
    found = re.search(r"wallet answer '([^']+)'", page)
    assert found is not None, page
    return html.unescape(found.group(1))


def test_the_representative_signs_in_by_qr_code(rig: Rig) -> None:
    rita = rig.person("Rita")
    rig.register(rita.did)
    with served.client(base_url=rig.url) as browser:
        assert "/login/wallet" in browser.get("/login").text
        shown = browser.get("/login/wallet")
        assert shown.status_code == 200 and "<svg" in shown.text
        assert 'http-equiv="refresh"' in shown.text
        text = qr_text(shown.text)
        assert text.startswith("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey")
        assert "Waiting for your wallet" in browser.get("/login/wait").text
        relayed = answer(text, rita, audience="decentralized_identifier:did:key:z6Mkother")
        assert relayed.json()["code"] == "wrong_audience"  # bound to this tool only
        assert answer(text, rita).json() == {}
        done = browser.get("/login/wait")
        assert done.status_code == 200 and "Signed in" in done.text
        assert COOKIE in browser.cookies
        assert "Rita" in browser.get("/").text


def test_same_device_needs_the_wallets_code_and_kcit_decides(rig: Rig) -> None:
    rita, bob = rig.person("Rita"), rig.person("Bob")
    rig.register(rita.did)
    with served.client(base_url=rig.url) as browser:
        opened = browser.get("/login/same-device")
        assert opened.status_code == 303
        target = opened.headers["location"]
        assert target.startswith(rig.marketplace.url + "/wallet/request?client_id=")
        reply = answer(target, rita).json()
        assert reply["redirect_uri"].startswith(rig.url + "/login/complete?response_code=")
        wrong = browser.get("/login/complete", params={"response_code": "guessed"})
        assert wrong.status_code == 400 and "response_code_mismatch" in wrong.text
        path = reply["redirect_uri"].removeprefix(rig.url)
        assert "Signed in" in browser.get(path).text
        assert browser.get("/").status_code == 200
    with served.client(base_url=rig.url) as browser:
        text = qr_text(browser.get("/login/wallet").text)
        assert answer(text, bob).status_code == 200  # a valid person, but not the one
        refused = browser.get("/login/wait")
        assert refused.status_code == 403 and "not_representative" in refused.text
        assert COOKIE not in browser.cookies
