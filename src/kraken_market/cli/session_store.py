"""Where the CLI keeps login sessions: one file per wallet, named after its DID.

``kraken-market login`` saves the session of the wallet that logged in to
``data_dir/sessions/<DID>.json`` (mode 0600, written atomically; characters
other than letters, digits, ``.`` and ``-`` are written ``_``, so
``did:key:z6Mk…`` is ``did_key_z6Mk….json``). Several wallets in one data
directory keep their own sessions side by side, and a command uses the session
of the selected wallet (``--wallet``, else KRAKEN_WALLET, else
``data_dir/wallet.json``): the wallet file's public part names its DID, so
picking the session needs no passphrase. A session file records the DID it
belongs to and serves no other.

Earlier versions kept one session per data directory (``cli-session.json``).
It is moved to its wallet's place the first time that wallet is selected, and
serves no other wallet meanwhile.

This runs on the user's machine (CLI); the API knows nothing of these files.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kraken_market.errors import InvalidRequest, KrakenError
from kraken_market.files import read_private, write_private
from kraken_market.identity.wallet import Wallet
from kraken_market.settings import Settings

SESSION_FIELDS = (
    "session_token",
    "refresh_token",
    "expires_at",
    "refresh_expires_at",
    "did",
    "acting_as",
    "account",
    "company",
    "roles",
)


@dataclass(frozen=True)
class SelectedWallet:
    """The wallet a command acts for, and what a person types to log it in."""

    path: Path
    did: str | None
    """None: there is no wallet file at ``path``."""
    given: bool = False
    """Named with ``--wallet`` (so the advice repeats it)."""

    @property
    def login_command(self) -> str:
        where = f" --wallet {shlex.quote(str(self.path))}" if self.given else ""
        return f"kraken-market login{where}"

    def describe(self) -> str:
        if self.did is None:
            return f"no wallet at {self.path}"
        return f"the wallet {self.path} ({self.did})"


def select(config: Settings, path: Path | None = None) -> SelectedWallet:
    """The wallet at ``path`` (``--wallet``), else the configured one; its DID from
    the file's public part (no passphrase)."""
    chosen = path or config.wallet_file
    did = Wallet.open(chosen).did if chosen.is_file() else None
    return SelectedWallet(chosen, did, given=path is not None)


def moment(value: Any) -> datetime:
    """A saved timestamp as an aware datetime (UTC when it names no zone)."""
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def session_file(config: Settings, did: str) -> Path:
    """Where the session of ``did`` is kept."""
    return config.sessions_dir / (re.sub(r"[^A-Za-z0-9.-]", "_", did) + ".json")


def _parsed(path: Path) -> dict[str, Any]:
    """A saved session's fields; refused if others may read the file."""
    try:
        data = json.loads(read_private(path))
        moment(data["expires_at"]), moment(data["refresh_expires_at"])
    except KrakenError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest(
            f"{path} is not a saved session; log in again (kraken-market login)"
        ) from exc
    if not isinstance(data.get("did"), str):
        raise InvalidRequest(f"{path} names no DID; log in again (kraken-market login)")
    session: dict[str, Any] = data
    return session


def _migrate(config: Settings, did: str) -> None:
    """Move the single session of earlier versions to ``did``'s place if it is
    ``did``'s. One that cannot be read (damaged, or readable by others) is left
    alone: it is never used again."""
    legacy = config.token_file
    if not legacy.is_file():
        return
    try:
        session = _parsed(legacy)
    except InvalidRequest:
        return
    if session["did"] == did:
        write_private(session_file(config, did), json.dumps(session, indent=1) + "\n")
        legacy.unlink(missing_ok=True)


def read(config: Settings, did: str) -> dict[str, Any] | None:
    """The session ``kraken-market login`` saved for ``did``, or None."""
    path = session_file(config, did)
    if not path.is_file():
        _migrate(config, did)
    if not path.is_file():
        return None
    session = _parsed(path)
    return session if session["did"] == did else None


def save(config: Settings, session: dict[str, Any]) -> Path:
    """Keep a login's tokens for its DID, readable by their owner only (0600,
    written atomically); a session is never sent to another API."""
    kept = {k: session[k] for k in SESSION_FIELDS if k in session}
    kept["api_url"] = config.resolved_api_url
    path = session_file(config, str(session["did"]))
    write_private(path, json.dumps(kept, indent=1, default=str) + "\n")
    return path


def forget(config: Settings, did: str) -> None:
    """Drop ``did``'s session here (the API ends it first: ``kraken-market logout``)."""
    session_file(config, did).unlink(missing_ok=True)
