"""Ed25519 signing keys identified by their ``did:key`` (RFC 8032; did:key Method v0.7)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from kraken_market.identity.dids import did_key


@dataclass(frozen=True)
class DidKey:
    """A person's, company's or node's Ed25519 key and the ``did:key`` it controls.

    ``kid`` is the DID URL of the key's verification method, as did:key defines
    it (the fragment repeats the method-specific id); JOSE headers carry it.
    """

    private_key: Ed25519PrivateKey
    did: str = field(init=False)
    kid: str = field(init=False)

    def __post_init__(self) -> None:
        did = did_key(self.public_bytes)
        object.__setattr__(self, "did", did)
        object.__setattr__(self, "kid", f"{did}#{did.removeprefix('did:key:')}")

    @classmethod
    def generate(cls) -> DidKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> DidKey:
        """The key of a 32-byte RFC 8032 seed (what a wallet stores, encrypted)."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def seed(self) -> bytes:
        return self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    def __repr__(self) -> str:  # never print key material
        return f"DidKey({self.did})"
