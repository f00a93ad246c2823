"""Revocation with W3C Bitstring Status List v1.0.

A status list is a bitstring of at least 131,072 entries (16 KiB: the
specification's minimum, so one holder's index hides among many); bit ``i``
is the ``i``-th bit counting from the most significant bit of the first byte;
``encodedList`` is the multibase base64url (``u``, no padding) of the GZIP
compressed bitstring. A credential points at its bit with a
``BitstringStatusListEntry``; the list itself travels as a
``BitstringStatusListCredential`` signed by the same issuer.
"""

from __future__ import annotations

import base64
import gzip
import io
from dataclasses import dataclass
from typing import Any

from kraken_market.identity.errors import CredentialInvalid

MIN_ENTRIES = 131_072
MAX_ENTRIES = 2 * MIN_ENTRIES
REVOCATION = "revocation"


@dataclass(frozen=True)
class StatusEntry:
    """Where a credential's status bit lives (a ``BitstringStatusListEntry``)."""

    list_url: str
    index: int
    purpose: str = REVOCATION

    def to_json(self) -> dict[str, str]:
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> StatusEntry:
        return cls(
            list_url=str(value["statusListCredential"]),
            index=int(value["statusListIndex"]),
            purpose=str(value["statusPurpose"]),
        )


class Bitstring:
    """The bits of one status list; ``encode``/``decode`` are the spec's algorithms."""

    def __init__(self, data: bytes | bytearray | None = None, size: int = MIN_ENTRIES) -> None:
        if data is None:
            if size % 8 or not MIN_ENTRIES <= size <= MAX_ENTRIES:
                raise ValueError(
                    f"a status list has {MIN_ENTRIES}-{MAX_ENTRIES} entries, 8k of them"
                )
            data = bytes(size // 8)
        self.bits = bytearray(data)

    @property
    def size(self) -> int:
        return len(self.bits) * 8

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self.bits[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool = True) -> None:
        self._check(index)
        if value:
            self.bits[index >> 3] |= 0x80 >> (index & 7)
        else:
            self.bits[index >> 3] &= ~(0x80 >> (index & 7)) & 0xFF

    def _check(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise CredentialInvalid(
                f"status index {index} is outside the list (0-{self.size - 1})",
                details={"index": index},
            )

    def covers(self, other: Bitstring) -> bool:
        """Whether every bit set in ``other`` is set here too (revocation is final)."""
        return len(self.bits) == len(other.bits) and all(
            (a & b) == b for a, b in zip(self.bits, other.bits, strict=True)
        )

    def encode(self) -> str:
        packed = gzip.compress(bytes(self.bits), compresslevel=9, mtime=0)
        return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode()

    @classmethod
    def decode(cls, encoded: str) -> Bitstring:
        if not encoded.startswith("u"):
            raise CredentialInvalid("encodedList must be multibase base64url ('u' prefix)")
        body = encoded[1:]
        try:
            packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            # Bounded decompression: a tiny gzip bomb must not allocate gigabytes.
            decompressor = gzip.GzipFile(fileobj=io.BytesIO(packed))
            data = decompressor.read(MAX_ENTRIES // 8 + 1)
        except (ValueError, OSError, EOFError) as exc:
            raise CredentialInvalid("encodedList is not GZIP-compressed base64url") from exc
        if len(data) * 8 > MAX_ENTRIES or len(data) * 8 < MIN_ENTRIES:
            raise CredentialInvalid(
                f"a status list must have {MIN_ENTRIES}-{MAX_ENTRIES} entries",
                details={"entries": len(data) * 8},
            )
        return cls(data)
