"""Listing the register: public identified companies, admin filters, keyset pagination."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kraken_market.client import ApiError, MarketClient
from tests.companies.conftest import Person, company_body

URL = "/api/v1/companies"


def all_pages(api: MarketClient, **params: object) -> list[str]:
    dids: list[str] = []
    cursor = None
    while True:
        page = api.companies(limit=2, cursor=cursor, **params)
        assert len(page["items"]) <= 2
        dids += [c["did"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return dids


def test_pages_list_identified_companies_newest_first(
    admin: Person, rep: Person, anyone: MarketClient
) -> None:
    identified = [
        admin.api.create_company(company_body(lei=..., representative_did=rep.did))["did"]
        for _ in range(5)
    ]
    pending = [rep.api.create_company(company_body(lei=...))["did"] for _ in range(2)]
    suspended = admin.api.create_company(company_body(lei=..., status="suspended"))["did"]

    assert all_pages(anyone) == identified[::-1]
    first = anyone.companies(limit=2)
    assert [c["representative_did"] for c in first["items"]] == [None, None]
    assert [c["representative_did"] for c in admin.api.companies(limit=2)["items"]] == [
        rep.did,
        rep.did,
    ]

    # Order is by entry, not by last change: an approved registration takes its place.
    admin.api.approve_company(pending[0])
    assert all_pages(anyone) == [pending[0], *identified[::-1]]
    assert all_pages(admin.api, status=["pending"]) == [pending[1]]
    assert all_pages(admin.api, status=["suspended", "pending"]) == [suspended, pending[1]]
    everyone = all_pages(admin.api, status=["identified", "pending", "suspended"])
    assert sorted(everyone) == sorted([*identified, *pending, suspended])


def test_cursors_belong_to_their_filters(http: TestClient, admin: Person) -> None:
    for _ in range(3):
        admin.api.create_company(company_body(lei=...))
    cursor = admin.api.companies(limit=1)["next_cursor"]
    assert cursor is not None
    other = http.get(URL, params={"cursor": cursor, "status": "pending"}, headers=admin.headers)
    assert (other.status_code, other.json()["code"]) == (400, "invalid_cursor")
    garbage = http.get(URL, params={"cursor": "bm90IGEgY3Vyc29y"})
    assert (garbage.status_code, garbage.json()["code"]) == (400, "invalid_cursor")
    from_products = "eyJsIjoicHJvZHVjdHMiLCJmIjoieCIsImsiOlsxXX0"
    assert http.get(URL, params={"cursor": from_products}).status_code == 400


def test_limits_are_checked(http: TestClient, anyone: MarketClient) -> None:
    for limit in (0, 101):
        answer = http.get(URL, params={"limit": limit})
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_error")
    with pytest.raises(ApiError) as unknown_status:
        anyone.companies(status=["approved"])
    assert unknown_status.value.api_code == "validation_error"
