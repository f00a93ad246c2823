"""The wallet file: keystore v3 (Web3 Secret Storage) keys, credentials, presentations.

Wallets here use a small scrypt work factor (the parameter is injected) so the
suite stays fast; the format and code path are the same as the default's.
"""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_keyfile.keyfile import decode_keyfile_json

from kraken_market.db.base import utcnow
from kraken_market.errors import InvalidRequest
from kraken_market.identity import presentations
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import CredentialExpired, InvalidSignature, MalformedToken
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.keys import DidKey
from kraken_market.identity.wallet import DEFAULT_WORK_FACTOR, Wallet
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

PASSPHRASE = "correct horse battery staple"
FAST = 2**10
REGISTRY = "http://127.0.0.1:8700"


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    return Wallet.create(tmp_path / "wallet.json", PASSPHRASE, work_factor=FAST)


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return Issuer.open(tmp_path / "issuer")


def person(issuer: Issuer, did: str, **kwargs: Any) -> str:
    return issuer.issue(
        CredentialType.PERSON, {"id": did, "name": "Alice"}, registry_url=REGISTRY, **kwargs
    )


def test_the_file_is_private_and_holds_standard_keystores(wallet: Wallet) -> None:
    assert stat.S_IMODE(wallet.path.stat().st_mode) == 0o600
    data = json.loads(wallet.path.read_text())
    for store in (data["did_key"], data["account"]):
        assert store["version"] == 3
        assert store["crypto"]["kdf"] == "scrypt" and store["crypto"]["kdfparams"]["n"] == FAST
        assert store["crypto"]["cipher"] == "aes-128-ctr"
    # the Ethereum account opens with eth-account alone, as any keystore v3 tool would
    key = Account.decrypt(data["account"], PASSPHRASE)
    assert Account.from_key(key).address == wallet.address == data["address"]
    seed = decode_keyfile_json(data["did_key"], PASSPHRASE.encode())
    assert DidKey.from_seed(bytes(seed)).did == wallet.did == data["did"]
    assert "address" not in data["did_key"]  # no secp256k1 address for an Ed25519 seed
    assert DEFAULT_WORK_FACTOR == 2**18  # Web3 Secret Storage's standard scrypt n


def test_an_existing_ethereum_key_is_imported(tmp_path: Path) -> None:
    account = Account.create()
    wallet = Wallet.create(tmp_path / "w.json", PASSPHRASE, account.key.hex(), work_factor=FAST)
    assert wallet.address == account.address
    assert Wallet.open(wallet.path).unlock(PASSPHRASE).account.key == account.key
    with pytest.raises(WalletInvalid):
        Wallet.create(tmp_path / "bad.json", PASSPHRASE, "0x1234", work_factor=FAST)


def test_create_refuses_to_overwrite_and_weak_passphrases(wallet: Wallet, tmp_path: Path) -> None:
    before = wallet.path.read_bytes()
    with pytest.raises(WalletExists):
        Wallet.create(wallet.path, PASSPHRASE, work_factor=FAST)
    assert wallet.path.read_bytes() == before
    with pytest.raises(WeakPassphrase):
        Wallet.create(tmp_path / "weak.json", "short", work_factor=FAST)
    assert not (tmp_path / "weak.json").exists()


def test_unlock_and_its_errors(wallet: Wallet) -> None:
    opened = Wallet.open(wallet.path)  # public parts need no passphrase
    assert (opened.did, opened.address) == (wallet.did, wallet.address)
    with pytest.raises(WalletLocked) as locked:
        opened.present(REGISTRY, "n")
    assert locked.value.code == "wallet_locked"
    with pytest.raises(WrongPassphrase) as wrong:
        opened.unlock("not the passphrase")
    assert wrong.value.code == "wrong_passphrase"
    keys = opened.unlock(PASSPHRASE)
    assert keys.did_key.did == wallet.did and keys.account.address == wallet.address
    opened.lock()
    with pytest.raises(WalletLocked) as again:
        _ = opened.keys
    assert again.value.code == "wallet_locked"


def test_no_secret_in_repr_or_in_clear_in_the_file(wallet: Wallet, issuer: Issuer) -> None:
    stored = wallet.add_credential(person(issuer, wallet.did))
    keys = wallet.keys
    secrets = [
        keys.did_key.seed.hex(),
        bytes(keys.account.key).hex(),
        PASSPHRASE,
    ]
    text = wallet.path.read_text()
    shown = " ".join([repr(wallet), repr(keys), repr(keys.did_key), repr(stored)])
    for secret in secrets:
        assert secret not in text
        assert secret not in shown
    assert stored.token not in repr(stored)


