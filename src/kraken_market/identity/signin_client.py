"""The marketplace as an OpenID4VP Verifier: its own DID key and URLs (runs in the API).

The key is an Ed25519 seed in a file of mode 0600 (``Settings.signin_key_file``,
default ``data_dir/keys/signin.key``). Outside production it is made on first use;
in production it must exist already, so a deployment never signs sign-in requests
with a key nobody chose to keep (and that would change at the next start on an
ephemeral disk, breaking the requests wallets hold).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from kraken_market.files import PRIVATE, read_private
from kraken_market.identity import openid4vp
from kraken_market.identity.keys import DidKey
from kraken_market.identity.signin_errors import SigninKeyMissing

REQUESTS_PATH = "/api/v1/auth/requests/"
COMPLETE_PATH = "/signin/complete#response_code="
"""The marketplace page a same-device wallet sends the browser to; the code in the
fragment never reaches a server log (the page redeems it with its transaction id)."""


def load_signin_key(path: Path, *, create: bool) -> DidKey:
    """The verifier's key in ``path`` (hex seed, mode 0600); made there if ``create``.
    Of several workers making it at once, one wins (a hard link is exclusive) and the
    others read its key: every worker must sign as the same DID."""
    if not path.exists():
        if not create:
            raise SigninKeyMissing(
                f"the sign-in key {path} is missing: in production it is made on purpose "
                "(a hex Ed25519 seed, mode 0600; KRAKEN_SIGNIN_KEY_FILE names it)",
                details={"path": str(path)},
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{secrets.token_hex(4)}.new")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
        with os.fdopen(fd, "w") as handle:
            handle.write(DidKey.generate().seed.hex() + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another worker was first: use its key
        finally:
            draft.unlink()
    try:
        return DidKey.from_seed(bytes.fromhex(read_private(path).strip()))
    except ValueError as exc:
        raise SigninKeyMissing(f"{path} does not hold a hex Ed25519 seed") from exc


@dataclass(frozen=True)
class SigninClient:
    """The marketplace as an OpenID4VP Verifier: its DID key, name and URLs."""

    key: DidKey
    name: str
    base_url: str
    lifetime: timedelta
    requests_path: str = REQUESTS_PATH
    complete_path: str = COMPLETE_PATH

    @property
    def client_id(self) -> str:
        return openid4vp.CLIENT_ID_PREFIX + self.key.did

    def request_uri(self, request_id: str) -> str:
        return f"{self.base_url}{self.requests_path}{request_id}"

    def complete_url(self, response_code: str) -> str:
        """Where a same-device wallet sends the browser, with the one-time code."""
        return f"{self.base_url}{self.complete_path}{response_code}"
