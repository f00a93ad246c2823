"""The holder's wallet: one JSON file (mode 0600) with the DID key, the ledger
account and the credentials a person logs in with.

Both private keys are stored in the Web3 Secret Storage format (keystore v3:
scrypt, AES-128-CTR, Keccak-256 MAC), the format geth, MetaMask and eth-account
read: the Ethereum account through ``eth_account.Account.encrypt``, the DID
key's 32-byte Ed25519 seed (RFC 8032) through ``eth_keyfile`` (the library
eth-account itself uses; its ``address`` field, meaningless for an Ed25519
seed, is left out, as the format allows). The public DID and address, and
the credentials (vc+jwt; public to whoever they are shown to), are in clear,
so listing them needs no passphrase. Nothing secret is written anywhere else,
and no ``repr`` shows key material.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kraken_market.db.base import utcnow
from kraken_market.errors import KrakenError
from kraken_market.files import read_private, write_private
from kraken_market.identity import credentials as vc
from kraken_market.identity import presentations
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.keys import DidKey
from kraken_market.identity.wallet_errors import (
    CredentialDuplicate,
    CredentialNotForWallet,
    CredentialNotInWallet,
    NothingToPresent,
    WalletExists,
    WalletInvalid,
    WalletLocked,
    WalletNotFound,
    WeakPassphrase,
    WrongPassphrase,
)

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

# eth-account and eth-keyfile are imported where keys are used, not at import: they
# pull in py_ecc, which raises the recursion limit to 100,000 (tests/test_jsondepth.py).

KIND = "kraken-market-wallet"
VERSION = 1
# scrypt n = 2**18, r = 8, p = 1: the Web3 Secret Storage "standard" parameters (geth).
DEFAULT_WORK_FACTOR = 2**18
MIN_PASSPHRASE = 8
_FIELDS = {"did": str, "address": str, "did_key": dict, "account": dict, "credentials": list}


@dataclass(frozen=True)
class StoredCredential:
    """A credential in the wallet, with what listing shows read from its payload."""

    id: str
    type: str
    issuer: str
    valid_until: str | None
    subject: dict[str, Any]
    token: str = field(repr=False)

    def expired(self, now: datetime) -> bool:
        return self.valid_until is not None and vc.parse_time(self.valid_until) <= now

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WalletKeys:
    """The unlocked keys; kept in memory only, for as long as one command runs."""

    did_key: DidKey
    account: LocalAccount

    def __repr__(self) -> str:
        return f"WalletKeys({self.did_key.did}, {self.account.address})"


def _document(
    did_key: DidKey, account: LocalAccount, passphrase: str, work_factor: int
) -> dict[str, Any]:
    """The file's content: both keys in keystore v3 (scrypt), public parts in clear."""
    from eth_account import Account
    from eth_keyfile.keyfile import create_keyfile_json

    secret = passphrase.encode()
    did_store = create_keyfile_json(did_key.seed, secret, kdf="scrypt", iterations=work_factor)
    did_store.pop("address", None)  # a secp256k1 address means nothing for an Ed25519 seed
    return {
        "kind": KIND,
        "version": VERSION,
        "did": did_key.did,
        "address": account.address,
        "did_key": did_store,
        "account": Account.encrypt(account.key, passphrase, kdf="scrypt", iterations=work_factor),
        "created_at": vc.timestamp(utcnow()),
        "credentials": [],
    }


