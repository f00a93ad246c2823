"""The clear header of an encrypted data file (``datafile``), and its fixed sizes.

Layout, version 1 (integers little-endian; ``docs/access.md`` has the table)::

    0    8   magic b"KRKNDAT\\x00"
    8    2   version (1)
    10   2   suite (1: AES-256-GCM chunks, HKDF-SHA256 subkeys, HMAC-SHA256 header tag)
    12   32  product id (the ledger's bytes32)
    44   32  key commitment (``datafile.key_commitment``)
    76   16  salt (random per file)
    92   4   chunk size (plaintext bytes of every chunk but the last; 1 B to 16 MiB)
    96   8   plaintext length
    104  8   chunk count (an empty file has one empty chunk)
    112  32  HMAC-SHA256 of bytes 0-111 under the file's header key

Then each chunk: salt (16), chunk index (8, big-endian), flags (1: bit 0 = final),
and the AES-GCM ciphertext with its 16-byte tag.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Final

from kraken_market.access.errors import DataFileInvalid, DataFileTruncated

MAGIC: Final = b"KRKNDAT\x00"
VERSION: Final = 1
SUITE_ID: Final = 1  # AES-256-GCM chunks, HKDF-SHA256 subkeys, HMAC-SHA256 header tag
KEY_SIZE: Final = 32
TAG_SIZE: Final = 16
SALT_SIZE: Final = 16
CHUNK_SIZE: Final = 1 << 20
MAX_CHUNK_SIZE: Final = 1 << 24  # a reader holds one chunk: bounded memory
PREFIX = struct.Struct("<8sHH32s32s16sIQQ")
HEADER_SIZE: Final = PREFIX.size + 32  # 144: the prefix and its HMAC-SHA256 tag
FRAME = struct.Struct(">16sQB")
FRAME_SIZE: Final = FRAME.size  # 25: salt, chunk index, flags before each chunk
FINAL: Final = 1


def chunk_count(length: int, chunk_size: int) -> int:
    """Chunks for ``length`` plaintext bytes; an empty file is one empty (final) chunk."""
    return max(1, -(-length // chunk_size))


def encrypted_length(length: int, chunk_size: int = CHUNK_SIZE) -> int:
    return HEADER_SIZE + length + (FRAME_SIZE + TAG_SIZE) * chunk_count(length, chunk_size)


@dataclass(frozen=True)
class DataFileHeader:
    product: bytes
    key_commitment: bytes
    salt: bytes
    chunk_size: int
    plaintext_length: int
    chunk_count: int
    tag: bytes = b""

    @property
    def prefix(self) -> bytes:
        return PREFIX.pack(
            MAGIC, VERSION, SUITE_ID, self.product, self.key_commitment, self.salt,
            self.chunk_size, self.plaintext_length, self.chunk_count,
        )  # fmt: skip

    @property
    def product_id(self) -> str:
        return "0x" + self.product.hex()

    def to_bytes(self) -> bytes:
        return self.prefix + self.tag

    def chunk_length(self, index: int) -> int:
        if index < self.chunk_count - 1:
            return self.chunk_size
        return self.plaintext_length - index * self.chunk_size

    @property
    def encrypted_length(self) -> int:
        return encrypted_length(self.plaintext_length, self.chunk_size)


def read_exactly(source: BinaryIO, size: int) -> bytes:
    parts, missing = [], size
    while missing:
        part = source.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def read_header(source: BinaryIO) -> DataFileHeader:
    """The header of a data file (checked for form, not yet authenticated)."""
    raw = read_exactly(source, HEADER_SIZE)
    if len(raw) < HEADER_SIZE:
        raise DataFileTruncated(f"a data file starts with a {HEADER_SIZE}-byte header")
    magic, version, suite, product, commitment, salt, size, length, count = PREFIX.unpack(
        raw[: PREFIX.size]
    )
    if magic != MAGIC:
        raise DataFileInvalid("not an encrypted Kraken Market data file (bad magic)")
    if version != VERSION or suite != SUITE_ID:
        raise DataFileInvalid(f"data file version {version}, suite {suite} is not supported")
    if not 0 < size <= MAX_CHUNK_SIZE or count != chunk_count(length, size):
        raise DataFileInvalid("the header's chunk size, count and length do not fit together")
    return DataFileHeader(product, commitment, salt, size, length, count, raw[PREFIX.size :])
