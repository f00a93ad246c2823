"""Same-device sign-in across both apps in one browser: a person imports the wallet
they made with the CLI into the wallet app (/wallet/), then signs in to the marketplace
with "Use the wallet in this browser". The marketplace hands the request to the wallet
app, which shows who asks and what is shared, and sends the browser back to
/signin/complete with a one-time response code; the marketplace redeems it with the
transaction id only its tab knew, and the person lands where they started, signed in.
The session is then an HttpOnly cookie: a reload keeps it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import check_accessibility, screenshot
from tests.e2e.browser.seed import Seeded
from tests.e2e.browser.wallets import person

SLOW = 90_000  # ms: scrypt (n = 2^18) twice in the browser on a loaded 2-core machine


def test_import_a_cli_wallet_then_sign_in_on_the_same_device(
    page: Page, seeded: Seeded, tmp_path: Path
) -> None:
    ada = person(seeded, tmp_path, "Ada")
    passphrase = seeded.env["KRAKEN_WALLET_PASSPHRASE"]

    page.goto("/wallet/import")
    check_accessibility(page)
    page.locator("#wallet-file").set_input_files(str(ada.path))
    page.get_by_label("Passphrase of that wallet").fill(passphrase)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("wallet-did")).to_have_text(ada.did, timeout=SLOW)

    product = seeded.runners["id"]
    page.goto(f"/products/{product}")
    page.get_by_role("link", name="Sign in to see whether you meet it").click()
    page.get_by_role("button", name="Use the wallet in this browser").click()

    # the wallet app, in the same tab: it asks for the passphrase again (a reload of
    # the app forgets the unlocked keys), then says who asks and what it would share
    expect(page).to_have_url(re.compile(r"/wallet/request\?"))
    expect(page.get_by_role("heading", name="Unlock your wallet")).to_be_visible()
    page.get_by_label("Passphrase", exact=True).fill(passphrase)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("Kraken Market", exact=True)).to_be_visible()
    shared = page.get_by_role("list", name="What will be shared")
    expect(shared).to_contain_text("Person — Ada")
    check_accessibility(page)
    screenshot(page, "wallet-signin")
    page.get_by_role("button", name="Approve and sign in").click()

    # back in the marketplace, where the person started, signed in
    expect(page).to_have_url(re.compile(rf"/products/{product}$"), timeout=15_000)
    expect(page.get_by_role("link", name="Ada")).to_be_visible()
    expect(page.get_by_text(re.compile(r"You do not meet it\."))).to_be_visible()
    # the session is a cookie the page's scripts cannot read: a reload keeps it
    session = next(c for c in page.context.cookies() if c["name"] == "kraken_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    page.reload()
    expect(page.get_by_role("link", name="Ada")).to_be_visible()
    page.get_by_role("link", name="Ada").click()
    expect(page.get_by_text(ada.did)).to_be_visible()
