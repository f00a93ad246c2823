"""Golden vectors for the TypeScript libraries (web/packages/core), written by the
Python implementation from fixed seeds.

``PYTHONPATH=src python -m tests.web.golden`` rewrites web/packages/core/test/golden/;
tests/web/test_golden.py fails when the committed files differ from what this
makes now, and the Vitest tests check the TypeScript code against them. The other
direction (TypeScript writes, Python reads) is tests/web/test_typescript.py.

Everything is deterministic: Ed25519 (RFC 8032) and secp256k1 with RFC 6979
nonces sign deterministically, and the keystores' salt, iv and id, which
eth-keyfile draws itself, come from a seeded stream (see ``fixed_randomness``).
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kraken_market.identity.dids import DidResolver
from kraken_market.identity.keys import DidKey
from tests.web.golden_chain import amounts, bindings, eth
from tests.web.golden_identity import dids, jose_tokens, presentations

GOLDEN = Path(__file__).resolve().parents[2] / "web" / "packages" / "core" / "test" / "golden"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple ✓"
LOW_WORK = 2**10
"""scrypt n for most vectors: the TypeScript tests must stay fast; the standard
n = 2**18 (the wallet's) is used once, where it is the point."""


def seed(label: str) -> bytes:
    """32 bytes named by ``label``: the same seed here and in every run."""
    return hashlib.sha256(b"kraken-market golden vector " + label.encode()).digest()


def did_key(label: str) -> DidKey:
    return DidKey.from_seed(seed(label))


@contextmanager
def fixed_randomness(label: str) -> Iterator[None]:
    """eth-keyfile draws the keystore's salt and iv from ``Crypto.Random`` and its id
    from ``uuid4``; here both come from a SHA-256 stream seeded by ``label``."""
    from Crypto import Random
    from eth_keyfile import keyfile

    counter = iter(range(1_000))

    def draw(size: int) -> bytes:
        out = b""
        while len(out) < size:
            out += hashlib.sha256(seed(label) + next(counter).to_bytes(4, "big")).digest()
        return out[:size]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Random, "get_random_bytes", draw)
        patch.setattr(keyfile, "uuid4", lambda: uuid.UUID(bytes=draw(16), version=4))
        yield


def keystore(
    secret: bytes, label: str, *, kdf: str, work: int, address: bool = True
) -> dict[str, Any]:
    from eth_keyfile.keyfile import create_keyfile_json

    with fixed_randomness(label):
        store = create_keyfile_json(secret, PASSPHRASE.encode(), kdf=kdf, iterations=work)  # type: ignore[arg-type]
    if not address:
        store.pop("address")
    return store


def keystores() -> dict[str, Any]:
    """Keystores as eth-keyfile (the wallet's did_key) and eth-account write them."""
    from eth_account import Account

    cases: list[dict[str, Any]] = []
    for label, kdf, work, address in [
        ("scrypt seed", "scrypt", LOW_WORK, False),
        ("scrypt account", "scrypt", LOW_WORK, True),
        ("pbkdf2 account", "pbkdf2", 1_000, True),
        ("standard seed", "scrypt", 2**18, False),
    ]:
        secret = seed(label)
        store = keystore(secret, label, kdf=kdf, work=work, address=address)
        case = {"name": label, "secret": secret.hex(), "passphrase": PASSPHRASE, "keystore": store}
        if address:
            case["address"] = Account.from_key(secret).address
        cases.append(case)
    return {"cases": cases}


def wallet_file() -> dict[str, Any]:
    """A wallet file exactly as ``Wallet`` writes it (``_document`` + ``_save``), with one
    credential added the way ``add_credential`` stores it."""
    from eth_account import Account

    from kraken_market.identity import credentials as vc
    from kraken_market.identity import wallet
    from kraken_market.identity.credential_types import CredentialType

    holder, account = did_key("wallet did"), Account.from_key(seed("wallet account"))
    with fixed_randomness("wallet"):
        document = wallet._document(holder, account, PASSPHRASE, LOW_WORK)
    document["created_at"] = vc.timestamp(NOW)
    issuer = did_key("issuer")
    token = vc.issue(
        issuer,
        CredentialType.PERSON,
        {"id": holder.did, "name": "Zoë Ångström", "country": "SE"},
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=365),
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000001",
    )
    checked = vc.verify(token, DidResolver(), NOW)
    document["credentials"].append(
        wallet.StoredCredential(
            id=checked.id,
            type=checked.type.value,
            issuer=checked.issuer,
            valid_until=vc.timestamp(checked.valid_until) if checked.valid_until else None,
            subject={k: v for k, v in checked.subject.items() if k != "id"},
            token=token,
        ).to_json()
    )
    return {
        "passphrase": PASSPHRASE,
        "did_seed": holder.seed.hex(),
        "account_key": account.key.hex(),
        "now": vc.timestamp(NOW),
        "text": json.dumps(document, indent=1) + "\n",
    }


VECTORS: dict[str, Callable[[], dict[str, Any]]] = {
    "did.json": lambda: dids(seed),
    "jose.json": lambda: jose_tokens(did_key, NOW),
    "presentations.json": lambda: presentations(did_key, NOW),
    "keystores.json": keystores,
    "wallet.json": wallet_file,
    "eth.json": lambda: eth(seed),
    "bindings.json": lambda: bindings(did_key, seed, NOW),
    "amounts.json": amounts,
}


def render(vector: dict[str, Any]) -> str:
    return json.dumps(vector, indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, make in VECTORS.items():
        (GOLDEN / name).write_text(render(make()), encoding="utf-8")
        print(f"wrote {GOLDEN / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
