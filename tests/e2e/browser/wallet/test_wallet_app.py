"""The wallet app in Chromium against a real platform, on its own: create, lock, unlock
and auto-lock on a phone's screen; import the CLI's wallet.json, receive demo
credentials, export it back; scan a QR code with the camera; the Depute tool's
representative signing in there through the web wallet. Every page is checked with
axe-core; any console error fails the test. Unlocking derives two scrypt keys
(n = 2^18, the real format): a few seconds each time."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Playwright, expect

from kraken_market.identity.wallet import Wallet
from tests import served
from tests.e2e.browser.conftest import screenshot
from tests.e2e.browser.wallet.conftest import (
    PASSPHRASE,
    Platform,
    Watched,
    check_accessibility,
    cli,
    launch,
    open_context,
    qr_video,
)
from tests.e2e.browser.wallet.steps import SLOW, unlock


def test_create_lock_and_unlock_on_a_phone(browser: Browser, platform: Platform) -> None:
    context = open_context(browser, platform, phone=True)
    watched = Watched(context.new_page())
    page = watched.page
    page.clock.install()  # time flows as usual until the test jumps ahead
    page.goto("/wallet/")
    expect(page.get_by_role("heading", name="No wallet on this device yet")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Create a wallet").click()
    page.get_by_label("Passphrase", exact=True).fill("short")
    page.get_by_label("Passphrase again").fill("short")
    page.get_by_role("button", name="Create the wallet").click()
    expect(page.get_by_text("Use at least 8 characters.")).to_be_visible()
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_label("Passphrase again").fill(PASSPHRASE)
    check_accessibility(page)
    page.get_by_role("button", name="Create the wallet").click()
    expect(page.get_by_role("heading", name="Your wallet")).to_be_visible(timeout=SLOW)
    did = page.get_by_test_id("wallet-did").inner_text()
    assert did.startswith("did:key:z6Mk")
    check_accessibility(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    screenshot(page, "wallet-phone")

    # Stored: the CLI's wallet.json, keys only as keystores.
    stored = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("kraken-wallet");
            open.onsuccess = () => {
                const get = open.result.transaction("wallet").objectStore("wallet").get("current");
                get.onsuccess = () => resolve(get.result);
                get.onerror = () => reject(get.error);
            };
        })"""
    )
    assert '"kind": "kraken-market-wallet"' in stored and f'"did": "{did}"' in stored
    assert '"ciphertext"' in stored and '"n": 262144' in stored

    page.get_by_role("button", name="Lock").click()
    unlock(page, "not the passphrase")
    expect(page.get_by_role("alert")).to_contain_text("The passphrase is wrong.", timeout=SLOW)
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_test_id("wallet-did")).to_have_text(did, timeout=SLOW)

    # Idle: locked after 15 minutes without a key press, click or touch.
    page.clock.fast_forward("14:00")
    expect(page.get_by_test_id("wallet-did")).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="Credentials").click()
    page.clock.fast_forward("14:00")  # the click restarted the 15 minutes
    expect(page.get_by_role("heading", name="Credentials")).to_be_visible()
    page.clock.fast_forward("01:01")
    expect(page.get_by_role("heading", name="Unlock your wallet")).to_be_visible()
    context.close()
    watched.check()


