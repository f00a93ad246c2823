"""Encrypted data files: AES-256-GCM in authenticated chunks, streamed in bounded memory.

A batch product's file is encrypted on the seller's machine with a fresh
256-bit data key (``new_data_key``); only ciphertext reaches object storage.
AES-GCM is used as RFC 5116 (AEAD_AES_256_GCM) and NIST SP 800-38D specify
it: a 96-bit nonce that never repeats under one key, a 128-bit tag. The
construction follows the segmented streaming AEAD of Hoang, Reyhanitabar,
Rogaway and Vizár ("Online authenticated-encryption and its nonce-reuse
misuse-resistance", CRYPTO 2015), as Tink's AES-GCM-HKDF streaming AEAD does:

* per file, a random 16-byte salt; HKDF-SHA256 (RFC 5869) of the data key
  with that salt gives the chunk key (AES-256) and the header key (HMAC-SHA256).
  The data key is fresh per file, so a (key, nonce) pair can never repeat;
  the salt keeps that true even if a caller reused a data key (say for the
  segments of one stream epoch);
* chunk i is encrypted under nonce ``0x00000000 || uint64_be(i)``: unique
  within the file, so deterministic nonces are safe (SP 800-38D §8.2.1);
* the associated data of chunk i is ``SHA-256(header) || uint64_be(i) || final``,
  so every chunk authenticates the whole header, its position and whether it
  is the last one (truncation at a chunk boundary cannot pass);
* the header carries ``key_commitment(key)``: AES-GCM is not key-committing
  (a ciphertext can be made to open under two keys), the commitment makes the
  file open under one key only and names a wrong key as such.

Each chunk also repeats the salt and its index in clear (authenticated
through the associated data and the chunk key): they only let a reader say
*which* failure it saw (a chunk of another file, at the wrong place) before
the tag decides. ``datafile_header`` and ``docs/access.md`` give the byte layout.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import replace
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kraken_market.access.datafile_header import (
    CHUNK_SIZE,
    FINAL,
    FRAME,
    FRAME_SIZE,
    HEADER_SIZE,
    KEY_SIZE,
    MAX_CHUNK_SIZE,
    SALT_SIZE,
    TAG_SIZE,
    DataFileHeader,
    chunk_count,
    encrypted_length,
    read_exactly,
    read_header,
)
from kraken_market.access.errors import (
    DataFileChunkReordered,
    DataFileChunkSpliced,
    DataFileChunkTampered,
    DataFileHeaderTampered,
    DataFileMisdirected,
    DataFileTrailingData,
    DataFileTruncated,
    DataFileWrongKey,
    KeySharingInvalid,
    SourceChanged,
)
from kraken_market.errors import InvalidRequest
from kraken_market.smpc.envelope import Sink
from kraken_market.smpc.ids import product_bytes

__all__ = [
    "CHUNK_SIZE",
    "FRAME_SIZE",
    "HEADER_SIZE",
    "KEY_SIZE",
    "TAG_SIZE",
    "DataFileHeader",
    "Progress",
    "decrypt_stream",
    "encrypt_stream",
    "encrypted_length",
    "key_commitment",
    "new_data_key",
    "read_header",
]

_COMMITMENT_LABEL = b"kraken-market data key commitment v1"
_KDF_LABEL = b"kraken-market datafile v1"

Progress = Callable[[int, int], None]
"""Called after each chunk with (plaintext bytes done, plaintext bytes in all)."""


def new_data_key() -> bytes:
    """A fresh 256-bit data key from the OS CSPRNG; one per file."""
    return os.urandom(KEY_SIZE)


def key_commitment(key: bytes) -> bytes:
    """SHA-256 over a label and the data key: published with the key deposit and
    written in the file header, so a buyer detects a wrongly recombined key. The
    key has 256 bits of entropy, so the hash reveals nothing usable about it."""
    if len(key) != KEY_SIZE:
        raise KeySharingInvalid(f"a data key is {KEY_SIZE} bytes, got {len(key)}")
    return hashlib.sha256(_COMMITMENT_LABEL + key).digest()


class _Keys:
    """The file's chunk cipher and header MAC key, derived from the data key (HKDF)."""

    def __init__(self, key: bytes, header: DataFileHeader) -> None:
        okm = HKDF(
            algorithm=hashes.SHA256(),
            length=64,
            salt=header.salt,
            info=_KDF_LABEL + header.product,
        ).derive(key)
        self.aead, self.mac_key = AESGCM(okm[:32]), okm[32:]

    def tag(self, header: DataFileHeader) -> bytes:
        return hmac.digest(self.mac_key, header.prefix, "sha256")


