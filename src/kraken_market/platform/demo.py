"""The demo actors of the local platform (development only), made on the first start.

Under ``<data_dir>/demo/`` (files mode 0600):

- ``admin-wallet.json``: the platform admin. Its ledger account is the platform's
  admin key (``platform.keys``: the contracts' admin), so the same wallet signs
  on chain and logs in to the API; it holds a PersonCredential and a
  PlatformRoleCredential (admin) from the demo issuer (``settings.issuer_dir``,
  which the API trusts outside production).
- ``representative-wallet.json``: the demo company's representative (a
  PersonCredential), who logs in to the company's Depute tool.
- ``passphrase``: the passphrase of both wallets, random; it is a local demo,
  so it sits beside them instead of in someone's head. Hence their keystores
  use a light scrypt work factor (``DEMO_WORK_FACTOR``): whoever can read a
  wallet here can read its passphrase (and the admin's key file beside it), so
  the default factor's seconds per wallet would protect nothing and delay every
  first start.
- ``company.json``: the demo company's DID; its Depute tool (the company's
  issuer key and its own ledger account, funded at genesis) is in
  ``<data_dir>/depute/``.

The company is entered in KCIT through the API by the admin, as an admin
would; a restart only checks, with KCIT's public read, that it is still
identified (and approves it again if someone suspended it).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kraken_market.client import MarketClient
from kraken_market.db.base import utcnow
from kraken_market.depute.config import account_file, company_dir, init_company
from kraken_market.files import read_private, write_private
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.errors import WrongAudience
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.wallet import Wallet
from kraken_market.identity.wallet_errors import WalletLocked
from kraken_market.platform.keys import PlatformKeys
from kraken_market.settings import Settings

ADMIN_NAME = "Platform Admin"
REPRESENTATIVE_NAME = "Demo Representative"
DEMO_WORK_FACTOR = 2**14


@dataclass
class Demo:
    directory: Path
    passphrase_file: Path
    admin: Wallet
    representative: Wallet
    company: str
    company_dir: Path


def demo_dir(data_dir: Path) -> Path:
    return data_dir / "demo"


def _passphrase(path: Path) -> str:
    if not path.is_file():
        write_private(path, secrets.token_urlsafe(24) + "\n")
    return read_private(path).strip()


def _wallet(path: Path, passphrase: str, account_key: bytes | None = None) -> Wallet:
    if path.is_file():
        return Wallet.open(path)
    return Wallet.create(path, passphrase, account_key, work_factor=DEMO_WORK_FACTOR)


@dataclass(frozen=True)
class Issuing:
    """The demo issuer, and the registry (the API's URL) its status list is named under."""

    issuer: Issuer
    registry_url: str

    def ensure(self, wallet: Wallet, type_: CredentialType, claims: dict[str, Any]) -> None:
        """Make sure ``wallet`` holds an unexpired credential of ``type_`` from this issuer
        (a restart after a year, or after the issuer's key was replaced, issues anew)."""
        now = utcnow()
        for held in wallet.credentials(type_.value):
            if held.issuer == self.issuer.did and not held.expired(now):
                return
        subject = {"id": wallet.did, **claims}
        wallet.add_credential(self.issuer.issue(type_, subject, registry_url=self.registry_url))


def demo_company(settings: Settings) -> tuple[str, str]:
    """The demo company's DID, its Depute tool set up (once), and the company's own
    ledger account (the owner on chain of the products its employees publish)."""
    from eth_account import Account

    did = _company(settings, demo_dir(settings.data_dir))
    key = read_private(account_file(company_dir(settings.data_dir, did))).strip()
    return did, Account.from_key(key).address


def _company(settings: Settings, directory: Path) -> str:
    state = directory / "company.json"
    if state.is_file():
        did = str(json.loads(read_private(state))["did"])
        if (company_dir(settings.data_dir, did) / "key").is_file():
            return did
    did = init_company(settings.data_dir).did
    write_private(state, json.dumps({"did": did, "name": settings.demo_company_name}) + "\n")
    return did


def prepare_demo(settings: Settings, issuer: Issuer, keys: PlatformKeys, company: str) -> Demo:
    """The wallets, their credentials and the company's key: everything that needs no
    server, so ``up`` does it while its servers start."""
    directory = demo_dir(settings.data_dir)
    passphrase_file = directory / "passphrase"
    passphrase = _passphrase(passphrase_file)
    issuing = Issuing(issuer, settings.resolved_api_url)
    admin = _wallet(directory / "admin-wallet.json", passphrase, bytes(keys.account("admin").key))
    issuing.ensure(admin, CredentialType.PERSON, {"name": ADMIN_NAME})
    issuing.ensure(admin, CredentialType.PLATFORM_ROLE, {"role": "admin"})
    representative = _wallet(directory / "representative-wallet.json", passphrase)
    claims = {"name": REPRESENTATIVE_NAME, "country": settings.demo_company_country}
    issuing.ensure(representative, CredentialType.PERSON, claims)
    return Demo(
        directory,
        passphrase_file,
        admin,
        representative,
        company,
        company_dir(settings.data_dir, company),
    )


def _admin_session(api: MarketClient, demo: Demo, audience: str) -> str:
    """Log the demo admin in, as 'kraken-market login' does (same audience check)."""
    try:
        demo.admin.keys  # noqa: B018 - unlocked already when created by this start
    except WalletLocked:
        demo.admin.unlock(read_private(demo.passphrase_file).strip())
    challenge = api.challenge()
    if challenge["audience"].rstrip("/") != audience:
        raise WrongAudience(
            f"the API asks for a presentation to {challenge['audience']}, not {audience}",
            details={"audience": challenge["audience"]},
        )
    session = api.login(demo.admin.present(challenge["audience"], challenge["nonce"]))
    return str(session["session_token"])


def identify_company(settings: Settings, demo: Demo, api_url: str) -> str:
    """The demo company identified in KCIT: ``"kept"`` (it was), ``"entered"`` or
    ``"approved"`` (it was pending or suspended)."""
    with MarketClient.connect(api_url) as api:
        answer = api.company_identified(demo.company)
        if answer["identified"]:
            return "kept"
        token = _admin_session(api, demo, settings.resolved_api_url)
    with MarketClient.connect(api_url, token) as admin:
        try:
            if answer["status"] is None:
                admin.create_company(
                    {
                        "did": demo.company,
                        "legal_name": settings.demo_company_name,
                        "country": settings.demo_company_country,
                        "registration_number": "DEMO-0001",
                        "representative_did": demo.representative.did,
                        "status": "identified",
                    }
                )
                return "entered"
            admin.approve_company(demo.company, "the demo company of 'kraken-market up'")
            return "approved"
        finally:
            admin.logout()
