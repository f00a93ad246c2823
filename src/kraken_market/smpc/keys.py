"""Compute nodes' HPKE keys: X25519 (RFC 7748), as DHKEM(X25519, HKDF-SHA256) uses them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from kraken_market.smpc.errors import SharingInvalid


@dataclass(frozen=True)
class NodePublicKey:
    """A compute node's X25519 public key (32 raw bytes)."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise SharingInvalid("a node's X25519 public key is 32 bytes")

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw key, hex: how manifests name a node's key."""
        return hashlib.sha256(self.raw).hexdigest()


@dataclass(frozen=True)
class NodeKeyPair:
    """A compute node's HPKE key pair; only ``private_bytes`` needs protecting."""

    private_bytes: bytes

    @classmethod
    def generate(cls) -> NodeKeyPair:
        return cls(_raw_private(X25519PrivateKey.generate()))

    @property
    def public_key(self) -> NodePublicKey:
        key = X25519PrivateKey.from_private_bytes(self.private_bytes).public_key()
        return NodePublicKey(key.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def __repr__(self) -> str:  # never print key material
        return f"NodeKeyPair(public={self.public_key.fingerprint[:16]}…)"


def _raw_private(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
