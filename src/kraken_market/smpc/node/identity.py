"""A compute node's own keys, in files only its operator can read (mode 0600).

- ``keys/hpke.key``: the X25519 private key (hex) owners encrypt share files to
  (HPKE, RFC 9180); its public key is registered on chain with the node.
- ``keys/account.key``: the node's ledger account (hex secp256k1 key), which
  signs its attestations; the admin registers this account as a node.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from kraken_market.errors import InvalidRequest
from kraken_market.smpc.keys import NodeKeyPair


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text + "\n")
    os.chmod(path, 0o600)


def read_private(path: Path) -> str:
    if not path.is_file():
        raise InvalidRequest(f"no key file at {path}: run 'kraken-market node init' first")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidRequest(f"{path} is readable by others: run 'chmod 600 {path}'")
    return path.read_text().strip()


def create_keys(hpke_file: Path, account_file: Path, account_key: str | None = None) -> None:
    """Create the node's keys where missing (an existing key is never overwritten)."""
    if not hpke_file.exists():
        write_private(hpke_file, NodeKeyPair.generate().private_bytes.hex())
    if not account_file.exists():
        key = account_key or Account.create().key.hex()
        write_private(account_file, key.removeprefix("0x"))


def load_hpke(path: Path) -> NodeKeyPair:
    text = read_private(path)
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise InvalidRequest(f"{path} does not hold a hex X25519 key") from exc
    if len(raw) != 32:
        raise InvalidRequest(f"{path}: an X25519 private key is 32 bytes")
    return NodeKeyPair(raw)


def load_account(path: Path) -> LocalAccount:
    text = read_private(path)
    try:
        account: LocalAccount = Account.from_key(text)
    except ValueError as exc:
        raise InvalidRequest(f"{path} does not hold an account key") from exc
    return account
