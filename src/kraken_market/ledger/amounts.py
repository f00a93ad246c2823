"""Amounts of DATA for people: exact decimal text in, exact decimal text out.

The chain, the API and the database count in the token's *base units* (whole
numbers, 0 to 2^256-1); people read and type DATA with decimals. A
:class:`Token` knows how many decimals its token has (the ERC-20
``decimals()`` the ledger client reads from the contract, never assumed) and
converts both ways without floats: the text is checked digit by digit and
turned into base units with integer arithmetic, so ``0.1`` is exactly
10^(decimals-1) units and 2^256-1 units survive the round trip.

Refused, with a message naming the option as the person typed it: anything
but plain decimal digits with at most one point (no signs, exponents,
separators, ``NaN``/``Infinity``), more significant fractional digits than the
token has (``1.50`` is fine, ``0.0000001`` of a 6-decimal token is not), and
amounts above 2^256-1 base units.

Used by the CLI (``kraken-market.cli.ledger_common``), the SDK
(``Marketplace.token``) and the API's ``GET /api/v1/ledger/token``, which
hands web front ends the same three facts (address, symbol, decimals).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kraken_market.ledger.errors import InvalidAmount
from kraken_market.types import UINT256_MAX

MAX_DECIMALS = 77
"""More decimals than any uint256 amount has digits: a token claiming more is broken."""
_DECIMAL_TEXT = re.compile(r"(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")


def parse_amount(
    text: str, decimals: int, *, what: str = "the amount", symbol: str = "DATA"
) -> int:
    """Base units of the decimal amount ``text`` (e.g. ``"4.5"``) of a token with
    ``decimals`` decimals; :class:`InvalidAmount` naming ``what`` (the option as
    typed, e.g. ``--stake``) when it is not an amount the token can hold."""
    _check_decimals(decimals)
    typed = text.strip()
    shown = typed if len(typed) <= 40 else typed[:40] + "…"  # messages stay one line
    match = _DECIMAL_TEXT.fullmatch(typed)
    if typed.startswith("-") and _DECIMAL_TEXT.fullmatch(typed[1:]):
        raise InvalidAmount(
            f"{what}: {shown} is negative; amounts of {symbol} are 0 or more",
            details={"option": what, "value": shown},
        )
    if match is None or not (match["whole"] or match["fraction"]):
        raise InvalidAmount(
            f"{what}: {shown!r} is not an amount of {symbol}; write digits with at most "
            "one decimal point, like 5 or 0.25",
            details={"option": what, "value": shown},
        )
    whole, fraction = match["whole"].lstrip("0") or "0", (match["fraction"] or "").rstrip("0")
    if len(fraction) > decimals:
        raise InvalidAmount(
            f"{what}: {shown} is not a whole number of {symbol}"
            if decimals == 0
            else f"{what}: {shown} has {len(fraction)} decimals; {symbol} has {decimals}, so "
            f"the smallest amount is {format_amount(1, decimals)} {symbol}",
            details={"option": what, "value": shown, "decimals": decimals},
        )
    # len() first: int() of thousands of digits is slow, and refused past 4300
    too_big = len(whole) > len(str(UINT256_MAX))
    units = 0 if too_big else int(whole) * 10**decimals + int(fraction.ljust(decimals, "0") or "0")
    if too_big or units > UINT256_MAX:
        raise InvalidAmount(
            f"{what}: {shown} {symbol} is more than the token can count (at most "
            f"{format_amount(UINT256_MAX, decimals)} {symbol})",
            details={"option": what, "value": shown},
        )
    return units


def format_amount(units: int, decimals: int) -> str:
    """``units`` base units as a decimal amount, exact, trailing zeros trimmed
    (``1500000`` with 6 decimals is ``"1.5"``; 0 is ``"0"``)."""
    _check_decimals(decimals)
    if units < 0:
        raise ValueError(f"amounts are never negative, got {units}")
    whole, fraction = divmod(units, 10**decimals)
    digits = str(fraction).rjust(decimals, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def to_decimal(units: int, decimals: int) -> Decimal:
    """``units`` as an exact :class:`~decimal.Decimal` amount (for arithmetic in the
    SDK; built from the exact text, so no context precision applies)."""
    return Decimal(format_amount(units, decimals))


def _check_decimals(decimals: int) -> None:
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"a token has 0 to {MAX_DECIMALS} decimals, not {decimals}")


@dataclass(frozen=True)
class Token:
    """The marketplace's ERC-20 token as people see it: what it is called and how
    many decimals a whole one has (read from the contract)."""

    address: str
    symbol: str
    decimals: int

    def __post_init__(self) -> None:
        _check_decimals(self.decimals)

    def parse(self, text: str, what: str = "the amount") -> int:
        """Base units of ``text`` in whole tokens (``"2.5"``); see :func:`parse_amount`."""
        return parse_amount(text, self.decimals, what=what, symbol=self.symbol)

    def amount(self, units: int | str) -> str:
        """``units`` (an int or the API's decimal string) as tokens: ``"2.5"``."""
        return format_amount(int(units), self.decimals)

    def show(self, units: int | str) -> str:
        """``units`` for a person: ``"2.5 DATA"``."""
        return f"{self.amount(units)} {self.symbol}"

    def decimal(self, units: int | str) -> Decimal:
        return to_decimal(int(units), self.decimals)

    def as_json(self) -> dict[str, Any]:
        return {"address": self.address, "symbol": self.symbol, "decimals": self.decimals}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Token:
        """The token as ``GET /api/v1/ledger/token`` answers it."""
        return cls(str(data["address"]), str(data["symbol"]), int(data["decimals"]))


PRICE_AMOUNTS = ("access", "computation", "subscription_per_second")
"""The prices that are amounts (``subscription_min_seconds`` is a duration)."""


def product_in_tokens(product: Mapping[str, Any], token: Token) -> dict[str, Any]:
    """``product`` (its API JSON) with its amounts in whole tokens too, for people
    reading ``--json``: ``prices_data`` (each price the product has) and
    ``stake_data``, beside the API's base-unit strings under ``prices`` and ``stake``,
    which stay as they are for scripts."""
    prices = product.get("prices") or {}
    return {
        **product,
        "prices_data": {
            name: token.amount(prices[name])
            for name in PRICE_AMOUNTS
            if prices.get(name) is not None
        },
        "stake_data": token.amount(product["stake"]),
    }