def _nonce(index: int) -> bytes:
    return b"\x00" * 4 + index.to_bytes(8, "big")


def _aad(digest: bytes, index: int, final: bool) -> bytes:
    return digest + index.to_bytes(8, "big") + bytes([FINAL if final else 0])


def encrypt_stream(
    source: BinaryIO,
    sink: Sink,
    key: bytes,
    product_id: str,
    length: int,
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
) -> DataFileHeader:
    """Encrypt exactly ``length`` bytes read from ``source`` into ``sink``, one chunk
    in memory at a time; ``SourceChanged`` if the source holds another amount."""
    if not 0 < chunk_size <= MAX_CHUNK_SIZE:
        raise InvalidRequest(f"the chunk size must be 1 byte to {MAX_CHUNK_SIZE} bytes")
    if length < 0:
        raise InvalidRequest("a file length cannot be negative")
    count = chunk_count(length, chunk_size)
    header = DataFileHeader(
        product_bytes(product_id), key_commitment(key), os.urandom(SALT_SIZE),
        chunk_size, length, count,
    )  # fmt: skip
    keys = _Keys(key, header)
    header = replace(header, tag=keys.tag(header))
    digest = hashlib.sha256(header.to_bytes()).digest()
    sink.write(header.to_bytes())
    done = 0
    for index in range(count):
        final = index == count - 1
        plaintext = read_exactly(source, header.chunk_length(index))
        if len(plaintext) != header.chunk_length(index) or (final and source.read(1)):
            raise SourceChanged(
                f"the file changed while it was encrypted ({length} bytes expected)"
            )
        sealed = keys.aead.encrypt(_nonce(index), plaintext, _aad(digest, index, final))
        sink.write(FRAME.pack(header.salt, index, FINAL if final else 0) + sealed)
        done += len(plaintext)
        if progress is not None:
            progress(done, length)
    return header


def decrypt_stream(
    source: BinaryIO,
    sink: Sink,
    key: bytes,
    *,
    product_id: str | None = None,
    progress: Progress | None = None,
) -> DataFileHeader:
    """Decrypt a data file from ``source`` into ``sink``, writing each chunk only after it
    authenticated. A failure may leave earlier chunks in ``sink``: write to a temporary
    file and keep it only on success (``buyer`` does)."""
    header = read_header(source)
    if product_id is not None and header.product != product_bytes(product_id):
        raise DataFileMisdirected(f"this file is for product {header.product_id}, not {product_id}")
    if not hmac.compare_digest(key_commitment(key), header.key_commitment):
        raise DataFileWrongKey("the key is not this file's key (its commitment differs)")
    keys = _Keys(key, header)
    if not hmac.compare_digest(keys.tag(header), header.tag):
        raise DataFileHeaderTampered("the data file's header was modified")
    digest = hashlib.sha256(header.to_bytes()).digest()
    done, count = 0, header.chunk_count
    for index in range(count):
        final = index == count - 1
        frame = read_exactly(source, FRAME_SIZE)
        where = f"chunk {index + 1} of {count}"
        if len(frame) < FRAME_SIZE:
            raise DataFileTruncated(f"the data file ends before {where}")
        salt, named, flags = FRAME.unpack(frame)
        if salt != header.salt:
            raise DataFileChunkSpliced(f"{where} belongs to another data file")
        if named != index:
            raise DataFileChunkReordered(f"{where} is chunk {named + 1}: chunks were reordered")
        body = read_exactly(source, header.chunk_length(index) + TAG_SIZE)
        if len(body) < header.chunk_length(index) + TAG_SIZE:
            raise DataFileTruncated(f"the data file ends inside {where}")
        try:
            if flags != (FINAL if final else 0):
                raise InvalidTag
            plaintext = keys.aead.decrypt(_nonce(index), body, _aad(digest, index, final))
        except InvalidTag as exc:
            raise DataFileChunkTampered(f"{where} does not authenticate: it was modified") from exc
        sink.write(plaintext)
        done += len(plaintext)
        if progress is not None:
            progress(done, header.plaintext_length)
    if source.read(1):
        raise DataFileTrailingData("the data file has bytes after its last chunk")
    return header
