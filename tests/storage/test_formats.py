"""What the platform stores: names, kinds and the streaming check of each format."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.access.datafile_header import HEADER_SIZE
from kraken_market.catalog.vocabulary import AccessMode
from kraken_market.errors import KrakenError
from kraken_market.smpc import envelope
from kraken_market.smpc.errors import ManifestInvalid, ObjectNameInvalid
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.share_format import ShareHeader
from kraken_market.storage.errors import (
    ObjectKindInvalid,
    ObjectNotEncrypted,
    ObjectTooLarge,
)
from kraken_market.storage.formats import ObjectCheck, ObjectKind, check_mode, object_kind
from tests.storage.objects import data_file, share_set

PRODUCT = "0x" + "5e" * 32
OTHER = "0x" + "7a" * 32
LIMIT = 1 << 30


def checked(kind: ObjectKind, data: bytes, pieces: int = 7, limit: int = LIMIT) -> str:
    check = ObjectCheck(kind, bytes.fromhex(PRODUCT[2:]), limit)
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        check.feed(data[start : start + step])
    return check.finish()


def refusal(kind: ObjectKind, data: bytes, pieces: int = 7, limit: int = LIMIT) -> KrakenError:
    with pytest.raises(KrakenError) as caught:
        checked(kind, data, pieces, limit)
    return caught.value


def sealed(plaintext: bytes, product: str = PRODUCT) -> bytes:
    sink = io.BytesIO()
    writer = envelope.EnvelopeWriter(
        sink, NodeKeyPair.generate().public_key, product, 0, len(plaintext)
    )
    writer.write(plaintext)
    writer.close()
    return sink.getvalue()


def test_names_say_the_product_and_the_kind() -> None:
    assert object_kind(PRODUCT, f"{PRODUCT}/data.kdata") == ObjectKind.DATA_FILE
    assert object_kind(PRODUCT, f"{PRODUCT}/set/node-0.kshare") == ObjectKind.SHARE_FILE
    assert object_kind(PRODUCT, f"{PRODUCT}/set/manifest.jws") == ObjectKind.MANIFEST
    for name in (f"{OTHER}/data.kdata", "data.kdata", f"{PRODUCT}/../x.kdata",
                 f"{PRODUCT.upper()}/data.kdata", f"{PRODUCT}/a/b/c/d/e/f.kdata"):  # fmt: skip
        with pytest.raises(ObjectNameInvalid):
            object_kind(PRODUCT, name)
    for name in (f"{PRODUCT}/data.csv", f"{PRODUCT}/notes.txt", f"{PRODUCT}/set/node-0"):
        with pytest.raises(ObjectKindInvalid, match=r"\.kshare.*\.jws.*\.kdata"):
            object_kind(PRODUCT, name)


def test_each_access_mode_stores_its_own_kinds() -> None:
    check_mode(ObjectKind.DATA_FILE, AccessMode.BATCH)
    check_mode(ObjectKind.MANIFEST, AccessMode.ANALYTICS)
    with pytest.raises(ObjectKindInvalid, match="a batch product stores data files"):
        check_mode(ObjectKind.SHARE_FILE, AccessMode.BATCH)
    with pytest.raises(ObjectKindInvalid, match="stream relay"):
        check_mode(ObjectKind.DATA_FILE, AccessMode.STREAM)


def test_a_data_file_passes_in_any_pieces() -> None:
    data = data_file(PRODUCT, 10_000, chunk_size=1000)
    digest = hashlib.sha256(data).hexdigest()
    for pieces in (1, 3, 7, 1000, len(data)):
        assert checked(ObjectKind.DATA_FILE, data, pieces) == digest


def test_tiny_chunks_are_no_false_alarm() -> None:
    # One-byte chunks make a file mostly clear frames, each repeating the salt: the
    # compressibility sample takes ciphertext only.
    data = data_file(PRODUCT, 3000, chunk_size=1)
    assert len(checked(ObjectKind.DATA_FILE, data)) == 64


def test_plaintext_is_refused_at_its_first_bytes() -> None:
    check = ObjectCheck(ObjectKind.DATA_FILE, bytes.fromhex(PRODUCT[2:]), LIMIT)
    with pytest.raises(ObjectNotEncrypted, match="not an encrypted data file"):
        check.feed(b"age,heart_rate,sex\n31,62,f\n" * 10)
    assert check.size < 400
    for kind in (ObjectKind.SHARE_FILE, ObjectKind.DATA_FILE):
        error = refusal(kind, b"PAR1" + os.urandom(5000))
        assert error.code == "object_not_encrypted"
    assert refusal(ObjectKind.DATA_FILE, b"").code == "object_format_invalid"  # no header
    assert refusal(ObjectKind.DATA_FILE, b"KRK").code == "object_format_invalid"


def test_unencrypted_shares_are_named_as_such() -> None:
    header = ShareHeader(PRODUCT, 0, 3, 1, 0, (), {"columns": []}).to_bytes()
    error = refusal(ObjectKind.SHARE_FILE, header)
    assert error.code == "object_not_encrypted" and "unencrypted share file" in error.message


def test_a_valid_header_before_plaintext_is_refused() -> None:
    text = b"age,heart_rate,sex\n" + b"".join(b"%d,%d,f\n" % (i, i % 90) for i in range(3000))
    forged = sealed(os.urandom(len(text)))[: envelope.HEADER_SIZE] + text + os.urandom(16)
    error = refusal(ObjectKind.SHARE_FILE, forged)
    assert error.code == "object_not_encrypted" and "compresses" in error.message
    genuine = sealed(text)  # the same plaintext, sealed: passes
    assert len(checked(ObjectKind.SHARE_FILE, genuine)) == 64
    file = data_file(PRODUCT, 8000)
    spliced = file[:HEADER_SIZE] + text[: len(file) - HEADER_SIZE]
    assert refusal(ObjectKind.DATA_FILE, spliced).code == "object_format_invalid"


def test_wrong_product_kind_and_length_are_format_errors() -> None:
    other = data_file(OTHER)
    assert "for product " + OTHER in refusal(ObjectKind.DATA_FILE, other).message
    assert refusal(ObjectKind.SHARE_FILE, data_file(PRODUCT)).message.endswith("name it so")
    assert refusal(ObjectKind.SHARE_FILE, sealed(b"x", OTHER)).code == "object_format_invalid"
    file = data_file(PRODUCT)
    assert "truncated" in refusal(ObjectKind.DATA_FILE, file[:-1]).message
    assert "goes on past" in refusal(ObjectKind.DATA_FILE, file + b"\0").message


def test_size_limits_stop_early() -> None:
    file = data_file(PRODUCT, 5000)
    error = refusal(ObjectKind.DATA_FILE, file, pieces=1, limit=4096)
    assert isinstance(error, ObjectTooLarge) and error.details == {"limit": 4096}
    check = ObjectCheck(ObjectKind.DATA_FILE, bytes.fromhex(PRODUCT[2:]), 4096)
    with pytest.raises(ObjectTooLarge):  # the header announces more than the limit
        check.feed(file[:HEADER_SIZE])


def test_a_manifest_is_a_jws(tmp_path: Path) -> None:
    made = share_set(tmp_path, PRODUCT, Ed25519PrivateKey.generate(), rows=12)
    token = made.objects[made.manifest_name]
    check = ObjectCheck(ObjectKind.MANIFEST, bytes.fromhex(PRODUCT[2:]), LIMIT)
    check.feed(token)
    check.finish()
    assert check.manifest == token
    with pytest.raises(ManifestInvalid, match="compact JWS"):
        checked(ObjectKind.MANIFEST, b'{"files": []}')
    assert refusal(ObjectKind.MANIFEST, b"eyJ" + b"a" * 4_000_000).code == "object_format_invalid"
