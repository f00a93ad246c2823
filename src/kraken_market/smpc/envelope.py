"""Encrypted share files: HPKE (RFC 9180) to one compute node, in authenticated chunks.

Suite: DHKEM(X25519, HKDF-SHA256) (KEM 0x0020), HKDF-SHA256 (KDF 0x0001),
AES-128-GCM (AEAD 0x0001), base mode, through pyhpke. One HPKE context per
file: the sender encapsulates once (``enc``, 32 bytes) and seals the chunks
in order with the context, so chunk k uses nonce ``base_nonce XOR k``
(RFC 9180 §5.2). Byte layout, version 1 (integers little-endian)::

    offset size  field
    0      8     magic b"KRKNENV\\x00"
    8      2     envelope version (1)
    10     6     KEM, KDF, AEAD ids (0x0020, 0x0001, 0x0001)
    16     32    product id (the bytes32)
    48     2     node index (0-based)
    50     4     chunk size: plaintext bytes of every chunk but the last
    54     4     chunk count
    58     8     plaintext length
    66     32    enc
    98     ...   chunk ciphertexts (plaintext + 16-byte tag each), back to back

The 66-byte prefix is the HPKE ``info`` (after a label) and, followed by the
chunk index (4 bytes), the associated data of every chunk. So format version,
product, node, chunk index and chunk count are all authenticated: truncation,
reordering, a chunk from another file, node or product, or a flipped byte each
make a chunk fail to open. The prefix is checked in clear first, so that a file
meant for another node or product gets an error saying so.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final, Protocol

from pyhpke import AEADId, CipherSuite, KDFId, KEMId
from pyhpke.context_interface import ContextInterface

from kraken_market.smpc.errors import (
    EnvelopeInvalid,
    EnvelopeMisdirected,
    EnvelopeTampered,
    EnvelopeTruncated,
    SharingInvalid,
)
from kraken_market.smpc.ids import product_bytes
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey

MAGIC: Final = b"KRKNENV\x00"
VERSION: Final = 1
CHUNK_SIZE: Final = 1 << 20
TAG_SIZE: Final = 16
_PREFIX = struct.Struct("<8sHHHH32sHIIQ")
PREFIX_SIZE: Final = _PREFIX.size  # 66
HEADER_SIZE: Final = PREFIX_SIZE + 32
_INFO_LABEL = b"kraken-market share file"
SUITE: Final = CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, AEADId.AES128_GCM)


class Sink(Protocol):
    """Where sealed bytes go: a file, a storage writer, a hashing wrapper."""

    def write(self, data: bytes, /) -> object: ...


@dataclass(frozen=True)
class EnvelopeHeader:
    product: bytes
    node_index: int
    chunk_size: int
    chunk_count: int
    plaintext_length: int
    enc: bytes
    label: bytes = _INFO_LABEL

    @property
    def prefix(self) -> bytes:
        kem, kdf, aead = SUITE.kem.id.value, SUITE.kdf.id.value, SUITE.aead.id.value
        return _PREFIX.pack(
            MAGIC, VERSION, kem, kdf, aead, self.product, self.node_index,
            self.chunk_size, self.chunk_count, self.plaintext_length,
        )  # fmt: skip

    @property
    def info(self) -> bytes:
        return self.label + self.prefix

    def aad(self, index: int) -> bytes:
        return self.prefix + struct.pack("<I", index)

    @property
    def ciphertext_length(self) -> int:
        return HEADER_SIZE + self.plaintext_length + TAG_SIZE * self.chunk_count


def chunk_count(plaintext_length: int, chunk_size: int = CHUNK_SIZE) -> int:
    """Chunks for a plaintext; an empty plaintext is still one (empty) chunk."""
    return max(1, -(-plaintext_length // chunk_size))


def sealed_length(plaintext_length: int, chunk_size: int = CHUNK_SIZE) -> int:
    return HEADER_SIZE + plaintext_length + TAG_SIZE * chunk_count(plaintext_length, chunk_size)


class EnvelopeWriter:
    """Seals exactly ``plaintext_length`` bytes, written in any pieces, to ``sink``."""

    def __init__(
        self,
        sink: Sink,
        recipient: NodePublicKey,
        product_id: str,
        node_index: int,
        plaintext_length: int,
        chunk_size: int = CHUNK_SIZE,
        *,
        label: bytes = _INFO_LABEL,
    ) -> None:
        if not 0 < chunk_size < 1 << 32:
            raise SharingInvalid("chunk size must be between 1 byte and 4 GiB")
        count = chunk_count(plaintext_length, chunk_size)
        if count >= 1 << 32 or not 0 <= node_index < 1 << 16:
            raise SharingInvalid("at most 2**32 - 1 chunks and 65,536 nodes")
        header = EnvelopeHeader(
            product_bytes(product_id), node_index, chunk_size, count, plaintext_length, b"", label
        )
        enc, context = SUITE.create_sender_context(
            SUITE.kem.deserialize_public_key(recipient.raw), info=header.info
        )
        self._header = replace(header, enc=enc)
        self._sink, self._context = sink, context
        self._buffer = bytearray()
        self._index = 0
        self._written = 0
        sink.write(self._header.prefix + enc)

    def write(self, data: bytes | memoryview) -> None:
        self._written += len(data)
        if self._written > self._header.plaintext_length:
            raise SharingInvalid("more plaintext than the envelope declares")
        self._buffer += data
        size, used = self._header.chunk_size, 0
        with memoryview(self._buffer) as view:
            while len(view) - used >= size and self._index < self._header.chunk_count - 1:
                self._seal(view[used : used + size])
                used += size
        del self._buffer[:used]

    def close(self) -> None:
        if self._written != self._header.plaintext_length:
            raise SharingInvalid(
                f"envelope declared {self._header.plaintext_length} bytes, got {self._written}"
            )
        self._seal(bytes(self._buffer))
        self._buffer.clear()

    def _seal(self, chunk: bytes | memoryview) -> None:
        # pyhpke hands the chunk to AESGCM, which takes any bytes-like object (no copy).
        sealed = self._context.seal(chunk, aad=self._header.aad(self._index))  # type: ignore[arg-type]
        self._sink.write(sealed)
        self._index += 1


def read_header(data: bytes | memoryview) -> EnvelopeHeader:
    """The clear header of an encrypted share file (not yet authenticated)."""
    if len(data) < HEADER_SIZE:
        raise EnvelopeTruncated(f"an encrypted share file has a {HEADER_SIZE}-byte header")
    magic, version, kem, kdf, aead, product, node, size, count, length = _PREFIX.unpack(
        bytes(data[:PREFIX_SIZE])
    )
    if magic != MAGIC:
        raise EnvelopeInvalid("not an encrypted Kraken Market share file (bad magic)")
    if version != VERSION:
        raise EnvelopeInvalid(f"envelope version {version} is not supported (only {VERSION})")
    if (kem, kdf, aead) != (SUITE.kem.id.value, SUITE.kdf.id.value, SUITE.aead.id.value):
        raise EnvelopeInvalid(f"HPKE suite ({kem:#06x}, {kdf:#06x}, {aead:#06x}) not supported")
    if size == 0 or count != chunk_count(length, size):
        raise EnvelopeInvalid("the chunk count does not fit the plaintext length")
    return EnvelopeHeader(product, node, size, count, length, bytes(data[PREFIX_SIZE:HEADER_SIZE]))


def iter_open(
    data: bytes | memoryview,
    key: NodeKeyPair,
    product_id: str,
    node_index: int,
    *,
    label: bytes = _INFO_LABEL,
) -> Iterator[bytes]:
    """The plaintext chunks of an encrypted share file, each authenticated before it is
    yielded. Raises ``EnvelopeMisdirected``, ``EnvelopeTruncated``, ``EnvelopeTampered``."""
    view = memoryview(data)
    header = replace(read_header(view), label=label)
    if header.product != product_bytes(product_id):
        raise EnvelopeMisdirected(
            f"this share file is for product 0x{header.product.hex()}, not {product_id}"
        )
    if header.node_index != node_index:
        raise EnvelopeMisdirected(
            f"this share file is for node {header.node_index}, not node {node_index}"
        )
    if len(view) < header.ciphertext_length:
        raise EnvelopeTruncated(
            f"the share file is truncated: {len(view)} of {header.ciphertext_length} bytes"
        )
    if len(view) > header.ciphertext_length:
        raise EnvelopeTampered(
            f"the share file has {len(view) - header.ciphertext_length} bytes past its last chunk"
        )
    context = _recipient(header, key)
    offset = HEADER_SIZE
    for index in range(header.chunk_count):
        last = index == header.chunk_count - 1
        size = header.plaintext_length - index * header.chunk_size if last else header.chunk_size
        piece = view[offset : offset + size + TAG_SIZE]
        offset += size + TAG_SIZE
        try:
            yield context.open(bytes(piece), aad=header.aad(index))
        except Exception as exc:  # pyhpke wraps every AEAD failure in OpenError
            raise EnvelopeTampered(
                f"chunk {index + 1} of {header.chunk_count} does not authenticate: the file was "
                "modified, its chunks reordered or mixed with another share file, "
                "or it is not encrypted to this node's key"
            ) from exc


def _recipient(header: EnvelopeHeader, key: NodeKeyPair) -> ContextInterface:
    try:
        private = SUITE.kem.deserialize_private_key(key.private_bytes)
        return SUITE.create_recipient_context(header.enc, private, info=header.info)
    except Exception as exc:  # a malformed enc
        raise EnvelopeTampered("the encapsulated key in the header is invalid") from exc


def open_envelope(
    data: bytes | memoryview,
    key: NodeKeyPair,
    product_id: str,
    node_index: int,
    *,
    label: bytes = _INFO_LABEL,
) -> bytes:
    """The whole plaintext of an encrypted share file, in memory (see :func:`iter_open`).
    ``label`` prefixes the HPKE info: result shares use their own (``smpc.results``)."""
    return b"".join(iter_open(data, key, product_id, node_index, label=label))
