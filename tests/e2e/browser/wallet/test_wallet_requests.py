"""The wallet answering requests in Chromium against a real platform: same-device
sign-in, declining a pasted request, accepting the Depute tool's invitation (another
origin), signing in for the company with the attorney credential the person picks,
sending a DATA transfer and signing a message a signed-in page asked for.
The tests share one browser profile whose wallet (Ada's, made with the CLI) they build
up, and run in order."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct
from playwright.sync_api import BrowserContext, expect

from kraken_market.identity import binding, presentations
from kraken_market.identity.wallet import Wallet
from kraken_market.ledger.client import Ledger, connect, dev_account
from kraken_market.ledger.deployment import Deployment
from tests import served
from tests.e2e.browser.wallet.conftest import (
    PASSPHRASE,
    Platform,
    Watched,
    check_accessibility,
    cli,
)
from tests.e2e.browser.wallet.steps import SLOW, accept, claims, import_wallet, invite, unlock


@pytest.fixture(scope="module")
def ada_wallet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ada") / "wallet.json"


@pytest.fixture(scope="module", autouse=True)
def ada(wallet_context: BrowserContext, platform: Platform, ada_wallet: Path) -> str:
    """Ada's CLI wallet, with a Person and a Buyer category credential from the
    platform's issuer, imported into the module's browser profile; her DID."""
    path = ada_wallet
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
    created = served.post(f"{api}/auth/requests", json={"flow": "same_device"}).json()
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
    result = served.post(f"{api}/auth/requests/result", json=body)
    assert result.status_code == 200, result.text
    answer = result.json()
    assert answer["status"] == "signed_in", answer
    assert answer["session"]["did"] == ada
    assert answer["session"]["buyer_categories"] == ["research-institution"]


def test_declining_a_pasted_request(watched: Watched, platform: Platform) -> None:
    api = f"{platform.url}/api/v1"
    created = served.post(f"{api}/auth/requests", json={"flow": "cross_device"}).json()
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
    answer = served.post(f"{api}/auth/requests/result", json=body).json()
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
    created = served.post(f"{api}/auth/requests", json=body).json()
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
    answer = served.post(f"{api}/auth/requests/result", json=result).json()
    assert answer["status"] == "signed_in", answer
    assert answer["session"]["acting_as"] == depute.company


def signed_in_and_linked(platform: Platform, wallet: Path) -> dict[str, str]:
    """Ada signs in and links her account as her CLI wallet would, in this process (her
    wallet unlocked once: scrypt is slow by design), and the development faucet's keeper
    gives her account DATA and gas money; Bearer headers of her session."""
    api = f"{platform.url}/api/v1"
    held = Wallet.open(wallet)
    keys = held.unlock(PASSPHRASE)
    challenge = served.post(f"{api}/auth/challenge").json()
    person = [c.token for c in held.credentials("PersonCredential")]
    audience, nonce = challenge["audience"], challenge["nonce"]
    presented = presentations.present(keys.did_key, person, audience=audience, nonce=nonce)
    login = served.post(f"{api}/auth/login", json={"presentation": presented, "act_for": None})
    headers = {"Authorization": f"Bearer {login.json()['session_token']}"}
    made = binding.bind(keys.did_key, keys.account, audience=platform.url, now=datetime.now(UTC))
    body = {"binding": made.jws, "account_signature": made.account_signature}
    linked = served.post(f"{api}/identity/bindings", json=body, headers=headers)
    assert linked.is_success, linked.text
    deployment = Deployment.model_validate(served.get(f"{api}/ledger/deployment").json())
    keeper = Ledger(connect(platform.info.chain.url), deployment, dev_account(0))
    keeper.send_ether(keys.account.address, 10**17)
    keeper.drip(10 * 10**18, to=keys.account.address)
    return headers


def wait_for(api: str, created: dict[str, Any], done: Any) -> dict[str, Any]:
    """Poll the request's outcome as the page does, until ``done(outcome)``."""
    body = {"transaction_id": created["transaction_id"]}
    deadline = time.monotonic() + 60
    while True:
        outcome: dict[str, Any] = served.post(f"{api}/wallet-requests/result", json=body).json()
        if done(outcome) or time.monotonic() > deadline:
            return outcome
        time.sleep(0.2)


def test_a_transfer_and_a_message_asked_by_a_signed_in_page(
    watched: Watched, platform: Platform, ada_wallet: Path
) -> None:
    """Ada, signed in and her account linked, is asked by the page for a DATA transfer:
    the wallet app reads it from the call data, shows it in words, signs it, the
    marketplace sends it and the chain has it; then a message."""
    api = f"{platform.url}/api/v1"
    headers = signed_in_and_linked(platform, ada_wallet)

    def ask(request: dict[str, Any]) -> dict[str, Any]:
        created = served.post(f"{api}/wallet-requests", json=request, headers=headers)
        assert created.status_code == 201, created.text
        value: dict[str, Any] = created.json()
        return value

    account = Wallet.open(ada_wallet).address
    friend = EthAccount.create().address
    transfer = ask(
        {
            "kind": "transaction",
            "contract": "DataToken",
            "function": "transfer",
            "arguments": [friend, str(3 * 10**18)],
        }
    )
    page = watched.page
    page.goto(f"/wallet/request?{urlsplit(transfer['wallet_url']).query}")
    unlock(page)
    expect(page.get_by_role("heading", name="Signature requested")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text(f"Send 3 DATA to {friend}", exact=True)).to_be_visible()
    details = page.get_by_role("definition")
    expect(details.filter(has_text="DataToken at 0x")).to_be_visible()
    expect(details.filter(has_text=f"your account {account}")).to_be_visible()
    expect(details.filter(has_text="ether (the chain's own currency")).to_contain_text("at most 0.")
    check_accessibility(page)
    page.get_by_role("button", name="Approve and sign").click()
    expect(page.get_by_text("Done — go back to the other screen.")).to_be_visible()
    sent = wait_for(api, transfer, lambda o: o.get("transaction_status") not in (None, "sent"))
    assert (sent["status"], sent["transaction_status"], sent["account"]) == (
        "done",
        "succeeded",
        account,
    ), sent
    balance = served.get(f"{api}/ledger/balances/{friend}").json()
    assert balance["balance"] == str(3 * 10**18)

    text = "I, Ada, accept the licence of the runners' heart rates.\nKraken Market"
    message = ask({"kind": "message", "text": text})
    page.get_by_role("navigation").get_by_role("link", name="Scan").click()  # still unlocked
    page.get_by_label("Link or QR code text").fill(message["wallet_url"])
    page.get_by_role("button", name="Open the link").click()
    quoted = page.get_by_label("Message to sign")
    expect(quoted).to_have_text(text, timeout=SLOW)
    page.get_by_role("button", name="Approve and sign").click()
    expect(page.get_by_text("Done — go back to the other screen.")).to_be_visible()
    signed = wait_for(api, message, lambda o: o["status"] != "pending")
    assert (signed["status"], signed["account"]) == ("done", account), signed
    recovered = EthAccount.recover_message(encode_defunct(text=text), signature=signed["signature"])
    assert recovered == account
