"""What the platform stores, and the check every object passes as its bytes arrive.

Only the platform's own encrypted or signed formats are stored, each under a name
that says its kind (``<product id>/…`` plus the suffix):

=========  ================================================================  ==========
suffix     format                                                            products
=========  ================================================================  ==========
.kshare    a share file sealed to one node: HPKE envelope, ``KRKNENV``        analytics
           (``smpc.envelope``; ``docs/share-format.md``)
.jws       the owner's signed manifest of a share set: compact JWS           analytics
           (``smpc.manifest``), signed by the product owner's DID
.kdata     an encrypted data file: ``KRKNDAT`` (``access.datafile_header``)  batch
=========  ================================================================  ==========

Stream frames are not stored here: they go through the stream relay (or NATS).

:class:`ObjectCheck` is fed the bytes in order, in any pieces, and keeps at most
a header (a manifest: the whole token, at most 4 MB) and a 64 KiB sample in
memory. It refuses as early as it can, so a plaintext upload stops after its
first bytes: a wrong or missing magic (``object_not_encrypted``; the *unencrypted*
share container ``KRKNSHR`` is named as such), a header that does not parse or
names another product, more bytes than the header announces
(``object_format_invalid``). A data file's clear chunk frames (salt, index, final
flag) must follow its header exactly. And since the output of AES-GCM is
indistinguishable from random bytes, a payload whose sample compresses by more
than a tenth under zlib is not ciphertext (``object_not_encrypted``): this
catches plaintext behind a copied header; it cannot catch data that was
compressed before, which only the right key could tell apart. A manifest's
signature is checked by the service, which knows the product's owner.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from enum import StrEnum
from typing import Final

from kraken_market.access import datafile_header as datafile
from kraken_market.access.errors import DataFileInvalid
from kraken_market.catalog.vocabulary import AccessMode
from kraken_market.smpc import envelope, share_format
from kraken_market.smpc.errors import EnvelopeInvalid, ManifestInvalid, ObjectNameInvalid
from kraken_market.smpc.manifest import MAX_BYTES as MANIFEST_MAX_BYTES
from kraken_market.smpc.storage import check_name
from kraken_market.storage.errors import (
    ObjectFormatInvalid,
    ObjectKindInvalid,
    ObjectNotEncrypted,
    ObjectTooLarge,
)


class ObjectKind(StrEnum):
    SHARE_FILE = "share_file"
    MANIFEST = "manifest"
    DATA_FILE = "data_file"


SUFFIXES: Final = {
    ".kshare": ObjectKind.SHARE_FILE,
    ".jws": ObjectKind.MANIFEST,
    ".kdata": ObjectKind.DATA_FILE,
}
KINDS_OF_MODE: Final = {
    AccessMode.ANALYTICS: (ObjectKind.SHARE_FILE, ObjectKind.MANIFEST),
    AccessMode.BATCH: (ObjectKind.DATA_FILE,),
    AccessMode.STREAM: (),
}
MAX_SEGMENTS: Final = 6
"""Segments of an object name: room under ``uploads/<id>/`` within storage's 8."""
SAMPLE_BYTES: Final = 65_536
MIN_SAMPLE: Final = 1024
COMPRESSIBLE: Final = 0.9
"""A sample zlib shrinks below this fraction of its size is not ciphertext."""
_MAGIC = 8
_JWS_START = b"eyJ"  # base64url of '{"': every JOSE header starts so
_KNOWN = (envelope.MAGIC, datafile.MAGIC, share_format.MAGIC)


def object_kind(product_id: str, name: str) -> ObjectKind:
    """The kind of object ``name`` if it is a valid name under product ``product_id``
    (lowercase ``0x…`` as the API writes it, then up to 5 segments, the last with
    the kind's suffix)."""
    check_name(name)
    segments = name.split("/")
    if segments[0] != product_id or not 2 <= len(segments) <= MAX_SEGMENTS:
        raise ObjectNameInvalid(
            f"objects of product {product_id} are named '{product_id}/…' with 2 to "
            f"{MAX_SEGMENTS} segments, e.g. '{product_id}/data.kdata': got {name[:200]!r}",
            details={"name": name[:200]},
        )
    for suffix, kind in SUFFIXES.items():
        if segments[-1].endswith(suffix):
            return kind
    raise ObjectKindInvalid(
        f"{segments[-1][:100]!r}: the platform stores share files (.kshare), signed "
        "manifests (.jws) and encrypted data files (.kdata) only",
        details={"name": name[:200]},
    )


