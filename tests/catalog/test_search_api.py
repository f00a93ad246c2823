"""Search over HTTP: text, filters, sorts, cursor pagination; identical on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kraken_market.api.app import create_app
from kraken_market.db.engine import make_engine
from kraken_market.settings import Settings
from tests.conftest import Account, person, truncate_all
from tests.factories import product_body

URL = "/api/v1/products"

CATALOG: list[dict[str, Any]] = [
    product_body(
        "batch", title="Heart rate of runners", tags=["health", "sport"], prices={"access": 100}
    ),
    product_body(
        "batch",
        title="Sleep diary",
        description="Heart-friendly sleep habits",
        tags=["health"],
        prices={"access": 300},
    ),
    product_body(
        "stream",
        title="Live heart monitor",
        tags=["health", "live"],
        prices={"subscription_per_second": 2, "subscription_min_seconds": 60},
    ),
    product_body(
        "analytics",
        title="Hospital admissions",
        description="Café Zürich study",
        tags=["hospital", "heart"],
        prices={"computation": 50},
        policy={"purposes": ["public-health"], "buyer_categories": ["public-body"]},
    ),
    product_body(
        "batch",
        title="Marketing panel",
        description="Shopping baskets",
        tags=["retail"],
        prices={"access": 10**30},
        policy={"purposes": ["marketing", "commercial"], "buyer_categories": ["company"]},
    ),
    product_body(
        "batch",
        title="Zebra crossings",
        description="city traffic",
        tags=["traffic"],
        prices={"access": 7},
    ),
]


def seed(account: Account) -> list[dict[str, Any]]:
    return [account.api.create_product(body) for body in CATALOG]


def titles(page: dict[str, Any]) -> list[str]:
    return [p["title"] for p in page["items"]]


def test_text_search_ranks_title_over_tags_over_description(alice: Account) -> None:
    seed(alice)
    page = alice.api.search_products(q="heart")
    assert titles(page) == [
        "Live heart monitor",  # title (newest of the two title hits)
        "Heart rate of runners",  # title
        "Hospital admissions",  # tag
        "Sleep diary",  # description
    ]
    assert titles(alice.api.search_products(q="hear*", sort="title")) == [
        "Heart rate of runners",
        "Hospital admissions",
        "Live heart monitor",
        "Sleep diary",
    ]
    assert titles(alice.api.search_products(q="cafe zurich")) == ["Hospital admissions"]
    assert titles(alice.api.search_products(q="heart traffic")) == []


def test_filters(alice: Account, bob: Account) -> None:
    seed(alice)
    bob.api.create_product(
        product_body("batch", title="Bob's data", tags=["misc"], prices={"access": 100})
    )
    search = alice.api.search_products
    assert titles(search(mode="stream")) == ["Live heart monitor"]
    assert set(titles(search(tag=["health"]))) == {
        "Heart rate of runners",
        "Sleep diary",
        "Live heart monitor",
    }
    assert titles(search(tag=["health", "sport"])) == ["Heart rate of runners"]
    assert set(titles(search(price_min=100, price_max=300))) == {
        "Heart rate of runners",
        "Sleep diary",
        "Bob's data",
    }
    assert titles(search(price_min=str(10**29))) == ["Marketing panel"]
    assert titles(search(purpose="marketing")) == ["Marketing panel"]
    assert titles(
        search(buyer_category="public-body", purpose="public-health", mode="analytics")
    ) == ["Hospital admissions"]
    assert titles(search(owner=bob.principal.account)) == ["Bob's data"]


def test_sorts_by_price_with_big_integers(alice: Account) -> None:
    seed(alice)
    batch = alice.api.search_products(mode="batch", sort="price_asc")
    assert [int(p["prices"]["access"]) for p in batch["items"]] == [7, 100, 300, 10**30]
    batch = alice.api.search_products(mode="batch", sort="price_desc")
    assert [int(p["prices"]["access"]) for p in batch["items"]] == [10**30, 300, 100, 7]


def test_availability_filter_hides_paused_and_retired_by_default(alice: Account) -> None:
    products = seed(alice)
    alice.api.update_product(products[0]["id"], {"availability": "paused"})
    alice.api.retire_product(products[1]["id"])
    listed = titles(alice.api.search_products(tag=["health"]))
    assert listed == ["Live heart monitor"]
    assert titles(alice.api.search_products(availability=["paused"])) == ["Heart rate of runners"]
    assert (
        len(alice.api.search_products(availability=["listed", "paused", "retired"])["items"]) == 6
    )


@pytest.mark.parametrize(
    "sort", ["newest", "oldest", "updated", "price_asc", "price_desc", "title", "relevance"]
)
def test_cursor_pagination_visits_every_product_once(alice: Account, sort: str) -> None:
    seed(alice)
    q = "h*" if sort == "relevance" else None
    expected = alice.api.search_products(q=q, sort=sort, limit=100)["items"]
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = alice.api.search_products(q=q, sort=sort, limit=2, cursor=cursor)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [p["id"] for p in seen] == [p["id"] for p in expected]
    assert len(expected) >= 4


def test_bad_search_parameters(http: TestClient, alice: Account) -> None:
    seed(alice)
    first = http.get(URL, params={"limit": 2}).json()
    cases = [
        ({"cursor": "garbage!"}, 400, "invalid_cursor"),
        ({"cursor": "eyJsIjoxfQ"}, 400, "invalid_cursor"),
        ({"cursor": first["next_cursor"], "sort": "title"}, 400, "invalid_cursor"),
        ({"cursor": first["next_cursor"], "mode": "batch"}, 400, "invalid_cursor"),
        ({"limit": 0}, 422, "validation_error"),
        ({"limit": 101}, 422, "validation_error"),
        ({"price_min": -1}, 422, "validation_error"),
        ({"price_min": "1.5"}, 422, "validation_error"),
        ({"price_min": 10, "price_max": 5}, 422, "invalid_request"),
        ({"purpose": "spying"}, 422, "validation_error"),
        ({"sort": "relevance"}, 422, "invalid_request"),
        ({"q": "!!!"}, 422, "invalid_query"),
        ({"q": "x" * 201}, 422, "validation_error"),
        ({"tag": "\x00"}, 422, "validation_error"),
        ({"owner": "a\x00"}, 422, "validation_error"),
        ({"tag": "Health"}, 422, "validation_error"),
    ]
    for params, status, code in cases:
        answer = http.get(URL, params=params)
        assert (answer.status_code, answer.json()["code"]) == (status, code), params


MORE: list[dict[str, Any]] = [
    product_body(
        "batch",
        title="Καρδιακός ρυθμός",
        description="δεδομένα heart",
        tags=["health"],
        prices={"access": 300},
    ),
    product_body(
        "batch", title="Пульс бегунов", description="данные heart rate", prices={"access": 300}
    ),
    product_body(
        "batch", title="Œuvre née à Zürich", description="Straße café", prices={"access": 300}
    ),
    product_body(
        "batch", title="heart", description="heart heart", tags=["heart"], prices={"access": 100}
    ),
]


def _run_queries(client: TestClient) -> list[list[str]]:
    queries: list[dict[str, Any]] = [
        {"q": "heart"},
        {"q": "hear*"},
        {"q": "cafe zurich"},
        {"q": "h*", "sort": "title"},
        {"tag": ["health"]},
        {"sort": "price_desc"},
        {"sort": "title"},
        {"purpose": "research"},
        {"price_min": 50, "price_max": 300, "sort": "price_asc"},
        {"q": "a*"},
        {"q": "καρδιακος"},
        {"q": "пульс"},
        {"q": "œuvre nee"},
        {"q": "strasse"},
        {"q": "d*"},
        {"sort": "updated"},
        {"sort": "oldest"},
    ]
    results = []
    for query in queries:
        titles, cursor = [], None
        while True:  # walk every page two at a time: cursors must agree too
            page = client.get(URL, params={**query, "limit": 2, "cursor": cursor}).json()
            titles += [p["title"] for p in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        results.append(titles)
    return results


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_results(postgres_url: str, tmp_path: Path) -> None:
    """The same catalog on both engines answers every query with the same list, in order."""
    sqlite, pg = make_engine(f"sqlite:///{tmp_path / 'same.db'}"), make_engine(postgres_url)
    results: list[list[list[str]]] = []
    try:
        for eng in (sqlite, pg):
            app = create_app(Settings(data_dir=tmp_path, environment="test"), engine=eng)
            seller = person(app, f"seller{len(results)}")
            seed(seller)
            for body in MORE:
                seller.api.create_product(body)
            results.append(_run_queries(TestClient(app)))
    finally:
        truncate_all(pg)
        pg.dispose()
        sqlite.dispose()
    assert results[0] == results[1]
    assert results[0][10:14] == [
        ["Καρδιακός ρυθμός"],
        ["Пульс бегунов"],
        ["Œuvre née à Zürich"],
        ["Œuvre née à Zürich"],
    ]
    assert results[0][0][0] == "heart"  # all words in title, tags and description: best
    assert any(len(r) > 1 for r in results[0])


def _cursor(listing: str, filters: str, keys: list[Any]) -> str:
    from kraken_market.pagination import encode_cursor

    return encode_cursor(listing, filters, keys)


def test_forged_cursors_are_refused_not_crashed(http: TestClient, alice: Account) -> None:
    seed(alice)
    pages = {
        sort: http.get(URL, params={"limit": 1, "sort": sort}).json()["next_cursor"]
        for sort in ("newest", "price_asc", "updated", "title")
    }
    import base64
    import json

    def forge(cursor: str, keys: list[Any]) -> str:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return _cursor(data["l"], data["f"], keys)

    forged = [
        ("newest", forge(pages["newest"], [10**20])),
        ("newest", forge(pages["newest"], [-1])),
        ("price_asc", forge(pages["price_asc"], [2**300, 1])),
        ("updated", forge(pages["updated"], ["2020-01-01T00:00:00", 1])),
        ("updated", forge(pages["updated"], ["0001-01-01T00:00:00+01:00", 1])),
        ("title", forge(pages["title"], ["a\x00", 1])),
        ("newest", base64.urlsafe_b64encode(b"[" * 1500).decode()),
    ]
    for sort, cursor in forged:
        answer = http.get(URL, params={"limit": 1, "sort": sort, "cursor": cursor})
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid_cursor"), cursor
    relevance = http.get(URL, params={"q": "heart", "limit": 1}).json()["next_cursor"]
    answer = http.get(URL, params={"q": "heart", "cursor": forge(relevance, [8, 1])})
    assert answer.status_code == 400
