"""Bitstring Status List v1.0: sizes, bit order, encoding, bounded decoding."""

from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_market.identity.errors import CredentialInvalid
from kraken_market.identity.status_list import MAX_ENTRIES, MIN_ENTRIES, Bitstring, StatusEntry


def test_a_new_list_has_the_specifications_minimum_size_all_clear() -> None:
    bits = Bitstring()
    assert bits.size == MIN_ENTRIES == 131_072
    assert not any(bits.get(i) for i in (0, 1, 65_535, MIN_ENTRIES - 1))


def test_bit_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    bits = Bitstring()
    bits.set(0)
    bits.set(9)
    assert bits.bits[0] == 0x80
    assert bits.bits[1] == 0x40
    bits.set(0, False)
    assert bits.bits[0] == 0


def test_encoding_is_multibase_base64url_of_gzip() -> None:
    bits = Bitstring()
    bits.set(42)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bytes(bits.bits)
    assert len(encoded) < 200  # an almost empty list compresses to almost nothing


@given(st.sets(st.integers(0, MIN_ENTRIES - 1), max_size=50))
def test_decode_inverts_encode(indexes: set[int]) -> None:
    bits = Bitstring()
    for i in indexes:
        bits.set(i)
    decoded = Bitstring.decode(bits.encode())
    assert decoded.bits == bits.bits
    assert all(decoded.get(i) for i in indexes)


def test_covers_means_no_revocation_is_undone() -> None:
    old, new = Bitstring(), Bitstring()
    old.set(5)
    new.set(5)
    new.set(6)
    assert new.covers(old)
    assert not old.covers(new)


@pytest.mark.parametrize(
    "encoded",
    [
        "zabc",  # not base64url multibase
        "u!!!",
        "u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="),
        "u"
        + base64.urlsafe_b64encode(gzip.compress(bytes(100), mtime=0))
        .decode()
        .rstrip("="),  # too small
    ],
)
def test_bad_lists_are_refused(encoded: str) -> None:
    with pytest.raises(CredentialInvalid):
        Bitstring.decode(encoded)


def test_a_gzip_bomb_is_not_inflated() -> None:
    bomb = gzip.compress(bytes(200 * 1024 * 1024))  # 200 MiB of zeros in ~200 KiB
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(CredentialInvalid, match="entries"):
        Bitstring.decode(encoded)
    assert MAX_ENTRIES < 200 * 1024 * 1024 * 8


def test_indexes_outside_the_list_are_refused() -> None:
    with pytest.raises(CredentialInvalid):
        Bitstring().get(MIN_ENTRIES)
    with pytest.raises(CredentialInvalid):
        Bitstring().set(-1)


def test_status_entries_round_trip_through_json() -> None:
    entry = StatusEntry("https://registry.example/api/v1/status-lists/abc", 1234)
    assert entry.to_json()["statusListIndex"] == "1234"
    assert StatusEntry.from_json(entry.to_json()) == entry