def test_missing_foreign_and_loose_files_are_refused(wallet: Wallet, tmp_path: Path) -> None:
    with pytest.raises(WalletNotFound) as missing:
        Wallet.open(tmp_path / "none.json")
    assert "kraken-market wallet create" in missing.value.message
    wallet.path.chmod(0o644)
    with pytest.raises(InvalidRequest, match="chmod 600"):
        Wallet.open(wallet.path)
    wallet.path.chmod(0o600)
    other = tmp_path / "other.json"
    other.write_text('{"kind": "something-else"}')
    other.chmod(0o600)
    with pytest.raises(WalletInvalid):
        Wallet.open(other)
    # keys that do not match the DID in clear: refused on unlock
    data = json.loads(wallet.path.read_text())
    data["did"] = DidKey.generate().did
    other.write_text(json.dumps(data))
    with pytest.raises(WalletInvalid, match="tampered"):
        Wallet.open(other).unlock(PASSPHRASE)


def test_credentials_add_list_remove(wallet: Wallet, issuer: Issuer) -> None:
    token = person(issuer, wallet.did)
    stored = wallet.add_credential(token + "\n")
    assert (stored.type, stored.issuer, stored.subject) == (
        "PersonCredential",
        issuer.did,
        {"name": "Alice"},
    )
    assert stored.valid_until is not None and stored.token == token
    role = issuer.issue(
        CredentialType.PLATFORM_ROLE, {"id": wallet.did, "role": "admin"}, registry_url=REGISTRY
    )
    wallet.add_credential(role)
    reopened = Wallet.open(wallet.path)
    assert [c.type for c in reopened.credentials()] == [
        "PersonCredential",
        "PlatformRoleCredential",
    ]
    assert [c.id for c in reopened.credentials("PersonCredential")] == [stored.id]
    with pytest.raises(CredentialDuplicate):
        reopened.add_credential(token)
    assert reopened.remove_credential(stored.id).id == stored.id
    assert [c.type for c in Wallet.open(wallet.path).credentials()] == ["PlatformRoleCredential"]
    with pytest.raises(CredentialNotInWallet):
        reopened.remove_credential(stored.id)


def test_credentials_that_are_not_ours_or_not_good_are_refused(
    wallet: Wallet, issuer: Issuer
) -> None:
    before = wallet.path.read_bytes()
    with pytest.raises(CredentialNotForWallet) as foreign:
        wallet.add_credential(person(issuer, DidKey.generate().did))
    assert foreign.value.code == "credential_not_for_wallet"
    token = person(issuer, wallet.did)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(InvalidSignature):
        wallet.add_credential(forged)
    with pytest.raises(MalformedToken):
        wallet.add_credential("not a token")
    old = person(
        issuer, wallet.did, valid_from=utcnow() - timedelta(days=3), valid_for=timedelta(days=1)
    )
    with pytest.raises(CredentialExpired):
        wallet.add_credential(old)
    assert wallet.path.read_bytes() == before


def test_present_makes_a_presentation_the_marketplace_accepts(
    wallet: Wallet, issuer: Issuer
) -> None:
    token = person(issuer, wallet.did, valid_for=timedelta(days=30))
    wallet.add_credential(token)
    role = issuer.issue(
        CredentialType.PLATFORM_ROLE, {"id": wallet.did, "role": "arbiter"}, registry_url=REGISTRY
    )
    wallet.add_credential(role)
    now = utcnow()
    opened = presentations.open_presentation(
        wallet.present(REGISTRY, "nonce-1"),
        DidResolver(),
        audience=REGISTRY,
        now=now,
        max_bytes=32_768,
    )
    assert (opened.holder, opened.nonce, opened.credentials) == (
        wallet.did,
        "nonce-1",
        [token, role],
    )
    only_person = wallet.present(REGISTRY, "n2", ["PersonCredential"])
    chosen = presentations.open_presentation(
        only_person, DidResolver(), audience=REGISTRY, now=now, max_bytes=32_768
    )
    assert chosen.credentials == [token]
    # an expired credential is left out; with none left there is nothing to present
    later = now + timedelta(days=60)
    assert presentations.open_presentation(
        wallet.present(REGISTRY, "n3", now=later),
        DidResolver(),
        audience=REGISTRY,
        now=later,
        max_bytes=32_768,
    ).credentials == [role]
    with pytest.raises(NothingToPresent):
        wallet.present(REGISTRY, "n4", ["PersonCredential"], now=later)
    with pytest.raises(NothingToPresent):
        wallet.present(REGISTRY, "n5", ["AttorneyCredential"])
