"""The marketplace's signed-in pages in a real browser against the real platform: sign-in
by QR code answered by the CLI wallet, the header, your account (linking the ledger
account through the wallet, DATA, sessions), whether you meet a product's policy, sign
out; acting for a company with an attorney credential from its Depute tool, revoked,
and the page saying why; the platform admin's register (KCIT) and a claim's ruling.
Every page is checked with axe; any console error fails a test unless expected."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from kraken_market.identity.keys import DidKey
from tests import served
from tests.e2e.browser.conftest import REPOSITORY, check_accessibility, screenshot
from tests.e2e.browser.open_claim import STATEMENT
from tests.e2e.browser.seed import Seeded
from tests.e2e.browser.wallets import (
    answer,
    employee,
    person,
    platform_wallet,
    representative_headers,
    sign_in,
    wallet_link,
)
from tests.e2e.test_platform import CLI, cli

NORDLICHT = "Nordlicht Analytics GmbH"
UNAUTHORIZED = re.compile(r"status of 401")
"""The browser reports the 401 that ends a session; the page handles it."""


def test_sign_in_link_the_account_and_sign_out(page: Page, seeded: Seeded, tmp_path: Path) -> None:
    greta = person(seeded, tmp_path, "Greta")
    page.goto(f"/products/{seeded.runners['id']}")
    page.get_by_role("link", name="Sign in to see whether you meet it").click()
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fproducts%2F"))
    check_accessibility(page)
    page.get_by_role("button", name="Show a QR code for my wallet").click()
    check_accessibility(page)
    screenshot(page, "signin")
    answer(greta, wallet_link(page))
    # back where the person started, signed in: whether they meet the policy, in words
    expect(page).to_have_url(re.compile(rf"/products/{seeded.runners['id']}$"), timeout=15_000)
    expect(page.get_by_role("link", name="Greta")).to_be_visible()
    expect(page.get_by_text(re.compile(r"You do not meet it\."))).to_be_visible()

    page.get_by_role("link", name="Greta").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_text(greta.did)).to_be_visible()
    expect(page.get_by_role("grid", name="Your sessions").get_by_role("row")).to_have_count(2)
    page.get_by_role("button", name="Link your account through your wallet").click()
    shown = answer(greta, wallet_link(page))
    assert "link your DID to your ledger account" in shown
    account = json.loads(Path(greta.path).read_text())["address"]
    expect(page.get_by_text(re.compile(account, re.IGNORECASE))).to_be_visible(timeout=15_000)
    expect(page.get_by_text("0 DATA")).to_be_visible()
    expect(page.get_by_text("No products yet")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "account")

    page.goto("/admin")
    expect(page.get_by_text(re.compile("needs the platform role admin"))).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    page.goto("/account")
    expect(page.get_by_role("link", name="Sign in with your wallet")).to_be_visible()


def test_a_click_while_the_session_is_asked_for_stays(
    page: Page, seeded: Seeded, tmp_path: Path
) -> None:
    """The wallet answered, and the person clicks elsewhere while the page still asks who
    signed in: once it knows, the page names them where they went, and does not take
    them back to where the sign-in began."""
    hugo = person(seeded, tmp_path, "Hugo")
    page.goto("/signin?next=%2Faccount")
    page.get_by_role("button", name="Show a QR code for my wallet").click()
    held: list[Route] = []
    released = False

    def hold(route: Route) -> None:  # answered only after the click below
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/v1/auth/me", hold)
    answer(hugo, wallet_link(page))
    deadline = time.monotonic() + 15
    while not held:
        assert time.monotonic() < deadline, "the page never asked who signed in"
        page.wait_for_timeout(50)
    page.get_by_role("link", name="Products", exact=True).click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Sign in with your wallet")
    released = True
    for route in held:
        route.continue_()
    expect(page.get_by_role("link", name="Hugo")).to_be_visible()
    page.wait_for_timeout(1000)  # the page went back to /account here before
    assert not re.search(r"/(account|signin)", page.url), page.url


def test_acting_for_a_company_until_the_attorney_credential_is_revoked(
    page: Page, seeded: Seeded, tmp_path: Path, allowed_errors: list[re.Pattern[str]]
) -> None:
    assert seeded.info is not None
    company = seeded.info.depute.legal_name
    rep = representative_headers(seeded)
    erin = employee(seeded, tmp_path, "Erika", rep)
    sign_in(page, erin, act_for=company)
    expect(page.get_by_role("link", name=f"Erika for {company}")).to_be_visible()
    page.get_by_role("link", name=re.compile("Erika")).click()
    expect(page.get_by_text(f"{company} (attorney credential)")).to_be_visible()
    expect(page.get_by_role("grid", name="Your products")).to_be_visible()
    check_accessibility(page)

    depute = seeded.info.depute.url
    [granted] = served.get(
        f"{depute}/api/authorisations", params={"employee_did": erin.did}, headers=rep
    ).json()
    revoked = served.post(f"{depute}/api/authorisations/{granted['id']}/revoke", headers=rep)
    assert revoked.status_code == 200, revoked.text

    allowed_errors.append(UNAUTHORIZED)
    page.get_by_role("link", name="Products").click()  # the next page asks again
    expect(page).to_have_url(re.compile(r"/signin\?"))
    expect(page.get_by_role("status").or_(page.get_by_role("alert")).first).to_contain_text(
        f"Your attorney credential for {company} was revoked, so you were signed out."
    )
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    check_accessibility(page)
    screenshot(page, "signed-out-revoked")


@pytest.fixture(scope="module")
def open_claim(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> int:
    """A claim on the hospital's product waiting for a ruling (made once: the admin
    reads it, the arbiter rules on it)."""
    tmp_path = tmp_path_factory.mktemp("claim")
    made = subprocess.run(
        [*CLI[:1], "-m", "tests.e2e.browser.open_claim", seeded.hospital["id"], str(tmp_path)],
        env=seeded.env,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    purchase: int = json.loads(made.stdout.splitlines()[-1])["purchase_id"]
    return purchase


def test_an_admin_approves_a_self_registered_company(
    page: Page, seeded: Seeded, open_claim: int
) -> None:
    registered = served.post(
        f"{seeded.url}/api/v1/companies",
        json={
            "did": DidKey.generate().did,
            "legal_name": NORDLICHT,
            "country": "DE",
            "registration_number": "HRB 204711",
        },
        headers={"Authorization": f"Bearer {seeded.person_token}"},
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["status"] == "pending"
    admin = platform_wallet(seeded, "admin", "Platform Admin")
    sign_in(page, admin)
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform admin")
    pending = page.get_by_role("listitem").filter(has_text=NORDLICHT)
    expect(pending).to_be_visible()
    # an admin reads the claims; ruling is the arbiter's
    claim = page.get_by_role("listitem").filter(has_text=STATEMENT)
    expect(claim).to_contain_text(seeded.hospital["title"])
    expect(page.get_by_text("Ruling on a claim needs the platform role arbiter.")).to_be_visible()
    expect(claim.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("grid", name="Compute nodes")).to_contain_text("Answering")
    check_accessibility(page)
    screenshot(page, "admin")

    pending.get_by_role("button", name=f"Approve {NORDLICHT}").click()
    expect(pending).to_have_count(0)
    page.get_by_role("button", name=re.compile("Show$")).click()
    page.get_by_role("option", name="Identified", exact=True).click()
    identified = page.get_by_role("listitem").filter(has_text=NORDLICHT)
    identified.get_by_role("button", name="Audit log").click()
    audit = identified.get_by_role("grid", name=f"Audit log of {NORDLICHT}")
    expect(audit).to_contain_text("Approved (identified)")
    expect(audit).to_contain_text("Registered itself")
    check_accessibility(page)
    company = served.get(f"{seeded.url}/api/v1/companies/{registered.json()['did']}").json()
    assert company["status"] == "identified"


def test_an_arbiter_rejects_a_claim(
    page: Page, seeded: Seeded, open_claim: int, tmp_path: Path
) -> None:
    ada = person(seeded, tmp_path, "Ada")
    cli(seeded.env, "issuer", "issue", "role", "--role", "arbiter", "--wallet", str(ada.path))
    sign_in(page, ada)
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Company register (KCIT)")).to_have_count(0)
    claim = page.get_by_role("listitem").filter(has_text=STATEMENT)
    expect(claim).to_contain_text(seeded.hospital["title"])
    expect(claim).to_contain_text(re.compile(r"Bond\s*[\d.]+ DATA"))
    claim.get_by_role("button", name="Reject…").click()
    expect(claim).to_contain_text("The claimant's bond goes to the seller")
    check_accessibility(page)
    claim.get_by_role("button", name="Reject the claim").click()
    expect(claim.get_by_role("status")).to_contain_text("Rejected on chain (transaction 0x")
    expect(claim).to_have_count(0, timeout=30_000)  # once indexed
    check_accessibility(page)
    chain = f"{seeded.url}/api/v1/products/{seeded.hospital['id']}/chain"
    deadline = time.monotonic() + 30
    while served.get(chain).json()["claims"]["open"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert served.get(chain).json()["claims"]["open"] == 0  # ruled on chain
