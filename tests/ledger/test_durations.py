"""Durations typed and shown as ``7d``, ``2h30m``: exact, and refused when not one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_market.ledger.durations import format_duration, parse_duration
from kraken_market.ledger.errors import InvalidDuration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7d", 7 * 86400),
        ("1w", 7 * 86400),
        ("2h", 7200),
        ("1h30m", 5400),
        ("90m", 5400),
        ("45s", 45),
        ("3600", 3600),
        ("1D 2H", 93600),
        ("2d12h", 216000),
        ("0s", 0),
    ],
)
def test_durations_are_read_in_their_units(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "7x", "-1h", "1.5h", "h", "2m1h", "1h1h", "7 days", "P7D"])
def test_anything_else_is_refused_naming_the_option(text: str) -> None:
    with pytest.raises(InvalidDuration) as caught:
        parse_duration(text, "--claim-window")
    assert caught.value.message.startswith("--claim-window: ")
    assert "like 7d, 2h, 1h30m or 90s" in caught.value.message


@pytest.mark.parametrize(
    ("seconds", "text"), [(604800, "7d"), (5400, "1h30m"), (3600, "1h"), (61, "1m1s"), (0, "0s")]
)
def test_durations_are_shown_in_days_hours_minutes_seconds(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.integers(min_value=0, max_value=10**9))
def test_what_is_shown_reads_back_as_the_same_seconds(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
