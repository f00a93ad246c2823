"""Where one company's Depute tool keeps its state, and how it is set up.

Everything lives in one directory per company,
``<data_dir>/depute/<first 16 hex of SHA-256(company DID)>/``: the company's
issuer key and revocation list state (``key``, ``state.json``, mode 0600,
through :class:`~kraken_market.identity.issuer.Issuer`), the company's own
ledger account (``account.key``, mode 0600: its products are owned on chain by
it, and the tool publishes them from it for authorised employees) and the
tool's own SQLite database (``depute.db``: sessions, invitations,
authorisations). It is a separate application from the marketplace and shares
no database with it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from kraken_market.depute.errors import DeputeExists
from kraken_market.errors import InvalidRequest, NotFound
from kraken_market.files import read_private, write_private
from kraken_market.identity.dids import check_did
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.keys import DidKey

DEFAULT_PORT = 8710


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL (a web origin, RFC 6454)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


INVITATION_PATH = "/invitations/"


def company_dir(data_dir: Path, company: str) -> Path:
    """The Depute directory of ``company`` (its DID, hashed: DIDs are not file names)."""
    return data_dir / "depute" / hashlib.sha256(check_did(company).encode()).hexdigest()[:16]


def init_company(data_dir: Path, key: DidKey | None = None) -> Issuer:
    """Set up the Depute tool of the company whose key is ``key`` (a new one if None).

    Refuses a directory that already holds a key: overwriting it would orphan
    every credential the company issued (none could be revoked any more).
    """
    key = key or DidKey.generate()
    directory = company_dir(data_dir, key.did)
    if (directory / "key").exists():
        raise DeputeExists(
            f"the Depute tool of {key.did} is set up already in {directory}",
            details={"company": key.did, "directory": str(directory)},
        )
    return Issuer.create(directory, key)


ACCOUNT_FILE = "account.key"


def account_file(directory: Path) -> Path:
    """The company's ledger account key (hex, mode 0600), made on first use; two first
    uses at once keep one key (the file is linked into place only if absent)."""
    path = directory / ACCOUNT_FILE
    if not path.is_file():
        from eth_account import Account

        made = directory / f"{ACCOUNT_FILE}.{secrets.token_hex(4)}.new"
        write_private(made, bytes(Account.create().key).hex() + "\n")
        try:
            os.link(made, path)  # atomic, and refused if another key got there first
        except FileExistsError:
            pass
        finally:
            made.unlink()
    return path


def open_company(directory: Path, company: str) -> Issuer:
    """The company's issuer; refused unless ``directory`` holds the key of ``company``."""
    if not (directory / "key").exists():
        raise NotFound(
            f"no Depute tool for {company} in {directory}: run 'kraken-market depute init'",
            details={"company": company, "directory": str(directory)},
        )
    issuer = Issuer.open(directory, create=False)
    if issuer.did != company:
        raise NotFound(
            f"{directory} holds the key of {issuer.did}, not of {company}",
            details={"company": company, "found": issuer.did},
        )
    return issuer


def read_company_key(path: Path) -> DidKey:
    """A company key file: the 32-byte Ed25519 seed (RFC 8032) as 64 hex digits."""
    text = read_private(path).strip()
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise InvalidRequest(f"{path} must hold a 32-byte Ed25519 seed as 64 hex digits")
    return DidKey.from_seed(seed)


@dataclass(frozen=True)
class DeputeConfig:
    """One company's Depute tool.

    ``public_url`` is the audience every presentation to this tool must name (never
    taken from the request's Host header, which a relaying party controls).
    ``marketplace_url`` is where the marketplace is reached; ``registry_url`` is the
    base URL the marketplace names its status lists under (its ``api_url``; the
    same unless the marketplace sits behind a proxy).
    """

    company: str
    directory: Path
    public_url: str
    marketplace_url: str
    registry_url: str | None = None
    session_lifetime: timedelta = timedelta(minutes=15)
    challenge_lifetime: timedelta = timedelta(minutes=5)
    invitation_lifetime: timedelta = timedelta(days=3)
    retry_interval: timedelta = timedelta(seconds=10)
    http_timeout: float = 10.0
    max_token_bytes: int = 16_384
    chain_url: str | None = None
    """The chain the company's products are published on (None: no chain desk)."""
    deployment_file: Path | None = None
    """The contracts' addresses there (``deployment.json``)."""

    @property
    def registry(self) -> str:
        return (self.registry_url or self.marketplace_url).rstrip("/")

    @property
    def wallet_origins(self) -> list[str]:
        """Where the marketplace's web wallet runs (its origin, public and as reached):
        the origins the tool answers CORS for on its wallet endpoints (``cors.py``)."""
        urls = [self.marketplace_url, *([self.registry_url] if self.registry_url else [])]
        return sorted({origin_of(url) for url in urls})

    @property
    def audience(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def database_url(self) -> str:
        return f"sqlite:///{(self.directory / 'depute.db').resolve()}"
