"""Refused requests: each bad input and each unauthorised write has its own code and
changes nothing (neither the register nor its audit log)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.companies.conftest import LEI, OTHER_LEI, Person, company_body, db_state, new_did

URL = "/api/v1/companies"


@pytest.fixture
def existing(admin: Person, rep: Person) -> dict[str, Any]:
    """One identified company (LEI ``LEI``) and one pending, to collide with."""
    admin.api.create_company(company_body(lei=OTHER_LEI, status="pending"))
    return admin.api.create_company(company_body(representative_did=rep.did))


def refused(engine: Engine, call: Callable[[], Any], status: int, code: str) -> dict[str, Any]:
    before = db_state(engine)
    answer = call()
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.json()
    assert db_state(engine) == before
    body: dict[str, Any] = answer.json()
    return body


CREATE_CASES = [
    ({"lei": "529900T8BM49AURSDO56"}, "invalid_lei"),  # wrong check digits
    ({"lei": "529900T8BM49AURSDO5"}, "invalid_lei"),  # 19 characters
    ({"lei": "529900t8bm49aursdo55"}, "invalid_lei"),  # lowercase is not an LEI
    ({"lei": "529900T8BM49AURSD-55"}, "invalid_lei"),
    ({"country": "XX"}, "invalid_country"),
    ({"country": "it"}, "invalid_country"),
    ({"country": "ITA"}, "invalid_country"),
    ({"country": ""}, "invalid_country"),
    ({"did": "acme-corp"}, "invalid_did"),
    ({"did": "did:key:"}, "invalid_did"),
    ({"representative_did": "mailto:ceo@acme.example"}, "invalid_did"),
    ({"lei": ..., "registration_number": ...}, "company_identifier_required"),
    ({"lei": None, "registration_number": None}, "company_identifier_required"),
    ({"legal_name": ""}, "validation_error"),
    ({"legal_name": " padded "}, "validation_error"),
    ({"legal_name": "A\x00B"}, "validation_error"),
    ({"status": "approved"}, "validation_error"),
    ({"level_of_assurance": "high"}, "validation_error"),
    ({"website": "https://acme.example"}, "validation_error"),
]


@pytest.mark.parametrize(("change", "code"), CREATE_CASES)
def test_bad_company_entries_change_nothing(
    http: TestClient, engine: Engine, admin: Person, existing: Any, change: Any, code: str
) -> None:
    body = company_body(**{"lei": ..., **change})
    refused(engine, lambda: http.post(URL, json=body, headers=admin.headers), 422, code)


def test_the_lei_check_digits_are_explained(
    http: TestClient, engine: Engine, admin: Person
) -> None:
    body = company_body(lei="529900T8BM49AURSDO56")
    answer = refused(
        engine, lambda: http.post(URL, json=body, headers=admin.headers), 422, "invalid_lei"
    )
    assert "55" in answer["message"] and "MOD 97-10" in answer["message"]
    body = company_body(country="DEU")
    answer = refused(
        engine, lambda: http.post(URL, json=body, headers=admin.headers), 422, "invalid_country"
    )
    assert "DE" in answer["message"]


def test_a_did_or_lei_is_registered_once(
    http: TestClient, engine: Engine, admin: Person, existing: dict[str, Any]
) -> None:
    same_did = company_body(existing["did"], lei=...)
    refused(
        engine, lambda: http.post(URL, json=same_did, headers=admin.headers), 409, "company_exists"
    )
    same_lei = company_body(lei=LEI)
    refused(
        engine, lambda: http.post(URL, json=same_lei, headers=admin.headers), 409, "company_exists"
    )


UPDATE_CASES = [
    ({"lei": "529900T8BM49AURSDO56"}, 422, "invalid_lei"),
    ({"country": "EU"}, 422, "invalid_country"),
    ({"representative_did": "did:"}, 422, "invalid_did"),
    ({"lei": None, "registration_number": None}, 422, "company_identifier_required"),
    ({"legal_name": None}, 422, "validation_error"),
    ({"did": "did:web:elsewhere.example"}, 422, "validation_error"),
    ({"status": "identified"}, 422, "validation_error"),
    ({"lei": OTHER_LEI}, 409, "company_exists"),
]


@pytest.mark.parametrize(("change", "status", "code"), UPDATE_CASES)
def test_bad_updates_change_nothing(
    http: TestClient,
    engine: Engine,
    admin: Person,
    existing: dict[str, Any],
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    path = f"{URL}/{existing['did']}"
    refused(engine, lambda: http.patch(path, json=change, headers=admin.headers), status, code)


ADMIN_ONLY = [
    ("PATCH", "", {"country": "FR"}),
    ("POST", "/suspend", None),
    ("POST", "/approve", None),
    ("DELETE", "", None),
    ("GET", "/audit", None),
]


@pytest.mark.parametrize("who", ["rep", "other"])
@pytest.mark.parametrize(("method", "suffix", "body"), ADMIN_ONLY)
def test_non_admins_cannot_write(
    request: pytest.FixtureRequest,
    http: TestClient,
    engine: Engine,
    existing: dict[str, Any],
    who: str,
    method: str,
    suffix: str,
    body: Any,
) -> None:
    person: Person = request.getfixturevalue(who)  # the representative is no admin either
    for did in (existing["did"], new_did()):  # known or not: the role is checked first
        url = f"{URL}/{did}{suffix}"

        def call(url: str = url) -> Any:
            return http.request(method, url, json=body, headers=person.headers)

        refused(engine, call, 403, "admin_required")


def test_anonymous_writes_need_a_session(
    http: TestClient, engine: Engine, existing: dict[str, Any]
) -> None:
    path = f"{URL}/{existing['did']}"
    refused(engine, lambda: http.post(URL, json=company_body(lei=...)), 401, "unauthenticated")
    refused(engine, lambda: http.patch(path, json={"country": "FR"}), 401, "unauthenticated")
    refused(engine, lambda: http.post(f"{path}/approve"), 401, "unauthenticated")
    refused(engine, lambda: http.delete(path), 401, "unauthenticated")
    refused(engine, lambda: http.get(f"{path}/audit"), 401, "unauthenticated")


def test_self_registration_is_for_ones_own_company_and_stays_pending(
    http: TestClient, engine: Engine, rep: Person, other: Person
) -> None:
    for_someone_else = company_body(lei=..., representative_did=other.did)
    answer = refused(
        engine,
        lambda: http.post(URL, json=for_someone_else, headers=rep.headers),
        403,
        "not_representative",
    )
    assert answer["details"]["your_did"] == rep.did
    self_approved = company_body(lei=..., status="identified")
    refused(
        engine,
        lambda: http.post(URL, json=self_approved, headers=rep.headers),
        403,
        "admin_required",
    )
    explicit = company_body(lei=..., representative_did=rep.did, status="pending")
    assert http.post(URL, json=explicit, headers=rep.headers).json()["status"] == "pending"


def test_admin_only_lookups_refuse_others(http: TestClient, engine: Engine, rep: Person) -> None:
    refused(engine, lambda: http.get(URL, params={"status": "pending"}), 403, "admin_required")
    refused(
        engine,
        lambda: http.get(URL, params={"status": "suspended"}, headers=rep.headers),
        403,
        "admin_required",
    )
    missing = f"{URL}/{new_did()}"
    refused(engine, lambda: http.get(f"{missing}/audit"), 401, "unauthenticated")
