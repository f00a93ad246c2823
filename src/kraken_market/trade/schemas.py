"""API shapes of seller insight and price suggestions.

Amounts are DATA base units written as decimal strings (``catalog.fields.Amount``),
as everywhere in the API: JSON readers such as JavaScript lose integers above 2^53.
No shape here has a field for a buyer: insight and suggestions say what kind of
buyer paid how much, never who.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kraken_market.catalog.fields import Amount
from kraken_market.catalog.vocabulary import AccessMode
from kraken_market.errors import InvalidRequest


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Money(BaseModel):
    gross: Amount = Field(description="what buyers paid for this product")
    net: Amount = Field(description="what reached its owner (gross minus the platform fee)")


class Slice(BaseModel):
    """The purchases and revenue of one buyer category or one purpose."""

    purchases: int
    gross: Amount
    net: Amount


class Purchases(BaseModel):
    access: int = Field(description="batch accesses bought")
    subscription: int = Field(description="stream subscriptions bought")
    computation: int = Field(description="computations paid for (held until delivered)")
    via_union: int = Field(description="of these, bought through a Data Union")


class Computations(BaseModel):
    requested: int
    delivered: int = Field(description="attested by the nodes: their payment reached you")
    reclaimed: int = Field(description="not delivered in time: the buyer took the payment back")
    refunded: int = Field(
        description="refused by a compute node for a reason the buyer did not cause (the "
        "product's share files or manifest missing or invalid): the buyer was refunded at once"
    )


class InsightBucket(BaseModel):
    start: date
    end: date = Field(description="last day of the bucket (inclusive)")
    views: int = Field(description="reads of the product page, not counting yours")
    purchases: Purchases
    computations: Computations
    revenue: Money = Field(description="revenue paid out in the bucket, unions included")
    union_revenue: Money = Field(description="of the revenue, your weighted share of unions")
    by_category: dict[str, Slice] = Field(
        description="per buyer category (the most specific one the buyer proved); 'unknown' "
        "when no grant record tells"
    )
    by_purpose: dict[str, Slice]


class UnionShare(BaseModel):
    union: str
    weight: int
    total_weight: int


class Insight(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    product: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    bucket: Bucket
    totals: InsightBucket
    buckets: list[InsightBucket]
    unions: list[UnionShare] = Field(description="Data Unions this product earns a share of")


class Comparable(BaseModel):
    id: str
    title: str
    similarity: float = Field(description="Jaccard index of tags and column names, 0..1")
    listed_price: Amount | None


class PriceSuggestion(BaseModel):
    access_mode: AccessMode
    unit: Literal["access", "second", "computation"]
    basis: Literal["sales", "listed_prices", "none"] = Field(
        description="what the suggestion is computed from; 'none' without comparables"
    )
    suggested: Amount | None = Field(description="similarity-weighted median per unit")
    low: Amount | None = Field(description="first quartile (weighted)")
    high: Amount | None = Field(description="third quartile (weighted)")
    sales: int = Field(description="sales of comparable products in the last year")
    comparables: int = Field(description="comparable products behind the suggestion")
    summary: str
    products: list[Comparable] = Field(description="the most similar comparable products")


class InvalidPeriod(InvalidRequest):
    code = "invalid_period"


class PeriodTooLong(InvalidRequest):
    code = "period_too_long"


MAX_BUCKETS = 1000
DEFAULT_BUCKETS = {Bucket.DAY: 30, Bucket.WEEK: 12, Bucket.MONTH: 12}


def _floor(day: date, bucket: Bucket) -> date:
    """The first day of the calendar bucket holding ``day`` (weeks start on Monday)."""
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if bucket is Bucket.MONTH else day


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _months(day: date) -> int:
    return day.year * 12 + day.month - 1


def _after(day: date, bucket: Bucket) -> date:
    """The first day of the calendar bucket after the one holding ``day``."""
    if bucket is Bucket.MONTH:
        return _month(_months(day) + 1)
    return _floor(day, bucket) + timedelta(days=7 if bucket is Bucket.WEEK else 1)


def _count(start: date, end: date, bucket: Bucket) -> int:
    if bucket is Bucket.MONTH:
        return _months(end) - _months(start) + 1
    days = (_floor(end, bucket) - _floor(start, bucket)).days
    return days // (7 if bucket is Bucket.WEEK else 1) + 1


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` (inclusive, UTC) cut at calendar day, ISO week or month
    boundaries; the first and last buckets are clipped to the period."""

    start: date
    end: date
    bucket: Bucket
    starts: tuple[date, ...]

    @classmethod
    def of(cls, start: date | None, end: date | None, bucket: Bucket, today: date) -> Period:
        """The period asked for; without ``end`` up to today, without ``start`` the last
        30 days, 12 weeks or 12 months."""
        end = end or today
        if start is None:
            back = DEFAULT_BUCKETS[bucket] - 1
            if bucket is Bucket.MONTH:
                start = _month(_months(end) - back)
            else:
                start = _floor(end, bucket) - timedelta(
                    days=back * (7 if bucket is Bucket.WEEK else 1)
                )
        if start > end:
            raise InvalidPeriod(
                "'from' is after 'to'", details={"from": start.isoformat(), "to": end.isoformat()}
            )
        count = _count(start, end, bucket)
        if count > MAX_BUCKETS:
            raise PeriodTooLong(
                f"the period has {count} {bucket.value} buckets; ask for at most {MAX_BUCKETS} "
                "(a shorter period or a longer bucket)",
                details={"buckets": count, "max": MAX_BUCKETS},
            )
        starts = [start]
        while (following := _after(starts[-1], bucket)) <= end:
            starts.append(following)
        return cls(start, end, bucket, tuple(starts))

    def ends(self) -> list[date]:
        return [s - timedelta(days=1) for s in self.starts[1:]] + [self.end]

    def index(self, moment: datetime | None) -> int | None:
        """The bucket of ``moment``, or None outside the period."""
        if moment is None:
            return None
        day = moment.astimezone(UTC).date()
        if not self.start <= day <= self.end:
            return None
        return bisect_right(self.starts, day) - 1
