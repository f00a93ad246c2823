"""GET /api/v1/products/{id}/insight over a scripted chain history (SQLite and
PostgreSQL): series per bucket, breakdowns, computations, unions."""

from __future__ import annotations

import secrets

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from tests.conftest import Account
from tests.factories import product_body
from tests.trade.test_insight_history import (
    History,
    account,
    at,
    granted,
    insight,
    money,
    net_of,
)


@pytest.fixture
def history(engine: Engine) -> History:
    return History(engine)


def test_access_sales_by_week_category_and_purpose(
    app: FastAPI, engine: Engine, alice: Account, history: History
) -> None:
    product = alice.api.create_product(product_body())["id"]
    researcher, company, stranger = account(), account(), account()
    granted(engine, product, researcher, {"individual", "research-institution"}, "research",
            at("2026-03-01T09:00:00"))  # fmt: skip
    granted(engine, product, company, {"company"}, "commercial", at("2026-03-01T09:00:00"))
    history.buy(product, researcher, 5000, at("2026-03-02T10:00:00"), "research")
    history.buy(product, company, 5000, at("2026-03-08T23:59:59"), "commercial")
    history.buy(product, stranger, 8000, at("2026-03-09T00:00:00"), "research")  # no record
    history.buy(product, researcher, 5000, at("2026-04-01T00:00:00"), "research")  # after 'to'

    report = insight(alice, product, **{"from": "2026-03-02", "to": "2026-03-15", "bucket": "week"})

    assert (report["from"], report["to"], report["bucket"]) == ("2026-03-02", "2026-03-15", "week")
    first, second = report["buckets"]
    assert (first["start"], first["end"], second["start"], second["end"]) == (
        "2026-03-02", "2026-03-08", "2026-03-09", "2026-03-15",
    )  # fmt: skip
    assert first["purchases"] == {"access": 2, "subscription": 0, "computation": 0, "via_union": 0}
    assert first["revenue"] == money(10_000, 2 * net_of(5000))
    assert second["purchases"]["access"] == 1
    assert second["revenue"] == money(8000, net_of(8000))
    totals = report["totals"]
    assert totals["revenue"] == money(18_000, 2 * net_of(5000) + net_of(8000))
    assert totals["by_category"] == {
        "company": {"purchases": 1, **money(5000, net_of(5000))},
        "research-institution": {"purchases": 1, **money(5000, net_of(5000))},
        "unknown": {"purchases": 1, **money(8000, net_of(8000))},
    }
    assert totals["by_purpose"] == {
        "commercial": {"purchases": 1, **money(5000, net_of(5000))},
        "research": {"purchases": 2, **money(13_000, net_of(5000) + net_of(8000))},
    }
    assert totals["union_revenue"] == money(0, 0) and report["unions"] == []


def test_day_buckets_clip_to_the_period_and_months_follow_the_calendar(
    app: FastAPI, alice: Account, history: History
) -> None:
    product = alice.api.create_product(product_body())["id"]
    buyer = account()
    for moment in ("2026-01-31T23:59:59", "2026-02-01T00:00:00", "2026-02-28T12:00:00"):
        history.buy(product, buyer, 1000, at(moment))

    days = insight(alice, product, **{"from": "2026-01-31", "to": "2026-02-01"})
    assert [(b["start"], b["purchases"]["access"]) for b in days["buckets"]] == [
        ("2026-01-31", 1), ("2026-02-01", 1),
    ]  # fmt: skip
    months = insight(
        alice, product, **{"from": "2026-01-15", "to": "2026-03-10", "bucket": "month"}
    )
    assert [(b["start"], b["end"], b["purchases"]["access"]) for b in months["buckets"]] == [
        ("2026-01-15", "2026-01-31", 1),
        ("2026-02-01", "2026-02-28", 2),
        ("2026-03-01", "2026-03-10", 0),
    ]
    assert months["totals"]["purchases"]["access"] == 3


