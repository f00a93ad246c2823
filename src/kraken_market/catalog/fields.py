"""Reusable validated field types of the catalog's API shapes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from kraken_market.catalog.ids import ID_PATTERN
from kraken_market.catalog.vocabulary import REGIONS, is_region
from kraken_market.types import UINT256_MAX

_DIGITS = re.compile(r"^[0-9]{1,78}$")


def _parse_amount(value: Any) -> int:
    """Accept a JSON integer or a decimal string; never a float or a bool."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError(
            "amount_type", "amounts are whole DATA base units: a JSON integer or decimal string"
        )
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise PydanticCustomError(
                "amount_type", "amount strings hold only the digits 0-9 (at most 78)"
            )
        value = int(value)
    assert isinstance(value, int)
    if value < 0:
        raise PydanticCustomError("amount_negative", "amounts cannot be negative")
    if value > UINT256_MAX:
        raise PydanticCustomError("amount_too_large", "amounts cannot exceed 2^256 - 1")
    return value


Amount = Annotated[
    int,
    BeforeValidator(_parse_amount),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": UINT256_MAX},
                {"type": "string", "pattern": _DIGITS.pattern},
            ],
            "description": "DATA base units, 0 to 2^256-1",
        },
        mode="validation",
    ),
    WithJsonSchema(
        {"type": "string", "pattern": _DIGITS.pattern, "description": "DATA base units"},
        mode="serialization",
    ),
]
"""An amount of DATA base units: exact integer, 0..2^256-1; written as a decimal string
in responses because JSON readers such as JavaScript lose integers above 2^53."""

Id = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    AfterValidator(str.lower),
]
"""A 32-byte id as ``0x`` + 64 hex digits, normalised to lowercase."""


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; refuse it on every database alike.
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "text cannot contain the NUL character (U+0000)")
    return value


NoNul = AfterValidator(_no_nul)

# Input is checked, never silently rewritten: what the spec refuses, the API refuses.
Title = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$"), NoNul
]
Description = Annotated[str, StringConstraints(max_length=10_000), NoNul]
ShortText = Annotated[str, StringConstraints(max_length=1000), NoNul]
Tag = Annotated[
    str, StringConstraints(min_length=1, max_length=48, pattern=r"^[a-z0-9][a-z0-9-]*$")
]
CredentialType = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Za-z0-9]{0,63}$")]
StorageLink = Annotated[str, StringConstraints(min_length=1, max_length=2048), NoNul]
Weight = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]


def _region(value: str) -> str:
    if not is_region(value):
        raise PydanticCustomError(
            "unknown_region",
            "'{region}' is not an ISO 3166-1 alpha-2 country code, EU or EEA",
            {"region": value},
        )
    return value


Region = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2,3}$"),
    AfterValidator(_region),
    Field(json_schema_extra={"enum": list(REGIONS)}),
]


def _time_text(value: Any) -> Any:
    # JSON carries times as RFC 3339 text; a number would be read as a Unix time.
    if not isinstance(value, str | datetime):
        raise PydanticCustomError("datetime_type", "give the time as RFC 3339 text")
    return value


def require_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError(
            "timezone_required", "give a time zone, e.g. 2027-01-01T00:00:00Z"
        )
    return value


AwareTime = Annotated[datetime, BeforeValidator(_time_text), AfterValidator(require_aware)]


UNIQUE = Field(json_schema_extra={"uniqueItems": True})
"""Declares in the spec what :func:`unique` enforces."""


def unique(values: list[Any]) -> list[Any]:
    """Reject repeated list entries (an error, not a silent de-duplication)."""
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise PydanticCustomError(
                "duplicate", "'{value}' is listed twice", {"value": str(value)}
            )
        seen.add(value)
    return values
