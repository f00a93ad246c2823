"""The wallet answering requests in Chromium against a real platform: same-device
sign-in, declining a pasted request, accepting the Depute tool's invitation (another
origin), signing in for the company with the attorney credential the person picks.
The tests share one browser profile whose wallet (Ada's, made with the CLI) they build
up, and run in order."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from playwright.sync_api import BrowserContext, expect

from kraken_market.identity.wallet import Wallet
from tests.e2e.browser.wallet.conftest import Platform, Watched, check_accessibility, cli
from tests.e2e.browser.wallet.steps import SLOW, accept, claims, import_wallet, invite, unlock


@pytest.fixture(scope="module", autouse=True)
def ada(
    wallet_context: BrowserContext, platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """Ada's CLI wallet, with a Person and a Buyer category credential from the
    platform's issuer, imported into the module's browser profile; her DID."""
    path = tmp_path_factory.mktemp("ada") / "wallet.json"
    cli(platform, "wallet", "create", "--wallet", str(path), "--json")
    cli(platform, "issuer", "issue", "person", "--name", "Ada Lovelace", "--wallet", str(path))
    category = ["--category", "research-institution"]
    cli(platform, "issuer", "issue", "category", *category, "--wallet", str(path))
    page = wallet_context.new_page()
    import_wallet(page, path)
    page.close()
    return Wallet.open(path).did


def test_same_device_sign_in(watched: Watched, platform: Platform, ada: str) -> None:
    api = f"{platform.url}/api/v1"
    created = httpx2.post(f"{api}/auth/requests", json={"flow": "same_device"}).json()
    query = urlsplit(created["wallet_url"]).query
    page = watched.page
    page.goto(f"/wallet/request?{query}")
    unlock(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("Kraken Market", exact=True)).to_be_visible()
    expect(page.get_by_text(platform.url, exact=True).first).to_be_visible()
    shared = page.get_by_role("list", name="What will be shared")
    expect(shared).to_contain_text("Person — Ada Lovelace")
    expect(shared).to_contain_text("Buyer category: research institution")
    check_accessibility(page)
    page.get_by_role("button", name="Approve and sign in").click()
    page.wait_for_url("**/signin/complete#response_code=*")
    code = parse_qs(urlsplit(page.url).fragment)["response_code"][0]
    body = {"transaction_id": created["transaction_id"], "response_code": code, "deliver": "body"}
    result = httpx2.post(f"{api}/auth/requests/result", json=body)
    assert result.status_code == 200, result.text
    answer = result.json()
    assert answer["status"] == "signed_in", answer
    assert answer["session"]["did"] == ada
    assert answer["session"]["buyer_categories"] == ["research-institution"]


def test_declining_a_pasted_request(watched: Watched, platform: Platform) -> None:
    api = f"{platform.url}/api/v1"
    created = httpx2.post(f"{api}/auth/requests", json={"flow": "cross_device"}).json()
    page = watched.page
    page.goto("/wallet/scan")
    check_accessibility(page)
    page.get_by_label("Link or QR code text").fill(created["wallet_url"])
    page.get_by_role("button", name="Open the link").click()
    unlock(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=SLOW)
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_text("Kraken Market has been told you declined.")).to_be_visible()
    body = {"transaction_id": created["transaction_id"], "response_code": None, "deliver": "body"}
    answer = httpx2.post(f"{api}/auth/requests/result", json=body).json()
    assert (answer["status"], answer["code"]) == ("refused", "wallet_declined")


def test_accept_a_depute_invitation(watched: Watched, platform: Platform) -> None:
    legal_name = platform.info.depute.legal_name
    page = watched.page
    page.goto("/wallet/receive")
    unlock(page)
    accept(page, invite(platform, ["publish"]), legal_name)
    page.get_by_role("link", name="See your credentials").click()
    expect(page.get_by_role("list", name="Credentials you hold")).to_contain_text(
        f"Attorney for {legal_name}"
    )


def test_sign_in_for_the_company_choosing_the_attorney_credential(
    watched: Watched, platform: Platform
) -> None:
    """Two attorney credentials of the company fit: the person picks the older one (the
    newest is the default), and that one is what the wallet presents."""
    depute = platform.info.depute
    page = watched.page
    page.goto("/wallet/receive")
    unlock(page)
    accept(page, invite(platform, ["buy"]), depute.legal_name)

    api = f"{platform.url}/api/v1"
    body = {"flow": "cross_device", "act_for": depute.company}
    created = httpx2.post(f"{api}/auth/requests", json=body).json()
    page.get_by_role("navigation").get_by_role("link", name="Scan").click()
    page.get_by_label("Link or QR code text").fill(created["wallet_url"])
    page.get_by_role("button", name="Open the link").click()
    choice = page.get_by_role("radiogroup", name=f"Which “Attorney for {depute.legal_name}”")
    expect(choice.get_by_role("radio", name="may buy")).to_be_checked()
    check_accessibility(page)
    choice.get_by_text("may publish").click()
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/response")) as sent:
        page.get_by_role("button", name="Approve and sign in").click()
    expect(page.get_by_text("Done — go back to the other screen.")).to_be_visible()

    vp_token = json.loads(parse_qs(sent.value.post_data or "")["vp_token"][0])
    (presentation,) = vp_token["attorney"]
    enveloped = claims(presentation)["verifiableCredential"][0]["id"]
    attorney = claims(enveloped.removeprefix("data:application/vc+jwt,"))
    assert attorney["credentialSubject"]["scope"] == ["publish"]
    result = {"transaction_id": created["transaction_id"], "response_code": None, "deliver": "body"}
    answer = httpx2.post(f"{api}/auth/requests/result", json=result).json()
    assert answer["status"] == "signed_in", answer
    assert answer["session"]["acting_as"] == depute.company