def _claim(path: Path) -> None:
    """Create ``path`` empty and exclusively (O_EXCL): of two concurrent creates one
    fails, so a wallet's keys are never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError as exc:
        raise WalletExists(f"{path} exists already; a wallet is never overwritten") from exc


def _new_did_key() -> DidKey:
    # keystore v3 refuses keys at or above the secp256k1 group order; a random seed is
    # above this (slightly lower) bound with probability ~2**-127: draw again.
    while True:
        key = DidKey.generate()
        if 0 < int.from_bytes(key.seed, "big") < 2**256 - 2**129:
            return key


class Wallet:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self._data = data
        self._keys: WalletKeys | None = None

    @property
    def did(self) -> str:
        return str(self._data["did"])

    @property
    def address(self) -> str:
        return str(self._data["address"])

    def __repr__(self) -> str:
        state = "unlocked" if self._keys else "locked"
        return f"Wallet({self.path}, {self.did}, {self.address}, {state})"

    @classmethod
    def create(
        cls,
        path: Path,
        passphrase: str,
        eth_private_key: str | bytes | None = None,
        *,
        work_factor: int = DEFAULT_WORK_FACTOR,
    ) -> Wallet:
        """A new wallet with a fresh DID key and a new (or the given) Ethereum account."""
        from eth_account import Account

        if len(passphrase) < MIN_PASSPHRASE:
            raise WeakPassphrase(f"a wallet passphrase has at least {MIN_PASSPHRASE} characters")
        try:
            account = Account.from_key(eth_private_key) if eth_private_key else Account.create()
        except (ValueError, TypeError) as exc:
            raise WalletInvalid("the Ethereum private key is not 32 bytes of hex") from exc
        did_key = _new_did_key()
        _claim(path)
        try:
            wallet = cls(path, _document(did_key, account, passphrase, work_factor))
            wallet._save()  # replaces the claimed empty file atomically
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        wallet._keys = WalletKeys(did_key, account)
        return wallet

    @classmethod
    def open(cls, path: Path) -> Wallet:
        """Read a wallet; its public parts and credentials need no passphrase."""
        if not path.exists():
            raise WalletNotFound(
                f"no wallet at {path}; create one with 'kraken-market wallet create'",
                details={"path": str(path)},
            )
        try:
            data = json.loads(read_private(path))
        except KrakenError:  # e.g. readable by others
            raise
        except ValueError as exc:
            raise WalletInvalid(f"{path} is not JSON") from exc
        if not isinstance(data, dict) or (data.get("kind"), data.get("version")) != (KIND, VERSION):
            raise WalletInvalid(f"{path} is not a version {VERSION} Kraken Market wallet")
        for name, type_ in _FIELDS.items():
            if not isinstance(data.get(name), type_):
                raise WalletInvalid(f"the wallet has no valid '{name}'")
        return cls(path, data)

    def _save(self) -> None:
        write_private(self.path, json.dumps(self._data, indent=1) + "\n")

    def unlock(self, passphrase: str) -> WalletKeys:
        """Decrypt both keystores (scrypt: about a second each, by design)."""
        from eth_account import Account
        from eth_keyfile.keyfile import decode_keyfile_json

        secret = passphrase.encode()
        try:
            seed = decode_keyfile_json(self._data["did_key"], secret)
            key = Account.decrypt(self._data["account"], passphrase)
        except ValueError as exc:  # eth-keyfile / eth-account: "MAC mismatch"
            if "MAC mismatch" in str(exc):
                raise WrongPassphrase(f"wrong passphrase for the wallet {self.path}") from exc
            raise WalletInvalid(f"a keystore in {self.path} is damaged ({exc})") from exc
        except (KeyError, TypeError) as exc:
            raise WalletInvalid(f"a keystore in {self.path} is damaged") from exc
        keys = WalletKeys(DidKey.from_seed(bytes(seed)), Account.from_key(key))
        if keys.did_key.did != self.did or keys.account.address != self.address:
            raise WalletInvalid("the wallet's keys do not match its DID or address (tampered?)")
        self._keys = keys
        return keys

    @property
    def keys(self) -> WalletKeys:
        if self._keys is None:
            raise WalletLocked("the wallet is locked: unlock it with its passphrase first")
        return self._keys

    def lock(self) -> None:
        self._keys = None

    def credentials(self, type_: str | None = None) -> list[StoredCredential]:
        stored = [StoredCredential(**c) for c in self._data["credentials"]]
        return [c for c in stored if type_ is None or c.type == type_]

    def add_credential(
        self, token: str, *, resolver: DidResolver | None = None, now: datetime | None = None
    ) -> StoredCredential:
        """Check ``token`` (signature by its issuer, schema, validity) and that it is
        about this wallet's DID, then keep it. Trust and revocation are the
        verifier's to judge, at every login."""
        checked = vc.verify(token.strip(), resolver or DidResolver(), now or utcnow())
        if checked.subject_id != self.did:
            raise CredentialNotForWallet(
                f"this {checked.type.value} is about {checked.subject_id}, not this wallet's DID",
                details={"subject": checked.subject_id, "wallet": self.did},
            )
        if any(c.id == checked.id for c in self.credentials()):
            raise CredentialDuplicate(f"the wallet holds {checked.id} already")
        stored = StoredCredential(
            id=checked.id,
            type=checked.type.value,
            issuer=checked.issuer,
            valid_until=vc.timestamp(checked.valid_until) if checked.valid_until else None,
            subject={k: v for k, v in checked.subject.items() if k != "id"},
            token=checked.token,
        )
        self._data["credentials"].append(stored.to_json())
        self._save()
        return stored

    def remove_credential(self, credential_id: str) -> StoredCredential:
        for index, credential in enumerate(self.credentials()):
            if credential.id == credential_id:
                del self._data["credentials"][index]
                self._save()
                return credential
        raise CredentialNotInWallet(f"the wallet holds no credential {credential_id!r}")

    def present(
        self,
        audience: str,
        nonce: str,
        types: list[str] | None = None,
        *,
        now: datetime | None = None,
    ) -> str:
        """A ``vp+jwt`` of the unexpired credentials (of ``types``) for ``audience``."""
        holder = self.keys.did_key  # locked: say so before anything else
        moment = now or utcnow()
        chosen = [
            c.token
            for c in self.credentials()
            if not c.expired(moment) and (not types or c.type in types)
        ]
        if not chosen:
            wanted = ", ".join(types) if types else "any type"
            raise NothingToPresent(f"the wallet holds no unexpired credential of {wanted}")
        if len(chosen) > presentations.MAX_CREDENTIALS:
            raise NothingToPresent(
                f"a presentation carries at most {presentations.MAX_CREDENTIALS} credentials; "
                "choose types"
            )
        return presentations.present(holder, chosen, audience=audience, nonce=nonce, now=moment)
