"""LEI (ISO 17442, ISO 7064 MOD 97-10 check digits) and ISO 3166-1 country checks."""

from __future__ import annotations

import pytest

from kraken_market.companies.errors import InvalidCountry, InvalidLei
from kraken_market.companies.identifiers import check_country, check_lei, lei_check_digits

# Real LEIs, as published by GLEIF.
VALID = ["529900T8BM49AURSDO55", "5493001KJTIIGC8Y1R12", "HWUPKR0MPOU8FGXBT394"]


@pytest.mark.parametrize("lei", VALID)
def test_valid_leis_pass_and_their_check_digits_are_recomputed(lei: str) -> None:
    assert check_lei(lei) == lei
    assert lei_check_digits(lei[:18]) == lei[18:]


def test_every_single_character_typo_of_its_kind_is_caught() -> None:
    # MOD 97-10 catches every substitution of a digit by a digit or a letter by a letter
    # (the change is d * 10^k with 0 < |d| < 97, never a multiple of the prime 97).
    lei = VALID[0]
    for position, original in enumerate(lei):
        kind = "0123456789" if original.isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for char in kind.replace(original, ""):
            with pytest.raises(InvalidLei):
                check_lei(lei[:position] + char + lei[position + 1 :])


@pytest.mark.parametrize(
    "lei",
    [
        "",
        "529900T8BM49AURSDO5",
        "529900T8BM49AURSDO555",
        "529900t8bm49aursdo55",
        "529900T8BM49AURSDOAB",
    ],
)
def test_malformed_leis_are_refused(lei: str) -> None:
    with pytest.raises(InvalidLei, match="20 characters"):
        check_lei(lei)


def test_check_digits_are_compared_not_just_the_remainder() -> None:
    # A prefix whose number is 0 mod 97 has check digits 98; "01" leaves the same
    # remainder 1 (the usual validation) but is not what ISO 7064 computes.
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    first18 = next(
        p
        for p in ("529900T8BM49AURS" + a + b for a in alphabet for b in alphabet)
        if int("".join(str(int(c, 36)) for c in p)) % 97 == 0
    )
    assert lei_check_digits(first18) == "98"
    assert check_lei(first18 + "98")
    assert int("".join(str(int(c, 36)) for c in first18 + "01")) % 97 == 1
    with pytest.raises(InvalidLei, match="check digits"):
        check_lei(first18 + "01")


@pytest.mark.parametrize("code", ["DE", "IT", "FR", "GB", "CH", "US"])
def test_assigned_alpha_2_codes_pass(code: str) -> None:
    assert check_country(code) == code


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("de", "DE"),
        ("DEU", "DE (Germany)"),
        ("XX", "two capital letters"),
        ("EU", "two capital"),
        ("UK", "two capital"),
        ("", "two capital"),
        ("D\x00", "two capital"),
    ],
)
def test_other_codes_are_refused_with_a_hint(code: str, hint: str) -> None:
    with pytest.raises(InvalidCountry) as refused:
        check_country(code)
    assert hint in refused.value.message