def check_mode(kind: ObjectKind, mode: AccessMode) -> None:
    """Refuse an object of a kind that products of ``mode`` do not store."""
    allowed = KINDS_OF_MODE[mode]
    if kind in allowed:
        return
    if not allowed:
        what = "a stream's frames go through the stream relay ('kraken-market streams publish')"
    else:
        what = f"a {mode} product stores {' and '.join(k.replace('_', ' ') + 's' for k in allowed)}"
    raise ObjectKindInvalid(
        f"{what}, not {kind.replace('_', ' ')}s",
        details={"kind": kind.value, "access_mode": mode.value},
    )


class ObjectCheck:
    """Check an object's bytes as they arrive (see the module docstring); ``finish``
    returns its SHA-256 (hex) once every byte is in and the whole object passed."""

    def __init__(self, kind: ObjectKind, product: bytes, limit: int) -> None:
        self.kind, self.product, self.limit = kind, product, limit
        self.size = 0
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self._expected: int | None = None
        self._sample = bytearray()
        self._frames: _Frames | None = None

    @property
    def _header_size(self) -> int:
        if self.kind == ObjectKind.SHARE_FILE:
            return envelope.HEADER_SIZE
        if self.kind == ObjectKind.DATA_FILE:
            return datafile.HEADER_SIZE
        return MANIFEST_MAX_BYTES

    def feed(self, data: bytes) -> None:
        start = self.size
        self.size += len(data)
        if self.size > self.limit:
            raise _too_large(self.limit)
        if self._expected is not None and self.size > self._expected:
            raise ObjectFormatInvalid(
                f"the object goes on past the {self._expected} bytes its header announces"
            )
        self._hash.update(data)
        if self.kind == ObjectKind.MANIFEST and self.size > MANIFEST_MAX_BYTES:
            raise ObjectFormatInvalid(f"a signed manifest is at most {MANIFEST_MAX_BYTES} bytes")
        if len(self._head) < self._header_size:
            before = len(self._head)
            self._head += data[: self._header_size - before]
            magic = len(_JWS_START) if self.kind == ObjectKind.MANIFEST else _MAGIC
            if before < magic:
                self._check_magic()
            if before < self._header_size <= len(self._head):
                self._parse_header()
        if self._frames is not None:
            self._frames.feed(data, start, self._sample)
        elif self.kind == ObjectKind.SHARE_FILE and self._expected is not None:
            payload = data[max(0, envelope.HEADER_SIZE - start) :]
            self._sample += payload[: SAMPLE_BYTES - len(self._sample)]

    def finish(self) -> str:
        """The object's SHA-256 (hex), after its last byte."""
        if self.kind == ObjectKind.MANIFEST:
            if not self._head:
                raise ManifestInvalid("an empty manifest: a manifest is a compact JWS")
            return self._hash.hexdigest()
        if self._expected is None:
            raise ObjectFormatInvalid(
                f"the object ends inside its header ({self.size} of {self._header_size} bytes)"
            )
        if self.size != self._expected:
            raise ObjectFormatInvalid(
                f"the object is truncated: {self.size} of the {self._expected} bytes its "
                "header announces"
            )
        if len(self._sample) >= MIN_SAMPLE:
            packed = len(zlib.compress(bytes(self._sample), 6))
            if packed < COMPRESSIBLE * len(self._sample):
                raise ObjectNotEncrypted(
                    "the object's payload compresses (ciphertext never does): it is not "
                    "encrypted; encrypt it with 'kraken-market files publish' or "
                    "'kraken-market analytics share'",
                    details={"kind": self.kind.value},
                )
        return self._hash.hexdigest()

    def _check_magic(self) -> None:
        if self.kind == ObjectKind.MANIFEST:
            if not _JWS_START.startswith(bytes(self._head[: len(_JWS_START)])):
                raise ManifestInvalid(
                    "a manifest is a compact JWS (header.payload.signature) signed by the "
                    "product owner's DID key, as 'kraken-market analytics share' writes it"
                )
            return
        head = bytes(self._head[:_MAGIC])
        expected = envelope.MAGIC if self.kind == ObjectKind.SHARE_FILE else datafile.MAGIC
        if expected.startswith(head) or (
            len(head) < _MAGIC and any(m.startswith(head) for m in _KNOWN)
        ):
            return  # the magic, or so far a prefix of one: the length check decides
        if head == share_format.MAGIC:
            raise ObjectNotEncrypted(
                "this is an unencrypted share file: the platform stores each node's shares "
                "only sealed to that node's key ('kraken-market analytics share' does it)",
                details={"kind": self.kind.value},
            )
        other = {envelope.MAGIC: ".kshare", datafile.MAGIC: ".kdata"}.get(head)
        if other is not None:
            raise ObjectFormatInvalid(
                f"this object's format is the one of {other} objects: name it so",
                details={"kind": self.kind.value},
            )
        what = "a share file sealed to a node (KRKNENV)"
        if self.kind == ObjectKind.DATA_FILE:
            what = "an encrypted data file (KRKNDAT)"
        raise ObjectNotEncrypted(
            f"this is not {what}: the platform stores ciphertext only; encrypt it first "
            "('kraken-market files publish' or 'kraken-market analytics share')",
            details={"kind": self.kind.value},
        )

    def _parse_header(self) -> None:
        head = bytes(self._head)
        if self.kind == ObjectKind.SHARE_FILE:
            try:
                sealed = envelope.read_header(head)
            except EnvelopeInvalid as exc:
                raise ObjectFormatInvalid(exc.message) from exc
            self._own_product(sealed.product)
            self._expected = sealed.ciphertext_length
        elif self.kind == ObjectKind.DATA_FILE:
            try:
                header = datafile.read_header(io.BytesIO(head))
            except DataFileInvalid as exc:
                raise ObjectFormatInvalid(exc.message) from exc
            self._own_product(header.product)
            self._expected = header.encrypted_length
            self._frames = _Frames(header)
        if self._expected is not None and self._expected > self.limit:
            raise _too_large(self.limit)

    def _own_product(self, product: bytes) -> None:
        if product != self.product:
            raise ObjectFormatInvalid(
                f"this object is encrypted for product 0x{product.hex()}, not 0x"
                f"{self.product.hex()}",
                details={"product": "0x" + product.hex()},
            )

    @property
    def manifest(self) -> bytes:
        """A manifest's bytes (after ``finish``)."""
        return bytes(self._head)


