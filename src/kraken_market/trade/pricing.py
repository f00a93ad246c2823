"""Price suggestions: what comparable products actually sold for.

Pilot sellers found pricing their data hard; the market's own sales answer it.
A product is *comparable* when it has the same access mode and shares tags or
column names with the one being priced. Its similarity is the Jaccard index of
the two feature sets (``tag:x`` and ``column:y``, column names compared
case-insensitively): the features both have over the features either has, kept
as an exact fraction. A query with no tags and no columns finds every product of
its mode, each with similarity 1.

The suggestion is the weighted median of the unit prices (per access, per second
of subscription, per computation) of the comparable products' sales in the last
year, each sale weighted by its product's similarity, with the weighted first
and third quartiles as the range. With fewer than :data:`MIN_SALES` sales the
comparable products' listed prices stand in, each weighted by its similarity.
Data Unions are not comparables: their price pays several owners. Only amounts
are read from the sales, never a buyer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kraken_market.catalog.models import Product, ProductTag
from kraken_market.catalog.vocabulary import AccessMode
from kraken_market.errors import ValidationFailed
from kraken_market.trade.insight import load_deals
from kraken_market.trade.schemas import Comparable, PriceSuggestion

MIN_SALES = 5
MAX_COMPARABLES = 50
SCAN = 2000
"""Candidates read per query (the most recent products of the mode or with a shared tag)."""
SALES_WINDOW = timedelta(days=365)
SHOWN = 10
UNITS: dict[AccessMode, Literal["access", "second", "computation"]] = {
    AccessMode.BATCH: "access",
    AccessMode.STREAM: "second",
    AccessMode.ANALYTICS: "computation",
}
_TAG = r"^[a-z0-9][a-z0-9-]*$"
_COLUMN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


@dataclass(frozen=True)
class Features:
    """What similarity compares: a product's tags and column names."""

    tags: frozenset[str]
    columns: frozenset[str]

    @classmethod
    def of(cls, product: Product) -> Features:
        columns = (product.data_schema or {}).get("columns", [])
        return cls(frozenset(product.tags), frozenset(str(c["name"]) for c in columns))

    @classmethod
    def parse(cls, tags: Iterable[str], columns: Iterable[str]) -> Features:
        """From query values, each one name or a comma-separated list."""
        return cls(_names(tags, "tags", _TAG, 48, 32), _names(columns, "columns", _COLUMN, 64, 256))

    def terms(self) -> frozenset[str]:
        return frozenset(
            {f"tag:{t}" for t in self.tags} | {f"column:{c.lower()}" for c in self.columns}
        )


def _names(
    values: Iterable[str], where: str, pattern: str, longest: int, most: int
) -> frozenset[str]:
    names = [n.strip() for value in values for n in value.split(",") if n.strip()]
    for name in names:
        if len(name) > longest or not re.fullmatch(pattern, name):
            raise ValidationFailed.of(
                ("query", where), "name_invalid", f"{where}: {name[:64]!r} does not match {pattern}"
            )
    if len(set(names)) > most:
        raise ValidationFailed.of(("query", where), "too_many", f"{where}: at most {most} names")
    return frozenset(names)


def similarity(asked: Features, other: Features) -> Fraction:
    mine, theirs = asked.terms(), other.terms()
    if not mine:
        return Fraction(1)
    return Fraction(len(mine & theirs), len(mine | theirs))


def weighted_quantile(points: Sequence[tuple[int, Fraction]], q: Fraction) -> int:
    """The ``q``-quantile of weighted values: the first value whose cumulative weight
    passes ``q`` of the total; exactly on it, the midpoint with the next value (so
    equal weights give the usual median of an even count)."""
    ordered = sorted(points)
    target = q * sum(weight for _, weight in ordered)
    cumulative = Fraction(0)
    for i, (value, weight) in enumerate(ordered):
        cumulative += weight
        if cumulative > target:
            return value
        if cumulative == target and i + 1 < len(ordered):
            return (value + ordered[i + 1][0]) // 2
    return ordered[-1][0]


def comparables(
    session: Session, mode: AccessMode, asked: Features, exclude: str | None
) -> list[tuple[Product, Fraction]]:
    """The most similar products of ``mode`` (similarity > 0), most similar first."""
    query = select(Product).where(Product.access_mode == mode.value)
    if exclude is not None:
        query = query.where(Product.id != exclude)
    queries = [query.order_by(Product.seq.desc()).limit(SCAN)]
    if asked.tags:
        shared = select(ProductTag.product_seq).where(ProductTag.tag.in_(sorted(asked.tags)))
        queries.append(
            query.where(Product.seq.in_(shared)).order_by(Product.seq.desc()).limit(SCAN)
        )
    found = {p.seq: p for q in queries for p in session.scalars(q)}
    scored = [(p, similarity(asked, Features.of(p))) for p in found.values()]
    scored = [(p, s) for p, s in scored if s > 0]
    scored.sort(key=lambda pair: (-pair[1], -pair[0].seq))
    return scored[:MAX_COMPARABLES]


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def suggest(
    session: Session, mode: AccessMode, asked: Features, now: datetime, exclude: str | None = None
) -> PriceSuggestion:
    """A price per unit for a product of ``mode`` with the features ``asked``."""
    found = comparables(session, mode, asked, exclude)
    weights = {p.id: s for p, s in found}
    shown = [
        Comparable(id=p.id, title=p.title, similarity=round(float(s), 4), listed_price=p.list_price)
        for p, s in found[:SHOWN]
    ]
    if not found:
        what = "shares a tag or a column with yours" if asked.terms() else "is listed yet"
        return PriceSuggestion(
            access_mode=mode,
            unit=UNITS[mode],
            basis="none",
            suggested=None,
            low=None,
            high=None,
            sales=0,
            comparables=0,
            summary=f"no comparable products: no other {mode.value} product {what}; "
            "set a price you find fair, or try other tags or columns",
            products=[],
        )
    deals = load_deals(session, weights, now, now - SALES_WINDOW, payouts=False)
    sales = [
        (d.price // d.seconds if d.seconds else d.price, weights[d.item], d.item)
        for d in deals
        if d.reclaimed_at is None and d.refunded_at is None
    ]
    if len(sales) >= MIN_SALES:
        points = [(price, weight) for price, weight, _ in sales]
        sold = len({item for _, _, item in sales})
        basis: Literal["sales", "listed_prices"] = "sales"
        summary = f"based on {_count(len(sales), 'sale')} of {_count(sold, 'comparable product')}"
    else:
        points = [(p.list_price, s) for p, s in found]
        sold, basis = len(found), "listed_prices"
        summary = (
            f"based on the listed prices of {_count(sold, 'comparable product')} "
            f"(only {_count(len(sales), 'sale')} in the last year; {MIN_SALES} needed)"
        )
    return PriceSuggestion(
        access_mode=mode,
        unit=UNITS[mode],
        basis=basis,
        suggested=weighted_quantile(points, Fraction(1, 2)),
        low=weighted_quantile(points, Fraction(1, 4)),
        high=weighted_quantile(points, Fraction(3, 4)),
        sales=len(sales),
        comparables=sold,
        summary=summary,
        products=shown,
    )