def test_computations_count_when_requested_and_earn_when_delivered(
    app: FastAPI, alice: Account, history: History
) -> None:
    product = alice.api.create_product(product_body("analytics"))["id"]
    other = alice.api.create_product(product_body("analytics"))["id"]
    buyer = account()
    both = {product: 700, other: 300}
    delivered = history.compute(both, buyer, at("2026-05-01T08:00:00"), "public-health")
    history.deliver(delivered, both, at("2026-05-02T09:00:00"))
    reclaimed = history.compute({product: 700}, buyer, at("2026-05-01T09:00:00"))
    history.reclaim(reclaimed, buyer, 700, at("2026-05-03T10:00:00"))
    history.compute({product: 700}, buyer, at("2026-05-03T11:00:00"))  # still held
    refunded = history.compute({product: 700}, buyer, at("2026-05-03T12:00:00"))
    history.refund(refunded, buyer, 700, at("2026-05-03T12:00:05"))  # a node refused it

    report = insight(alice, product, **{"from": "2026-05-01", "to": "2026-05-03"})

    day1, day2, day3 = report["buckets"]
    assert day1["purchases"]["computation"] == 2 and day1["revenue"] == money(0, 0)
    assert day1["computations"] == {"requested": 2, "delivered": 0, "reclaimed": 0, "refunded": 0}
    assert day2["computations"] == {"requested": 0, "delivered": 1, "reclaimed": 0, "refunded": 0}
    assert day2["revenue"] == money(700, net_of(700))  # its own item, not the other's 300
    assert day3["computations"] == {"requested": 2, "delivered": 0, "reclaimed": 1, "refunded": 1}
    assert day3["revenue"] == money(0, 0)  # neither the reclaimed nor the refunded one earned
    assert report["totals"]["by_purpose"]["public-health"] == {
        "purchases": 1, **money(700, net_of(700)),
    }  # fmt: skip


def test_a_union_member_earns_its_weighted_share(
    app: FastAPI, alice: Account, bob: Account, history: History
) -> None:
    first = alice.api.create_product(product_body())["id"]
    last = bob.api.create_product(product_body())["id"]
    union = "0x" + secrets.token_hex(32)
    history.union(union, {first: 1, last: 2}, at("2026-06-01T00:00:00"))
    alice_account, bob_account = account(), account()
    history.buy(union, account(), 1001, at("2026-06-02T00:00:00"),
                payees={alice_account: 1, bob_account: 2})  # fmt: skip
    history.buy(first, account(), 500, at("2026-06-02T01:00:00"))
    rest = net_of(1001)  # 976: 325 to the first member, the remainder 651 to the last

    mine = insight(alice, first, **{"from": "2026-06-02", "to": "2026-06-02"})
    theirs = insight(bob, last, **{"from": "2026-06-02", "to": "2026-06-02"})

    assert mine["unions"] == [{"union": union, "weight": 1, "total_weight": 3}]
    assert mine["totals"]["union_revenue"] == money(1001 // 3, rest // 3)
    assert mine["totals"]["revenue"] == money(1001 // 3 + 500, rest // 3 + net_of(500))
    assert mine["totals"]["purchases"] == {
        "access": 2, "subscription": 0, "computation": 0, "via_union": 1,
    }  # fmt: skip
    assert theirs["totals"]["union_revenue"] == money(1001 * 2 // 3, rest - rest // 3)


def test_subscriptions_are_counted_and_amounts_are_strings(
    app: FastAPI, alice: Account, history: History
) -> None:
    product = alice.api.create_product(product_body("stream"))["id"]
    big = 3 * 10**24  # beyond 2^53: exact as a string
    history.buy(product, account(), big, at("2026-07-01T12:00:00"), seconds=3600)
    report = insight(alice, product, **{"from": "2026-07-01", "to": "2026-07-01"})
    assert report["totals"]["purchases"]["subscription"] == 1
    assert report["totals"]["revenue"] == money(big, net_of(big))


def test_events_of_another_deployment_do_not_mix_in(
    app: FastAPI, engine: Engine, alice: Account, history: History
) -> None:
    product = alice.api.create_product(product_body())["id"]
    history.buy(product, account(), 1000, at("2026-03-02T10:00:00"))
    other_chain = History(engine, chain_id=99)
    other_chain.buy(product, account(), 3000, at("2026-03-02T11:00:00"))  # same purchase id 1
    report = insight(alice, product, **{"from": "2026-03-02", "to": "2026-03-02"})
    assert report["totals"]["purchases"]["access"] == 2
    assert report["totals"]["revenue"] == money(4000, net_of(1000) + net_of(3000))
