"""Steps the wallet's browser tests share: unlocking, importing a wallet file, a
Depute invitation made by the demo company's representative and accepted in the
wallet, reading a token's claims."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from kraken_market.depute import client as depute_client
from kraken_market.identity.wallet import Wallet
from tests import served
from tests.e2e.browser.wallet.conftest import PASSPHRASE, Platform, check_accessibility

SLOW = 90_000  # ms: scrypt twice on a loaded 2-core machine


def unlock(page: Page, passphrase: str = PASSPHRASE) -> None:
    expect(page.get_by_role("heading", name="Unlock your wallet")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Passphrase", exact=True).fill(passphrase)
    page.get_by_role("button", name="Unlock").click()


def import_wallet(page: Page, path: Path, passphrase: str = PASSPHRASE) -> None:
    """The import page with the file picker; ends unlocked on the wallet's page."""
    page.goto("/wallet/import")
    page.locator("#wallet-file").set_input_files(str(path))
    page.get_by_label("Passphrase of that wallet").fill(passphrase)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("wallet-did")).to_have_text(Wallet.open(path).did, timeout=SLOW)


def representative_passphrase(platform: Platform) -> str:
    return Path(platform.info.wallet_passphrase_file).read_text().strip()


def invite(platform: Platform, scope: list[str]) -> str:
    """An invitation link made by the demo company's representative (Depute API)."""
    (info,) = [w for w in platform.info.wallets if w.role == "representative"]
    representative = Wallet.open(Path(info.path))
    keys = representative.unlock(representative_passphrase(platform))
    person = representative.credentials("PersonCredential")[-1].token
    session = depute_client.login(platform.depute, keys.did_key, [person])
    invited = served.post(
        f"{platform.depute}/api/invitations",
        json={"scope": scope},
        headers={"Authorization": f"Bearer {session['session_token']}"},
    )
    assert invited.status_code == 201, invited.text
    return str(invited.json()["url"])


def accept(page: Page, link: str, legal_name: str) -> None:
    page.get_by_label("Invitation link").fill(link)
    page.get_by_role("button", name="Open the link").click()
    expect(page.get_by_role("heading", name=f"Invitation from {legal_name}")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Accept the invitation").click()
    accepted = f"Your attorney credential for {legal_name} is in the wallet."
    expect(page.get_by_text(accepted)).to_be_visible()


def claims(token: str) -> dict[str, Any]:
    """A JWS's payload, unverified (the API verified it)."""
    payload = token.split(".")[1]
    value: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return value
