"""DATA amounts for people (``ledger.amounts``): exact parsing and formatting for any
token's decimals, and refusals that name the option as it was typed."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_market.ledger.amounts import (
    MAX_DECIMALS,
    Token,
    format_amount,
    parse_amount,
    product_in_tokens,
    to_decimal,
)
from kraken_market.ledger.errors import InvalidAmount
from kraken_market.types import UINT256_MAX

DATA = Token("0x" + "Da" * 20, "DATA", 18)
USDX = Token("0x" + "Cd" * 20, "USDX", 6)
MAX_IN_DATA = "115792089237316195423570985008687907853269984665640564039457.584007913129639935"


@pytest.mark.parametrize(
    ("text", "decimals", "units"),
    [
        ("0", 18, 0),
        ("0.0", 18, 0),
        ("000", 18, 0),
        ("0.000000000000000001", 18, 1),  # one base unit
        ("1", 18, 10**18),
        ("2.5", 18, 25 * 10**17),
        ("2.50", 18, 25 * 10**17),  # trailing zeros add no precision
        ("1.000000000000000000000", 18, 10**18),
        (".5", 18, 5 * 10**17),
        ("5.", 18, 5 * 10**18),
        (" 7 ", 18, 7 * 10**18),
        ("0.1", 18, 10**17),  # exact: no binary fraction on the way
        (MAX_IN_DATA, 18, UINT256_MAX),
        ("1.5", 6, 1_500_000),
        ("0.000001", 6, 1),
        ("3", 0, 3),
        (str(UINT256_MAX), 0, UINT256_MAX),
    ],
)
def test_decimal_text_becomes_exact_base_units(text: str, decimals: int, units: int) -> None:
    assert parse_amount(text, decimals) == units


@pytest.mark.parametrize(
    ("units", "decimals", "text"),
    [
        (0, 18, "0"),
        (1, 18, "0.000000000000000001"),
        (10**18, 18, "1"),
        (25 * 10**17, 18, "2.5"),
        (3, 18, "0.000000000000000003"),
        (UINT256_MAX, 18, MAX_IN_DATA),
        (1_500_000, 6, "1.5"),
        (1, 6, "0.000001"),
        (10**6, 6, "1"),
        (42, 0, "42"),
    ],
)
def test_base_units_are_shown_trimmed_and_exact(units: int, decimals: int, text: str) -> None:
    assert format_amount(units, decimals) == text
    assert to_decimal(units, decimals) == Decimal(text)


@given(
    units=st.integers(min_value=0, max_value=UINT256_MAX),
    decimals=st.integers(min_value=0, max_value=MAX_DECIMALS),
)
def test_what_is_shown_parses_back_to_the_same_units(units: int, decimals: int) -> None:
    assert parse_amount(format_amount(units, decimals), decimals) == units


@pytest.mark.parametrize(
    ("text", "decimals", "message"),
    [
        ("-5", 18, "--stake: -5 is negative; amounts of DATA are 0 or more"),
        ("-0.5", 18, "--stake: -0.5 is negative"),
        ("abc", 18, "--stake: 'abc' is not an amount of DATA; write digits"),
        ("", 18, "is not an amount of DATA"),
        (".", 18, "is not an amount of DATA"),
        ("1e3", 18, "'1e3' is not an amount of DATA"),
        ("NaN", 18, "'NaN' is not an amount"),
        ("Infinity", 18, "'Infinity' is not an amount"),
        ("1,5", 18, "'1,5' is not an amount"),
        ("1_000", 18, "'1_000' is not an amount"),
        ("1.2.3", 18, "'1.2.3' is not an amount"),
        ("+5", 18, "'+5' is not an amount"),
        ("٣", 18, "is not an amount"),  # an Arabic-Indic digit: int() would take it
        ("0.0000000000000000001", 18, "has 19 decimals; DATA has 18, so the smallest amount "),
        ("1.0000001", 6, "has 7 decimals; DATA has 6, so the smallest amount is 0.000001 DATA"),
        ("1.5", 0, "--stake: 1.5 is not a whole number of DATA"),
        ("115792089237316195423570985008687907853269984665640564039458", 18, "more than the token"),
        (str(UINT256_MAX + 1), 0, "is more than the token can count"),
    ],
)
def test_what_is_not_an_amount_is_refused_naming_the_option(
    text: str, decimals: int, message: str
) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text, decimals, what="--stake")
    assert message in refused.value.message
    assert refused.value.code == "invalid_amount" and refused.value.status == 422
    assert refused.value.details["option"] == "--stake"


def test_a_huge_text_is_refused_at_once_in_one_line() -> None:
    started = time.monotonic()
    with pytest.raises(InvalidAmount) as refused:
        parse_amount("9" * 100_000, 18, what="AMOUNT")  # past int()'s 4300-digit limit
    assert time.monotonic() - started < 0.5
    assert "more than the token can count" in refused.value.message
    assert len(refused.value.message) < 300


def test_a_token_parses_and_shows_with_its_own_decimals_and_symbol() -> None:
    assert USDX.parse("2.25", "--price-access") == 2_250_000
    assert USDX.show(2_250_000) == "2.25 USDX" and USDX.amount("2250000") == "2.25"
    assert USDX.decimal(1) == Decimal("0.000001")
    assert DATA.show("3") == "0.000000000000000003 DATA"  # 3 base units, not 3 DATA
    with pytest.raises(InvalidAmount, match="USDX has 6"):
        USDX.parse("0.0000001", "--stake")
    assert Token.from_json(USDX.as_json()) == USDX
    with pytest.raises(ValueError, match="0 to 77 decimals"):
        Token("0x", "BAD", 78)
    with pytest.raises(ValueError, match="never negative"):
        format_amount(-1, 18)


def test_a_products_amounts_are_added_in_tokens_beside_the_base_units() -> None:
    product = {
        "prices": {
            "access": None,
            "computation": None,
            "subscription_per_second": "1500",
            "subscription_min_seconds": 60,
        },
        "stake": "5000000",
    }
    shown = product_in_tokens(product, USDX)
    assert shown["prices_data"] == {"subscription_per_second": "0.0015"}
    assert shown["stake_data"] == "5"
    assert shown["prices"] == product["prices"] and shown["stake"] == "5000000"
