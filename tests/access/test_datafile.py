"""The chunked AES-256-GCM data file: round trips, and every kind of tampering named."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_market.access.datafile import (
    FRAME_SIZE,
    HEADER_SIZE,
    TAG_SIZE,
    decrypt_stream,
    encrypt_stream,
    encrypted_length,
    key_commitment,
    new_data_key,
    read_header,
)
from kraken_market.access.errors import DataFileInvalid, SourceChanged
from kraken_market.catalog.ids import new_product_id

PRODUCT = new_product_id()
KEY = new_data_key()
SIZE = 64  # small chunks: many chunks from little data


def seal(data: bytes, key: bytes = KEY, chunk_size: int = SIZE, product: str = PRODUCT) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, key, product, len(data), chunk_size=chunk_size)
    return out.getvalue()


def unseal(sealed: bytes, key: bytes = KEY, product: str | None = PRODUCT) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(sealed), out, key, product_id=product)
    return out.getvalue()


def code_of(sealed: bytes, key: bytes = KEY, product: str | None = PRODUCT) -> str:
    with pytest.raises(DataFileInvalid) as caught:
        unseal(sealed, key, product)
    return caught.value.code


def chunk_at(index: int) -> int:
    """Offset of full-size chunk ``index`` (its frame) in a sealed file."""
    return HEADER_SIZE + index * (FRAME_SIZE + SIZE + TAG_SIZE)


@pytest.mark.parametrize("length", [0, 1, SIZE - 1, SIZE, SIZE + 1, 3 * SIZE, 5 * SIZE + 7])
def test_round_trip_including_empty_and_exact_multiples(length: int) -> None:
    data = bytes(range(256)) * (length // 256 + 1)
    sealed = seal(data[:length])
    assert len(sealed) == encrypted_length(length, SIZE)
    assert unseal(sealed) == data[:length]
    header = read_header(io.BytesIO(sealed))
    chunks = max(1, -(-length // SIZE))
    assert (header.plaintext_length, header.chunk_count) == (length, chunks)
    assert header.key_commitment == key_commitment(KEY) and header.product_id == PRODUCT


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=700), chunk_size=st.integers(1, 200))
def test_any_data_and_chunk_size_round_trip(data: bytes, chunk_size: int) -> None:
    assert unseal(seal(data, chunk_size=chunk_size)) == data


def test_default_one_mib_chunks_and_progress() -> None:
    data = b"\x5a" * ((1 << 20) * 2 + 5)
    out, seen = io.BytesIO(), []
    encrypt_stream(
        io.BytesIO(data), out, KEY, PRODUCT, len(data), progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1 << 20, len(data)), (2 << 20, len(data)), (len(data), len(data))]
    assert read_header(io.BytesIO(out.getvalue())).chunk_count == 3
    assert unseal(out.getvalue()) == data


def test_the_same_data_encrypts_differently_each_time() -> None:
    assert seal(b"same") != seal(b"same")  # random per-file salt, so per-file subkeys


def test_a_wrong_key_or_product_is_named() -> None:
    sealed = seal(b"secret rows" * 20)
    assert code_of(sealed, key=new_data_key()) == "datafile_wrong_key"
    assert code_of(sealed, product=new_product_id()) == "datafile_misdirected"
    assert unseal(sealed, product=None) == b"secret rows" * 20


def test_truncation_is_detected_at_every_boundary() -> None:
    sealed = seal(bytes(4 * SIZE))
    for cut in (
        10,
        HEADER_SIZE,
        chunk_at(1),
        chunk_at(3),
        chunk_at(3) + FRAME_SIZE + 5,
        len(sealed) - 1,
    ):
        assert code_of(sealed[:cut]) == "datafile_truncated", cut


def test_trailing_bytes_are_refused() -> None:
    assert code_of(seal(b"abc") + b"\x00") == "datafile_trailing_data"


def test_reordered_chunks_are_named() -> None:
    sealed = seal(bytes(range(256)))  # four chunks
    first, second = sealed[chunk_at(0) : chunk_at(1)], sealed[chunk_at(1) : chunk_at(2)]
    swapped = sealed[: chunk_at(0)] + second + first + sealed[chunk_at(2) :]
    assert code_of(swapped) == "datafile_chunk_reordered"


def test_a_chunk_from_another_file_is_named() -> None:
    data = bytes(3 * SIZE)
    mine, other = seal(data), seal(data)  # same key, length and product: only the salt differs
    spliced = mine[: chunk_at(1)] + other[chunk_at(1) : chunk_at(2)] + mine[chunk_at(2) :]
    assert code_of(spliced) == "datafile_chunk_spliced"
    # a chunk re-labelled with this file's salt and index still fails its tag
    forged = mine[: chunk_at(1) + 25] + other[chunk_at(1) + 25 : chunk_at(2)] + mine[chunk_at(2) :]
    assert code_of(forged) == "datafile_chunk_tampered"


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_flipped_bit_fails(data: st.DataObject) -> None:
    sealed = bytearray(seal(b"\x11" * (2 * SIZE + 9)))
    position = data.draw(st.integers(0, len(sealed) - 1))
    sealed[position] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(DataFileInvalid):
        unseal(bytes(sealed))


def test_flipped_bits_get_their_own_code() -> None:
    sealed = seal(b"\x22" * (2 * SIZE))
    ciphertext = bytearray(sealed)
    ciphertext[chunk_at(1) + FRAME_SIZE + 3] ^= 0x01
    assert code_of(bytes(ciphertext)) == "datafile_chunk_tampered"
    flag = bytearray(sealed)
    flag[chunk_at(0) + FRAME_SIZE - 1] ^= 0x01  # chunk 0 claims to be the last
    assert code_of(bytes(flag)) == "datafile_chunk_tampered"
    salt = bytearray(sealed)
    salt[76] ^= 0x01  # the header's salt: subkeys differ, the header tag fails
    assert code_of(bytes(salt)) == "datafile_header_tampered"
    magic = bytearray(sealed)
    magic[0] ^= 0x01
    assert code_of(bytes(magic)) == "datafile_invalid"


def test_a_shortened_header_is_caught_by_its_tag() -> None:
    """Truncation that also rewrites the header's length and count (to one chunk fewer)."""
    sealed = seal(bytes(3 * SIZE))
    header = bytearray(sealed[:HEADER_SIZE])
    struct.pack_into("<QQ", header, 96, 2 * SIZE, 2)
    shortened = bytes(header) + sealed[HEADER_SIZE : chunk_at(2)]
    assert code_of(shortened) == "datafile_header_tampered"


def test_a_source_that_changes_while_encrypting_is_refused() -> None:
    with pytest.raises(SourceChanged):
        encrypt_stream(io.BytesIO(b"short"), io.BytesIO(), KEY, PRODUCT, 10, chunk_size=SIZE)
    with pytest.raises(SourceChanged):
        encrypt_stream(io.BytesIO(b"longer than said"), io.BytesIO(), KEY, PRODUCT, 3)


def test_not_a_data_file() -> None:
    assert code_of(b"") == "datafile_truncated"
    assert code_of(b"x" * 200) == "datafile_invalid"