class _Frames:
    """A data file's clear chunk frames, checked at the offsets its header implies; the
    chunks' ciphertext between them fills the sample."""

    def __init__(self, header: datafile.DataFileHeader) -> None:
        self.header = header
        self.index = 0
        self.next_frame = datafile.HEADER_SIZE
        self.frame = bytearray()

    def feed(self, data: bytes, start: int, sample: bytearray) -> None:
        position, end = max(start, datafile.HEADER_SIZE), start + len(data)
        while position < end:
            if position < self.next_frame:  # inside a chunk's ciphertext
                upto = min(end, self.next_frame)
                room = SAMPLE_BYTES - len(sample)
                if room > 0:
                    sample += data[position - start : min(upto, position + room) - start]
                position = upto
            elif self.index < self.header.chunk_count:
                piece = data[position - start : position - start + datafile.FRAME_SIZE]
                piece = piece[: datafile.FRAME_SIZE - len(self.frame)]
                self.frame += piece
                position += len(piece)
                if len(self.frame) == datafile.FRAME_SIZE:
                    self._check(position)
            else:
                return  # past the last chunk: the length check refuses it

    def _check(self, frame_end: int) -> None:
        salt, index, flags = datafile.FRAME.unpack(bytes(self.frame))
        final = self.index == self.header.chunk_count - 1
        if salt != self.header.salt or index != self.index or flags != (datafile.FINAL * final):
            raise ObjectFormatInvalid(
                f"chunk {self.index + 1} of {self.header.chunk_count} does not carry the "
                "file's frame (salt, index, final flag): this is not an encrypted data file"
            )
        length = self.header.chunk_length(self.index)
        self.next_frame = frame_end + length + datafile.TAG_SIZE
        self.index += 1
        self.frame.clear()


def _too_large(limit: int) -> ObjectTooLarge:
    return ObjectTooLarge(
        f"objects are limited to {limit} bytes here (storage_max_object_bytes)",
        details={"limit": limit},
    )