def test_import_a_cli_wallet_receive_credentials_and_export(
    watched: Watched, platform: Platform, tmp_path: Path
) -> None:
    path = tmp_path / "cli-wallet.json"
    cli(platform, "wallet", "create", "--wallet", str(path), "--json")
    did = Wallet.open(path).did
    page = watched.page
    page.goto("/wallet/import")
    check_accessibility(page)
    page.locator("#wallet-file").set_input_files(str(path))
    page.get_by_label("Passphrase of that wallet").fill(PASSPHRASE)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("wallet-did")).to_have_text(did, timeout=SLOW)

    page.get_by_role("navigation").get_by_role("link", name="Receive").click()
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Country (optional)").fill("GB")
    check_accessibility(page)
    page.get_by_role("button", name="Get a Person credential").click()
    expect(page.get_by_text("Your Person credential is in the wallet.")).to_be_visible()
    page.get_by_role("button", name="Individual Category").click()
    page.get_by_role("option", name="Research institution").click()
    page.get_by_role("button", name="Get a Buyer category credential").click()
    expect(page.get_by_text("Your Buyer category credential is in the wallet.")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Credentials").click()
    listing = page.get_by_role("list", name="Credentials you hold")
    expect(listing).to_contain_text("Buyer category: research institution")
    expect(listing).to_contain_text("Ada Lovelace")
    expect(listing).to_contain_text("Valid until")
    check_accessibility(page)
    screenshot(page, "wallet-credentials")
    listing.get_by_role("link").filter(has_text="Person").click()
    expect(page.get_by_role("heading", name="Person")).to_be_visible()
    expect(page.get_by_text("GB", exact=True)).to_be_visible()
    check_accessibility(page)

    page.get_by_role("navigation").get_by_role("link", name="Wallet").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export wallet.json").click()
    exported = tmp_path / "exported.json"
    download.value.save_as(exported)
    exported.chmod(0o600)  # the CLI opens only a private wallet file
    wallet = Wallet.open(exported)
    keys = wallet.unlock(PASSPHRASE)
    assert keys.did_key.did == did
    kinds = sorted(c.type for c in wallet.credentials())
    assert kinds == ["BuyerCategoryCredential", "PersonCredential"]


def test_the_representative_signs_in_to_the_depute_tool(
    browser: Browser, platform: Platform
) -> None:
    """Cross-origin: the Depute tool sends the browser to the wallet, whose answer goes
    to the tool's own origin (CORS there, connect-src here), and back to the tool."""
    (info,) = [w for w in platform.info.wallets if w.role == "representative"]
    passphrase = Path(platform.info.wallet_passphrase_file).read_text().strip()
    context = open_context(browser, platform)
    watched = Watched(context.new_page())
    # The Depute tool's pages have no icon: Chromium's request for one is not ours to fail on.
    watched.allowed.append(re.compile(rf"404 .*\({re.escape(platform.depute)}/favicon\.ico\)"))
    page = watched.page
    page.goto("/wallet/import")
    page.locator("#wallet-file").set_input_files(info.path)
    page.get_by_label("Passphrase of that wallet").fill(passphrase)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("wallet-did")).to_have_text(info.did, timeout=SLOW)

    page.goto(f"{platform.depute}/login/same-device")
    page.wait_for_url(f"{platform.url}/wallet/request?*")
    unlock(page, passphrase)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text(platform.depute, exact=True).first).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Approve and sign in").click()
    page.wait_for_url(f"{platform.depute}/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()  # signed in there
    expect(page.get_by_role("banner")).to_contain_text(info.did)
    context.close()
    watched.check()


def test_scan_a_sign_in_qr_code_with_the_camera(
    playwright: Playwright, platform: Platform, tmp_path: Path
) -> None:
    """Chromium's fake camera shows the QR code; jsQR reads it off the frames. The new
    wallet (a CLI wallet.json dropped on the import page) holds no Person credential:
    the page says so and the person declines."""
    api = f"{platform.url}/api/v1"
    created = served.post(f"{api}/auth/requests", json={"flow": "cross_device"}).json()
    video = qr_video(created["wallet_url"], tmp_path / "qr.y4m")
    camera = launch(
        playwright,
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    path = tmp_path / "cli-wallet.json"
    cli(platform, "wallet", "create", "--wallet", str(path), "--json")
    context = open_context(camera, platform, phone=True)
    context.grant_permissions(["camera"], origin=platform.url)
    watched = Watched(context.new_page())
    page = watched.page
    page.goto("/wallet/import")
    dropped = page.evaluate_handle(
        """(text) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "wallet.json", {type: "application/json"}));
            return transfer;
        }""",
        path.read_text(),
    )
    page.get_by_role("region", name="Drop your wallet.json here").dispatch_event(
        "drop", {"dataTransfer": dropped}
    )
    expect(page.get_by_text("Chosen: wallet.json")).to_be_visible()
    page.get_by_label("Passphrase of that wallet").fill(PASSPHRASE)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("wallet-did")).to_be_visible(timeout=SLOW)

    page.get_by_role("navigation").get_by_role("link", name="Scan").click()
    page.get_by_role("button", name="Scan a QR code").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=30_000)
    assert "request_uri=" in page.url and "/wallet/request" in page.url
    expect(page.get_by_text("that your wallet does not hold")).to_be_visible()
    expect(page.get_by_role("button", name="Approve and sign in")).to_have_count(0)
    check_accessibility(page)
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_text("Kraken Market has been told you declined.")).to_be_visible()
    body = {"transaction_id": created["transaction_id"], "response_code": None, "deliver": "body"}
    answer = served.post(f"{api}/auth/requests/result", json=body).json()
    assert (answer["status"], answer["code"]) == ("refused", "wallet_declined")
    context.close()
    camera.close()
    watched.check()
