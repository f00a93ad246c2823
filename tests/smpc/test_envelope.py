"""HPKE share-file envelopes: every kind of tampering is detected, with a clear error."""

from __future__ import annotations

import io
import os

import pytest

from kraken_market.smpc.envelope import (
    HEADER_SIZE,
    TAG_SIZE,
    EnvelopeWriter,
    open_envelope,
    read_header,
    sealed_length,
)
from kraken_market.smpc.errors import (
    EnvelopeInvalid,
    EnvelopeMisdirected,
    EnvelopeTampered,
    EnvelopeTruncated,
    SharingInvalid,
)
from kraken_market.smpc.keys import NodeKeyPair

PRODUCT = "0x" + "ab" * 32
OTHER_PRODUCT = "0x" + "cd" * 32
CHUNK = 1000


def seal(plaintext: bytes, key: NodeKeyPair, product: str = PRODUCT, node: int = 0) -> bytes:
    sink = io.BytesIO()
    writer = EnvelopeWriter(sink, key.public_key, product, node, len(plaintext), CHUNK)
    for start in range(0, len(plaintext), 777):  # pieces that do not align with chunks
        writer.write(plaintext[start : start + 777])
    writer.close()
    return sink.getvalue()


@pytest.fixture(scope="module")
def keys() -> list[NodeKeyPair]:
    return [NodeKeyPair.generate() for _ in range(3)]


@pytest.fixture(scope="module")
def plaintext() -> bytes:
    return os.urandom(4 * CHUNK + 123)


def chunks(sealed: bytes) -> list[bytes]:
    body = sealed[HEADER_SIZE:]
    return [body[i : i + CHUNK + TAG_SIZE] for i in range(0, len(body), CHUNK + TAG_SIZE)]


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_round_trip_and_size(keys: list[NodeKeyPair], size: int) -> None:
    data = os.urandom(size)
    sealed = seal(data, keys[0])
    assert len(sealed) == sealed_length(size, CHUNK)
    assert open_envelope(sealed, keys[0], PRODUCT, 0) == data


def test_header_is_in_clear_and_names_product_and_node(keys, plaintext) -> None:
    header = read_header(seal(plaintext, keys[1], node=1))
    assert (header.product.hex(), header.node_index) == ("ab" * 32, 1)
    assert (header.chunk_count, header.plaintext_length) == (5, len(plaintext))


def test_a_node_cannot_decrypt_another_nodes_share(keys, plaintext) -> None:
    sealed = seal(plaintext, keys[0], node=0)
    with pytest.raises(EnvelopeTampered, match="not encrypted to this node's key"):
        open_envelope(sealed, keys[1], PRODUCT, 0)


def test_a_file_for_another_node_or_product_is_refused_by_name(keys, plaintext) -> None:
    sealed = seal(plaintext, keys[0], node=0)
    with pytest.raises(EnvelopeMisdirected, match="for node 0, not node 1"):
        open_envelope(sealed, keys[1], PRODUCT, 1)
    with pytest.raises(EnvelopeMisdirected, match=f"for product {PRODUCT}, not {OTHER_PRODUCT}"):
        open_envelope(sealed, keys[0], OTHER_PRODUCT, 0)


def test_relabelling_the_header_is_detected(keys, plaintext) -> None:
    """Rewriting the clear product id or node index breaks the HPKE info and every AAD."""
    sealed = bytearray(seal(plaintext, keys[0], node=0))
    sealed[16:48] = bytes.fromhex("cd" * 32)
    with pytest.raises(EnvelopeTampered, match="chunk 1 of 5"):
        open_envelope(bytes(sealed), keys[0], OTHER_PRODUCT, 0)


def test_truncation_is_detected(keys, plaintext) -> None:
    sealed = seal(plaintext, keys[0])
    with pytest.raises(EnvelopeTruncated, match="truncated"):
        open_envelope(sealed[:-1], keys[0], PRODUCT, 0)
    with pytest.raises(EnvelopeTruncated, match="truncated"):
        open_envelope(sealed[: -(123 + TAG_SIZE)], keys[0], PRODUCT, 0)  # a whole chunk gone
    with pytest.raises(EnvelopeTruncated):
        open_envelope(sealed[:50], keys[0], PRODUCT, 0)


def test_dropping_the_last_chunk_and_fixing_the_count_is_detected(keys, plaintext) -> None:
    """An attacker who also rewrites chunk count and length in the header gains nothing."""
    sealed = bytearray(seal(plaintext, keys[0]))
    del sealed[-(123 + TAG_SIZE) :]
    sealed[54:58] = (4).to_bytes(4, "little")
    sealed[58:66] = (4 * CHUNK).to_bytes(8, "little")
    with pytest.raises(EnvelopeTampered, match="chunk 1 of 4"):
        open_envelope(bytes(sealed), keys[0], PRODUCT, 0)


def test_extra_bytes_are_detected(keys, plaintext) -> None:
    with pytest.raises(EnvelopeTampered, match="past its last chunk"):
        open_envelope(seal(plaintext, keys[0]) + b"x", keys[0], PRODUCT, 0)


def test_reordered_chunks_are_detected(keys, plaintext) -> None:
    sealed = seal(plaintext, keys[0])
    parts = chunks(sealed)
    swapped = sealed[:HEADER_SIZE] + parts[0] + parts[2] + parts[1] + b"".join(parts[3:])
    with pytest.raises(EnvelopeTampered, match="chunk 2 of 5 does not authenticate"):
        open_envelope(swapped, keys[0], PRODUCT, 0)


@pytest.mark.parametrize("source", ["other node", "other product", "same node, other file"])
def test_a_chunk_from_another_file_is_detected(keys, plaintext, source: str) -> None:
    sealed = seal(plaintext, keys[0], node=0)
    other = {
        "other node": seal(plaintext, keys[0], node=1),  # even encrypted to the same key
        "other product": seal(plaintext, keys[0], product=OTHER_PRODUCT),
        "same node, other file": seal(plaintext, keys[0]),
    }[source]
    parts, foreign = chunks(sealed), chunks(other)
    spliced = sealed[:HEADER_SIZE] + parts[0] + foreign[1] + b"".join(parts[2:])
    with pytest.raises(EnvelopeTampered, match="chunk 2 of 5"):
        open_envelope(spliced, keys[0], PRODUCT, 0)


@pytest.mark.parametrize("offset", [0, 9, 12, 60, 70, HEADER_SIZE, HEADER_SIZE + 3000, -1])
def test_a_flipped_byte_anywhere_is_detected(keys, plaintext, offset: int) -> None:
    sealed = bytearray(seal(plaintext, keys[0]))
    sealed[offset] ^= 0x01
    with pytest.raises(EnvelopeInvalid):
        open_envelope(bytes(sealed), keys[0], PRODUCT, 0)


def test_writer_refuses_a_wrong_length(keys) -> None:
    writer = EnvelopeWriter(io.BytesIO(), keys[0].public_key, PRODUCT, 0, 10, CHUNK)
    writer.write(b"12345")
    with pytest.raises(SharingInvalid, match="declared 10 bytes, got 5"):
        writer.close()
    with pytest.raises(SharingInvalid, match="more plaintext"):
        writer.write(b"x" * 6)


def test_key_pair_round_trip_and_repr(keys) -> None:
    again = NodeKeyPair(keys[0].private_bytes)
    assert again.public_key == keys[0].public_key
    assert len(keys[0].public_key.fingerprint) == 64
    assert keys[0].private_bytes.hex() not in repr(keys[0])
