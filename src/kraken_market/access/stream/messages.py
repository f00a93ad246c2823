"""The stream frame: one message, AES-256-GCM under its epoch's key, its header as AAD.

A frame is what a transport carries and the relay stores; it is ciphertext
except for the header, which every hop may read (it routes and orders frames)
but nobody may change. Byte layout (big-endian)::

    offset  size  field
    0       3     magic  b"KMS"
    3       1     version (1)
    4       32    product id (the ledger's bytes32)
    36      8     epoch number    (< 2**63, fits a signed SQL BIGINT)
    44      8     sequence number (< 2**63; strictly increasing over the stream)
    52      8     timestamp, unix milliseconds (< 2**63)
    60      n+16  AES-256-GCM ciphertext of the n-byte message, then its 16-byte tag

AES-GCM is used as RFC 5116 (AEAD_AES_256_GCM) and NIST SP 800-38D define it,
with the 60 header bytes as associated data: changing any header field (say,
the epoch, to make a subscriber fetch another key, or the sequence number, to
replay a frame at another position) fails the tag like a changed ciphertext.

The 96-bit nonce is ``uint32_be(epoch mod 2**32) || uint64_be(seq)``, the
deterministic construction of SP 800-38D §8.2.1 (a fixed field and an
invocation counter). GCM is only safe if a (key, nonce) pair never repeats;
that holds here because every epoch key is 256 fresh random bits used by one
publisher for one epoch only (``epochs.new_epoch_key``), and within that
epoch the publisher's sequence number only grows. A publisher that restarts
or fails to send never reuses a key: it opens a new epoch with a new key
(``publisher.StreamPublisher``). An epoch carries at most 2**32 messages
(``epochs.MAX_MESSAGES_PER_EPOCH``), far inside GCM's per-key limits.

On the subscriber's side :class:`SequenceGuard` refuses a frame whose
sequence number is not after the last one accepted (a replay, or a frame out
of order) and an epoch older than the last one; it is advanced only after the
frame authenticated, so a forged header cannot move it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kraken_market.access.stream.errors import (
    FrameEpochRegressed,
    FrameMalformed,
    FrameReplayed,
    FrameTampered,
    FrameVersionUnsupported,
    FrameWrongProduct,
)

MAGIC = b"KMS"
VERSION = 1
KEY_BYTES = 32
TAG_BYTES = 16
_HEADER = struct.Struct(">3sB32sQQQ")
HEADER_BYTES = _HEADER.size  # 60
MIN_FRAME_BYTES = HEADER_BYTES + TAG_BYTES
FIELD_MAX = 2**63 - 1
"""Largest epoch, sequence number and timestamp: they are stored in signed BIGINT columns."""


@dataclass(frozen=True)
class FrameHeader:
    """A frame's clear, authenticated header."""

    product: bytes
    epoch: int
    seq: int
    timestamp_ms: int
    version: int = VERSION

    def __post_init__(self) -> None:
        if len(self.product) != 32:
            raise FrameMalformed("a product id is 32 bytes", details={"bytes": len(self.product)})
        for name in ("epoch", "seq", "timestamp_ms"):
            value = getattr(self, name)
            if not 0 <= value <= FIELD_MAX:
                raise FrameMalformed(f"{name} must be between 0 and 2**63-1", details={name: value})

    def pack(self) -> bytes:
        return _HEADER.pack(
            MAGIC, self.version, self.product, self.epoch, self.seq, self.timestamp_ms
        )

    @property
    def nonce(self) -> bytes:
        """SP 800-38D §8.2.1: 4-byte fixed field (the epoch) and 8-byte counter (seq)."""
        return struct.pack(">IQ", self.epoch & 0xFFFFFFFF, self.seq)


@dataclass(frozen=True)
class StreamMessage:
    """A message as a subscriber reads it: the authenticated header and the plaintext."""

    header: FrameHeader
    payload: bytes

    @property
    def seq(self) -> int:
        return self.header.seq

    @property
    def epoch(self) -> int:
        return self.header.epoch

    @property
    def timestamp_ms(self) -> int:
        return self.header.timestamp_ms


def parse_header(frame: bytes) -> FrameHeader:
    """The header of ``frame``, checked for shape only (the tag is checked by ``open_frame``)."""
    if len(frame) < MIN_FRAME_BYTES:
        raise FrameMalformed(
            f"a frame is at least {MIN_FRAME_BYTES} bytes, this one {len(frame)}",
            details={"bytes": len(frame)},
        )
    magic, version, product, epoch, seq, timestamp_ms = _HEADER.unpack_from(frame)
    if magic != MAGIC:
        raise FrameMalformed("not a stream frame (bad magic)")
    if version != VERSION:
        raise FrameVersionUnsupported(
            f"frame version {version} is not supported (this is version {VERSION})",
            details={"version": version},
        )
    return FrameHeader(product, epoch, seq, timestamp_ms, version)


def _check_key(key: bytes) -> AESGCM:
    if len(key) != KEY_BYTES:
        raise ValueError(f"an epoch key is {KEY_BYTES} bytes, got {len(key)}")
    return AESGCM(key)


def seal(header: FrameHeader, key: bytes, message: bytes) -> bytes:
    """The frame of ``message`` under ``header`` and its epoch's ``key``."""
    aad = header.pack()
    return aad + _check_key(key).encrypt(header.nonce, message, aad)


def open_frame(frame: bytes, key: bytes, *, product: bytes | None = None) -> StreamMessage:
    """The plaintext of ``frame`` under its epoch's ``key``, after checking the tag
    (and, when given, that the frame belongs to ``product``)."""
    header = parse_header(frame)
    if product is not None and header.product != product:
        raise FrameWrongProduct(
            "the frame belongs to another product",
            details={"expected": "0x" + product.hex(), "found": "0x" + header.product.hex()},
        )
    aad = frame[:HEADER_BYTES]
    try:
        payload = _check_key(key).decrypt(header.nonce, frame[HEADER_BYTES:], aad)
    except InvalidTag as exc:
        raise FrameTampered(
            "the frame fails authentication: its header or body was changed, "
            "or the key is not its epoch's",
            details={"epoch": header.epoch, "seq": header.seq},
        ) from exc
    return StreamMessage(header, payload)


class SequenceGuard:
    """A subscriber's defence against replayed, reordered and epoch-regressed frames.

    ``check`` before decrypting (cheap refusal), ``advance`` only after the frame
    authenticated. Gaps are allowed: a subscriber may join late, and relays keep
    a bounded window of frames.
    """

    def __init__(self, after_seq: int = 0) -> None:
        self.last_seq = after_seq
        self.last_epoch = -1

    def check(self, header: FrameHeader) -> None:
        if header.seq <= self.last_seq:
            raise FrameReplayed(
                f"frame {header.seq} is not after frame {self.last_seq}: replayed or reordered",
                details={"seq": header.seq, "last_seq": self.last_seq},
            )
        if header.epoch < self.last_epoch:
            raise FrameEpochRegressed(
                f"frame {header.seq} is of epoch {header.epoch}, after epoch {self.last_epoch}",
                details={"epoch": header.epoch, "last_epoch": self.last_epoch},
            )

    def advance(self, header: FrameHeader) -> None:
        self.last_seq, self.last_epoch = header.seq, header.epoch
