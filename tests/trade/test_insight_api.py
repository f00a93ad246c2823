"""GET /api/v1/products/{id}/insight: defaults, who may see it, refused parameters, and
the views the product page counts (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import Account, person
from tests.factories import product_body
from tests.trade.test_insight_history import insight, money


def test_without_dates_the_last_30_days_up_to_today(app: FastAPI, alice: Account) -> None:
    product = alice.api.create_product(product_body())["id"]
    report = insight(alice, product)
    today = datetime.now(UTC).date()
    assert report["to"] == today.isoformat()
    assert report["from"] == (today - timedelta(days=29)).isoformat()
    assert len(report["buckets"]) == 30
    assert report["totals"]["revenue"] == money(0, 0) and report["totals"]["by_category"] == {}


def test_only_the_owner_may_see_insight(app: FastAPI, alice: Account, bob: Account) -> None:
    product = alice.api.create_product(product_body())["id"]
    http = TestClient(app)
    path = f"/api/v1/products/{product}/insight"
    answer = http.get(path, headers=bob.headers)
    assert (answer.status_code, answer.json()["code"]) == (403, "not_owner")
    answer = http.get(path)
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated")


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"bucket": "year"}, 422, "validation_error"),
        ({"from": "2026-02-30"}, 422, "validation_error"),
        ({"from": "1969-12-31", "to": "1970-01-10"}, 422, "validation_error"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, 422, "invalid_period"),
        ({"from": "2000-01-01", "to": "2026-01-01", "bucket": "day"}, 422, "period_too_long"),
    ],
)
def test_bad_parameters_are_refused(
    app: FastAPI, alice: Account, params: dict[str, str], status: int, code: str
) -> None:
    product = alice.api.create_product(product_body())["id"]
    answer = TestClient(app).get(
        f"/api/v1/products/{product}/insight", params=params, headers=alice.headers
    )
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text


def test_an_unknown_product_is_404(app: FastAPI, alice: Account) -> None:
    answer = TestClient(app).get(f"/api/v1/products/0x{'00' * 32}/insight", headers=alice.headers)
    assert (answer.status_code, answer.json()["code"]) == (404, "product_not_found")


def test_views_count_everyone_but_the_owner(app: FastAPI) -> None:
    alice, bob = person(app, "alice"), person(app, "bob")
    product = alice.api.create_product(product_body())["id"]
    http = TestClient(app)
    path = f"/api/v1/products/{product}"
    for _ in range(5):  # an anonymous loop counts once a day
        assert http.get(path).status_code == 200
    assert http.get(path, headers={"Authorization": "Bearer stale"}).status_code == 200
    for agent in ("another browser", "a third one"):  # headers are the client's to choose
        assert http.get(path, headers={"User-Agent": agent}).status_code == 200
    other_address = TestClient(app, client=("203.0.113.9", 50000))
    assert other_address.get(path).status_code == 200
    for _ in range(2):
        assert http.get(path, headers=bob.headers).status_code == 200
    for _ in range(3):
        assert http.get(path, headers=alice.headers).status_code == 200  # the owner's own
    report = insight(alice, product)
    today = datetime.now(UTC).date().isoformat()
    assert report["totals"]["views"] == 3
    assert [b["views"] for b in report["buckets"] if b["start"] == today] == [3]
