"""Insight periods and buckets (pure), and the tables behind views and buyer categories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kraken_market.trade.models import GrantIndex, ProductView, category_of, record_grant
from kraken_market.trade.schemas import MAX_BUCKETS, Bucket, InvalidPeriod, Period, PeriodTooLong
from kraken_market.trade.views import ViewCounter
from tests.conftest import Account
from tests.factories import product_body
from tests.trade.test_insight_history import account, insight

TODAY = date(2026, 3, 11)  # a Wednesday


def test_weeks_start_on_monday_and_are_clipped_to_the_period() -> None:
    period = Period.of(date(2026, 3, 4), date(2026, 3, 17), Bucket.WEEK, TODAY)
    assert period.starts == (date(2026, 3, 4), date(2026, 3, 9), date(2026, 3, 16))
    assert period.ends() == [date(2026, 3, 8), date(2026, 3, 15), date(2026, 3, 17)]
    assert period.index(datetime(2026, 3, 8, 23, 59, 59, tzinfo=UTC)) == 0
    assert period.index(datetime(2026, 3, 9, tzinfo=UTC)) == 1
    assert period.index(datetime(2026, 3, 18, tzinfo=UTC)) is None
    assert period.index(None) is None


def test_times_are_bucketed_by_their_utc_day() -> None:
    period = Period.of(date(2026, 3, 1), date(2026, 3, 2), Bucket.DAY, TODAY)
    late_in_berlin = datetime.fromisoformat("2026-03-02T00:30:00+01:00")  # 23:30 UTC on the 1st
    assert period.index(late_in_berlin) == 0


def test_defaults_are_the_last_30_days_12_weeks_or_12_months() -> None:
    days = Period.of(None, None, Bucket.DAY, TODAY)
    assert (days.start, days.end, len(days.starts)) == (TODAY - timedelta(days=29), TODAY, 30)
    weeks = Period.of(None, None, Bucket.WEEK, TODAY)
    assert (weeks.start, len(weeks.starts)) == (date(2025, 12, 22), 12)
    months = Period.of(None, date(2026, 1, 20), Bucket.MONTH, TODAY)
    assert (months.start, len(months.starts)) == (date(2025, 2, 1), 12)
    assert months.starts[-1] == date(2026, 1, 1) and months.ends()[-1] == date(2026, 1, 20)


def test_a_bad_period_is_refused_with_its_own_code() -> None:
    with pytest.raises(InvalidPeriod) as backwards:
        Period.of(date(2026, 3, 2), date(2026, 3, 1), Bucket.DAY, TODAY)
    assert backwards.value.code == "invalid_period" and backwards.value.status == 422
    with pytest.raises(PeriodTooLong) as long:
        Period.of(date(2000, 1, 1), date(2026, 1, 1), Bucket.WEEK, TODAY)
    assert long.value.details == {"buckets": 1358, "max": MAX_BUCKETS}
    assert len(Period.of(date(1970, 1, 1), date(2026, 1, 1), Bucket.MONTH, TODAY).starts) == 673


def test_the_most_specific_category_of_the_latest_grant_before_the_purchase(
    engine: Engine,
) -> None:
    item, buyer = "0x" + "ab" * 32, account()
    when = datetime(2026, 3, 1, tzinfo=UTC)
    with Session(engine) as session:
        for categories, purpose, hours in (
            ({"individual"}, "research", 0),
            ({"individual", "research-institution"}, "research", 2),
            ({"company"}, "commercial", 3),
            ({"public-body"}, "research", 48),  # after the purchase below
        ):
            record_grant(session, item=item, account=buyer, buyer_categories=frozenset(categories),
                         purpose=purpose, granted_at=when + timedelta(hours=hours),
                         expiry=when + timedelta(days=9), tx_hash="0x")  # fmt: skip
        grants = GrantIndex(session, [item])
    bought = when + timedelta(hours=5)
    assert grants.category(item, buyer, "research", bought) == "research-institution"
    assert grants.category(item, buyer, "commercial", bought) == "company"
    assert grants.category(item, buyer, "education", bought) == "company"  # any purpose
    assert grants.category(item, buyer, "research", when - timedelta(days=1)) == "public-body"
    assert grants.category(item, account(), "research", bought) == "unknown"
    assert category_of(["individual", "company"]) == "company"


def test_views_are_one_counter_per_day(app: FastAPI, engine: Engine, alice: Account) -> None:
    product = alice.api.create_product(product_body())["id"]
    counter = ViewCounter(engine, flush_every=3600)
    for viewer, day in (
        ("bob", date(2026, 3, 1)),
        ("carol", date(2026, 3, 1)),
        ("bob", date(2026, 3, 1)),  # again the same day: not counted
        ("bob", date(2026, 3, 2)),
        ("bob", date(2026, 3, 9)),
    ):
        counter.note(product, viewer, day)
    with Session(engine) as session:  # no write per read
        assert session.scalar(select(func.count()).select_from(ProductView)) == 0
    counter.flush()
    report = insight(alice, product, **{"from": "2026-02-23", "to": "2026-03-15", "bucket": "week"})
    assert [b["views"] for b in report["buckets"]] == [2, 1, 1]
    assert report["totals"]["views"] == 4
