"""Keyset ("cursor") pagination shared by every listing.

A cursor is the sort key of the last row served, with the listing's name and
a fingerprint of its filters, base64url-encoded JSON. Keyset paging stays fast
at any depth and never skips or repeats a row when rows are added meanwhile.
A cursor is not a secret and not signed; it is validated field by field, and
one taken from another listing or another set of filters is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from kraken_market.errors import InvalidCursor

MAX_CURSOR = 2048


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class SortKey:
    """One column of a sort order; ``kind`` is the JSON type the cursor holds for it,
    ``dump``/``load`` convert between the column's value and that JSON value."""

    column: ColumnElement[Any] | InstrumentedAttribute[Any]
    descending: bool
    kind: type = int
    dump: Callable[[Any], Any] = _same
    load: Callable[[Any], Any] = _same
    maximum: int = 2**63 - 1  # int keys: the largest value the column can hold


def fingerprint(**filters: Any) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(listing: str, filters: str, values: Sequence[Any]) -> str:
    payload = json.dumps({"l": listing, "f": filters, "k": list(values)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, listing: str, filters: str, keys: Sequence[SortKey]) -> list[Any]:
    """The key values in ``cursor``, checked against the listing, filters and key types."""
    if len(cursor) > MAX_CURSOR:
        raise InvalidCursor("the cursor is too long; pass back next_cursor unchanged")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise InvalidCursor("the cursor is not one this API issued") from exc
    if not isinstance(data, dict) or set(data) != {"l", "f", "k"}:
        raise InvalidCursor("the cursor is not one this API issued")
    if data["l"] != listing or data["f"] != filters:
        raise InvalidCursor(
            "the cursor belongs to another listing or other filters; "
            "repeat the same query with the cursor, or start again without one"
        )
    values = data["k"]
    if not isinstance(values, list) or len(values) != len(keys):
        raise InvalidCursor("the cursor is not one this API issued")
    loaded = []
    for value, key in zip(values, keys, strict=True):
        # A cursor is client input: every value is checked before it reaches SQL.
        if type(value) is not key.kind:
            raise InvalidCursor("the cursor is not one this API issued")
        if isinstance(value, int) and not 0 <= value <= key.maximum:
            raise InvalidCursor("the cursor is not one this API issued")
        if isinstance(value, str) and (len(value) > 200 or "\x00" in value):
            raise InvalidCursor("the cursor is not one this API issued")
        try:
            loaded.append(key.load(value))
        except (ValueError, OverflowError) as exc:
            raise InvalidCursor("the cursor is not one this API issued") from exc
    return loaded


def next_cursor(listing: str, filters: str, keys: Sequence[SortKey], row: Sequence[Any]) -> str:
    """The cursor after ``row``, whose values are the sort keys in order."""
    return encode_cursor(listing, filters, [key.dump(v) for key, v in zip(keys, row, strict=True)])


def after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys`` (lexicographic keyset)."""
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(and_(*equal, beyond))
    return or_(*clauses)


def order_by(keys: Sequence[SortKey]) -> list[ColumnElement[Any]]:
    return [key.column.desc() if key.descending else key.column.asc() for key in keys]
