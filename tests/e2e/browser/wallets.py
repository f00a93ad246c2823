"""The browser tests' wallets: people made with the CLI wallet (a PersonCredential from
the platform's demo issuer), the platform's own admin and representative wallets (``up``
lists them), an employee authorised through the Depute tool's invitation; and the CLI
wallet answering what a page shows (``kraken-market wallet answer``)."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect

from kraken_market.depute import client as depute
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.wallet import Wallet
from tests import served
from tests.e2e.browser.seed import Seeded
from tests.e2e.test_platform import CLI, cli


@dataclass(frozen=True)
class Holder:
    name: str
    path: Path
    did: str
    env: dict[str, str]
    """The platform's environment with this wallet's passphrase."""


def person(seeded: Seeded, directory: Path, name: str) -> Holder:
    path = directory / f"{name.lower()}.json"
    created = json.loads(cli(seeded.env, "wallet", "create", "--wallet", str(path), "--json"))
    cli(seeded.env, "issuer", "issue", "person", "--name", name, "--wallet", str(path))
    return Holder(name, path, created["did"], seeded.env)


def platform_wallet(seeded: Seeded, role: str, name: str) -> Holder:
    """``up``'s admin or representative wallet (its passphrase is in a file of its own)."""
    assert seeded.info is not None
    found = next(w for w in seeded.info.wallets if w.role == role)
    secret = Path(seeded.info.wallet_passphrase_file).read_text().strip()
    env = {**seeded.env, "KRAKEN_WALLET_PASSPHRASE": secret}
    return Holder(name, Path(found.path), found.did, env)


def representative_headers(seeded: Seeded) -> dict[str, str]:
    """The demo company's representative signed in to its Depute tool."""
    assert seeded.info is not None
    rep = platform_wallet(seeded, "representative", "Rita")
    wallet = Wallet.open(rep.path)
    keys = wallet.unlock(rep.env["KRAKEN_WALLET_PASSPHRASE"])
    held = [c.token for c in wallet.credentials(CredentialType.PERSON.value)]
    session = depute.login(seeded.info.depute.url, keys.did_key, held)
    return {"Authorization": f"Bearer {session['session_token']}"}


def employee(seeded: Seeded, directory: Path, name: str, rep: dict[str, str]) -> Holder:
    """A person whose wallet accepted the company's invitation (an AttorneyCredential)."""
    assert seeded.info is not None
    holder = person(seeded, directory, name)
    invited = served.post(
        f"{seeded.info.depute.url}/api/invitations",
        json={"scope": ["publish", "buy"], "employee_did": holder.did},
        headers=rep,
    )
    assert invited.status_code == 201, invited.text
    cli(seeded.env, "wallet", "accept", invited.json()["url"], "--wallet", str(holder.path))
    return holder


def answer(holder: Holder, text: str) -> str:
    """The CLI wallet answers a QR code's text; its standard error (what it showed)."""
    done = subprocess.run(
        [*CLI, "wallet", "answer", text, "--yes", "--wallet", str(holder.path)],
        env=holder.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def wallet_link(page: Page) -> str:
    """The link the page shows for the command-line wallet."""
    command = page.get_by_test_id("wallet-command").inner_text()
    found = re.fullmatch(r"kraken-market wallet answer '(.+)'", command.strip())
    assert found is not None, command
    return found.group(1)


def sign_in(page: Page, holder: Holder, act_for: str | None = None) -> None:
    """Cross-device: the page's QR code answered by the CLI wallet; the header then
    shows who is signed in."""
    page.goto("/signin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with your wallet")
    if act_for is not None:
        page.get_by_role("button", name=re.compile("Act for")).click()
        page.get_by_role("option", name=act_for, exact=True).click()
    page.get_by_role("button", name="Show a QR code for my wallet").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    expect(page.get_by_role("timer")).to_contain_text(re.compile(r"Expires in [0-4]:\d\d"))
    answer(holder, wallet_link(page))
    who = page.get_by_role("link", name=re.compile(rf"^{re.escape(holder.name)}"))
    expect(who).to_be_visible(timeout=15_000)
    # The header names the person as soon as the session is known; the page then leaves
    # /signin for where the person came from (unless they clicked elsewhere meanwhile):
    # the tests start from there.
    expect(page).not_to_have_url(re.compile(r"/signin(?:[?#]|$)"))
