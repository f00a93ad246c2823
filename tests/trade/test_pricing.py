"""Price suggestions: the weighted statistics alone, then the API over scripted sales
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.errors import ValidationFailed
from kraken_market.trade.pricing import Features, similarity, weighted_quantile
from tests.conftest import Account
from tests.factories import SCHEMA, product_body
from tests.trade.test_insight_history import History, account

HALF, QUARTER, THREE_QUARTERS = Fraction(1, 2), Fraction(1, 4), Fraction(3, 4)


def test_weighted_quantiles_of_equal_weights_are_the_usual_ones() -> None:
    points = [(v, Fraction(1)) for v in (40, 10, 30, 20)]
    assert weighted_quantile(points, HALF) == 25  # midpoint of an even count
    assert weighted_quantile([(7, Fraction(1, 3))], HALF) == 7
    assert weighted_quantile([(v, Fraction(1)) for v in (1, 2, 3)], HALF) == 2
    assert weighted_quantile(points, QUARTER) == 15
    assert weighted_quantile(points, THREE_QUARTERS) == 35


def test_weights_pull_the_median_towards_the_similar() -> None:
    points = [(100, Fraction(1)), (200, Fraction(1, 10)), (300, Fraction(1, 10))]
    assert weighted_quantile(points, HALF) == 100
    assert weighted_quantile(points, THREE_QUARTERS) == 100
    heavy = [(100, Fraction(1, 10)), (200, Fraction(1, 10)), (300, Fraction(1))]
    assert weighted_quantile(heavy, HALF) == 300


def test_similarity_is_the_jaccard_index_of_tags_and_columns() -> None:
    asked = Features.parse(["health,wearables"], ["Age"])
    same = Features(frozenset({"health", "wearables"}), frozenset({"age"}))
    assert similarity(asked, same) == 1  # column names compare case-insensitively
    half = Features(frozenset({"health"}), frozenset({"age", "weight"}))
    assert similarity(asked, half) == Fraction(2, 4)
    assert similarity(asked, Features(frozenset({"finance"}), frozenset())) == 0
    assert similarity(Features(frozenset(), frozenset()), half) == 1  # nothing asked: all


def test_names_may_be_repeated_or_comma_separated() -> None:
    parsed = Features.parse(["health, wearables,", "health"], ["age", "Sex"])
    assert parsed == Features(frozenset({"health", "wearables"}), frozenset({"age", "Sex"}))


@pytest.mark.parametrize(("tags", "columns"), [(["Health"], []), ([], ["1st"]), (["a" * 49], [])])
def test_bad_names_are_refused(tags: list[str], columns: list[str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        Features.parse(tags, columns)
    assert refused.value.details[0]["type"] == "name_invalid"


def suggestion(owner: Account, path: str = "/api/v1/pricing/suggestion", **params: Any) -> Any:
    answer = owner.api.http.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def batch(seller: Account, tags: list[str], price: int) -> str:
    body = product_body(tags=tags, prices={"access": price})
    product: str = seller.api.create_product(body)["id"]
    return product


def recently(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def test_a_suggestion_from_sales_weighted_by_similarity(
    app: FastAPI, engine: Engine, alice: Account, bob: Account
) -> None:
    history, buyers = History(engine), [account() for _ in range(7)]
    close = batch(bob, ["health", "wearables"], 1200)  # similarity 1
    near = batch(bob, ["health"], 3000)  # similarity 1/2
    batch(bob, ["finance"], 9)  # nothing in common
    bob.api.create_product(product_body("stream"))  # another mode
    for i in range(3):
        history.buy(close, buyers[i], 1000, recently(10 + i))
        history.buy(near, buyers[3 + i], 4000, recently(10 + i))
    history.buy(close, buyers[6], 99_999, recently(400))  # over a year ago

    answer = suggestion(alice, access_mode="batch", tags="health,wearables")

    assert answer["basis"] == "sales" and answer["unit"] == "access"
    assert (answer["suggested"], answer["low"], answer["high"]) == ("1000", "1000", "4000")
    assert (answer["sales"], answer["comparables"]) == (6, 2)
    assert answer["summary"] == "based on 6 sales of 2 comparable products"
    assert [(p["id"], p["similarity"]) for p in answer["products"]] == [(close, 1.0), (near, 0.5)]
    text = str(answer)
    assert not any(b in text or b.lower() in text for b in buyers)  # never who bought
    assert bob.principal.account not in text


def test_too_few_sales_fall_back_to_listed_prices(
    app: FastAPI, engine: Engine, alice: Account, bob: Account
) -> None:
    history = History(engine)
    close = batch(bob, ["health", "wearables"], 1200)
    batch(bob, ["health"], 3000)
    history.buy(close, account(), 1000, recently(1))
    reclaimed = history.compute({close: 50}, account(), recently(1))  # not a sale after all
    history.reclaim(reclaimed, account(), 50, recently(0.5))
    refunded = history.compute({close: 60}, account(), recently(1))  # a node refused it
    history.refund(refunded, account(), 60, recently(0.5))

    answer = suggestion(alice, access_mode="batch", tags=["health", "wearables"])

    assert answer["basis"] == "listed_prices"
    assert (answer["suggested"], answer["low"], answer["high"]) == ("1200", "1200", "3000")
    assert (answer["sales"], answer["comparables"]) == (1, 2)
    assert answer["summary"] == (
        "based on the listed prices of 2 comparable products (only 1 sale in the last year; "
        "5 needed)"
    )


def test_no_comparable_products_is_a_clear_answer(app: FastAPI, alice: Account) -> None:
    answer = suggestion(alice, access_mode="analytics", tags="astronomy", columns="magnitude")
    assert answer["basis"] == "none" and answer["suggested"] is None
    assert (answer["sales"], answer["comparables"], answer["products"]) == (0, 0, [])
    assert answer["summary"].startswith("no comparable products")


def test_streams_are_priced_per_second_and_a_product_is_not_its_own_comparable(
    app: FastAPI, engine: Engine, alice: Account, bob: Account
) -> None:
    history = History(engine)
    mine = alice.api.create_product(product_body("stream", schema=SCHEMA))["id"]
    theirs = bob.api.create_product(product_body("stream", tags=["sleep"], schema=SCHEMA))["id"]
    for day in range(5):
        history.buy(theirs, account(), 7200, recently(day + 1), seconds=3600)
        history.buy(mine, account(), 99_000, recently(day + 1), seconds=3600)

    path = f"/api/v1/products/{mine}/price-suggestion"
    answer = suggestion(alice, path)

    assert answer["unit"] == "second" and answer["basis"] == "sales"
    assert answer["suggested"] == "2" and answer["sales"] == 5
    assert [p["id"] for p in answer["products"]] == [theirs]
    assert answer["products"][0]["similarity"] == pytest.approx(3 / 6)  # 3 shared of 6 features


@pytest.mark.parametrize(
    ("params", "code", "kind"),
    [
        ({}, "validation_error", "missing"),
        ({"access_mode": "barter"}, "validation_error", "enum"),
        ({"access_mode": "batch", "tags": "Not A Tag"}, "validation_error", "name_invalid"),
        ({"access_mode": "batch", "columns": "x,9lives"}, "validation_error", "name_invalid"),
    ],
)
def test_bad_parameters_are_refused(
    app: FastAPI, alice: Account, params: dict[str, str], code: str, kind: str
) -> None:
    answer = TestClient(app).get("/api/v1/pricing/suggestion", params=params, headers=alice.headers)
    assert (answer.status_code, answer.json()["code"]) == (422, code), answer.text
    assert answer.json()["details"][0]["type"] == kind


def test_suggestions_need_a_session(app: FastAPI, alice: Account) -> None:
    product = alice.api.create_product(product_body())["id"]
    http = TestClient(app)
    for path in (
        "/api/v1/pricing/suggestion?access_mode=batch",
        f"/api/v1/products/{product}/price-suggestion",
    ):
        answer = http.get(path)
        assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated")
    answer = http.get(f"/api/v1/products/0x{'00' * 32}/price-suggestion", headers=alice.headers)
    assert (answer.status_code, answer.json()["code"]) == (404, "product_not_found")
