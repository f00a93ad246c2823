"""KCIT over HTTP: self-registration, approval, suspension, visibility, admin-only writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kraken_market.client import ApiError, MarketClient
from kraken_market.companies import questions
from kraken_market.identity.keys import DidKey
from tests.companies.conftest import (
    LEI,
    FakeAuthenticator,
    Person,
    company_body,
    new_did,
)

URL = "/api/v1/companies"


def code_of(exc: pytest.ExceptionInfo[ApiError]) -> tuple[int, str]:
    return exc.value.status_code, exc.value.api_code


def test_self_registration_is_pending_until_an_admin_approves(
    http: TestClient, admin: Person, rep: Person, other: Person, anyone: MarketClient
) -> None:
    registered = rep.api.create_company(company_body())
    did = registered["did"]
    assert registered["status"] == "pending"
    assert registered["representative_did"] == rep.did  # the default: the caller
    assert registered["level_of_assurance"] == "self-registration"
    assert registered["version"] == 1

    # Pending: the representative and admins see it; nobody else learns of it here.
    assert rep.api.company(did) == registered
    assert admin.api.company(did)["status"] == "pending"
    for reader in (anyone, other.api):
        with pytest.raises(ApiError) as refused:
            reader.company(did)
        assert code_of(refused) == (404, "company_not_found")
    assert anyone.companies()["items"] == []
    assert anyone.company_identified(did) == {
        "did": did,
        "identified": False,
        "status": "pending",
        "representative": None,
    }

    approved = admin.api.approve_company(did, reason="register extract checked")
    assert (approved["status"], approved["version"]) == ("identified", 2)
    assert approved["updated_at"] >= registered["updated_at"]

    public = anyone.company(did)
    assert public["status"] == "identified"
    assert public["representative_did"] is None  # a person's DID is not published
    assert other.api.company(did)["representative_did"] is None
    assert rep.api.company(did)["representative_did"] == rep.did
    assert [c["did"] for c in anyone.companies()["items"]] == [did]
    assert anyone.company_identified(did) == {
        "did": did,
        "identified": True,
        "status": "identified",
        "representative": None,
    }
    # Who represents it is told to that person alone (and to the company, signed).
    asked = http.get(f"{URL}/{did}/identified", params={"representative": rep.did})
    assert (asked.status_code, asked.json()["code"]) == (403, "representative_private")
    nosy = http.get(
        f"{URL}/{did}/identified", params={"representative": rep.did}, headers=other.headers
    )
    assert (nosy.status_code, nosy.json()["code"]) == (403, "representative_private")
    own = http.get(
        f"{URL}/{did}/identified", params={"representative": rep.did}, headers=rep.headers
    )
    assert own.json()["representative"] is True
    mine = http.get(
        f"{URL}/{did}/identified", params={"representative": other.did}, headers=other.headers
    )
    assert mine.json()["representative"] is False


def test_only_the_company_asks_who_represents_it(
    admin: Person, rep: Person, http: TestClient, app: FastAPI
) -> None:
    company, stranger = DidKey.generate(), DidKey.generate()
    admin.api.create_company(company_body(company.did, representative_did=rep.did))
    base = app.state.identity.base_url
    url = f"{URL}/{company.did}/representative"

    def ask(key: DidKey, about: str, **changes: Any) -> Any:
        fields: dict[str, Any] = {"audience": base, "now": datetime.now(UTC), **changes}
        return http.post(url, json={"question": questions.ask(key, about, **fields)})

    answer = ask(company, rep.did)
    assert answer.json()["representative"] is True
    assert ask(company, admin.principal.did).json()["representative"] is False
    for refused, expected in (
        (ask(stranger, rep.did), (401, "holder_mismatch")),
        (ask(company, rep.did, audience="https://elsewhere.example"), (401, "wrong_audience")),
        (
            ask(company, rep.did, now=datetime.now(UTC) - timedelta(hours=1)),
            (401, "presentation_expired"),
        ),
    ):
        assert (refused.status_code, refused.json()["code"]) == expected


def test_suspension_hides_the_company_until_approved_again(
    admin: Person, rep: Person, anyone: MarketClient
) -> None:
    company = admin.api.create_company(company_body(representative_did=rep.did))
    did = company["did"]
    assert company["status"] == "identified"  # an admin's entry is identified by default

    suspended = admin.api.suspend_company(did, reason="register shows liquidation")
    assert (suspended["status"], suspended["version"]) == ("suspended", 2)
    with pytest.raises(ApiError) as hidden:
        anyone.company(did)
    assert code_of(hidden) == (404, "company_not_found")
    assert rep.api.company(did)["status"] == "suspended"
    assert anyone.company_identified(did)["status"] == "suspended"
    assert anyone.companies()["items"] == []

    again = admin.api.approve_company(did)
    assert (again["status"], again["version"]) == ("identified", 3)
    assert anyone.company(did)["status"] == "identified"


@pytest.mark.parametrize(
    ("start", "action"),
    [("identified", "approve"), ("pending", "suspend"), ("suspended", "suspend")],
)
def test_status_transitions_not_allowed_are_conflicts(
    admin: Person, start: str, action: str
) -> None:
    did = admin.api.create_company(company_body(status=start))["did"]
    audit = admin.api.company_audit(did)
    with pytest.raises(ApiError) as refused:
        getattr(admin.api, f"{action}_company")(did)
    assert code_of(refused) == (409, "company_status_conflict")
    assert refused.value.details["status"] == start
    assert admin.api.company(did)["status"] == start
    assert admin.api.company(did)["version"] == 1
    assert admin.api.company_audit(did) == audit


def test_admins_enter_companies_with_any_status(admin: Person, rep: Person) -> None:
    for status in ("pending", "identified", "suspended"):
        body = company_body(status=status, lei=..., representative_did=rep.did)
        created = admin.api.create_company(body)
        assert created["status"] == status
        assert admin.api.company_audit(created["did"])[0]["action"] == "created"


def test_update_changes_only_the_fields_given(admin: Person, anyone: MarketClient) -> None:
    did = admin.api.create_company(company_body())["did"]
    updated = admin.api.update_company(
        did, {"legal_name": "OSR S.p.A.", "registration_number": None}
    )
    assert updated["legal_name"] == "OSR S.p.A."
    assert updated["registration_number"] is None
    assert (updated["lei"], updated["country"], updated["version"]) == (LEI, "IT", 2)
    assert anyone.company(did)["legal_name"] == "OSR S.p.A."

    same = admin.api.update_company(did, {"legal_name": "OSR S.p.A.", "country": "IT"})
    assert same["version"] == 2  # nothing changed: no new version, no audit entry
    assert [e["action"] for e in admin.api.company_audit(did)] == ["created", "updated"]

    representative = new_did()
    moved = admin.api.update_company(did, {"representative_did": representative})
    assert moved["representative_did"] == representative


def test_delete_removes_the_entry_and_keeps_its_audit(admin: Person, anyone: MarketClient) -> None:
    did = admin.api.create_company(company_body())["did"]
    admin.api.delete_company(did, reason="merged into its parent")
    for reader in (anyone, admin.api):
        with pytest.raises(ApiError) as gone:
            reader.company(did)
        assert code_of(gone) == (404, "company_not_found")
    assert anyone.company_identified(did) == {
        "did": did,
        "identified": False,
        "status": None,
        "representative": None,
    }
    audit = admin.api.company_audit(did)
    assert [e["action"] for e in audit] == ["created", "deleted"]
    assert audit[-1]["reason"] == "merged into its parent"
    with pytest.raises(ApiError) as twice:
        admin.api.delete_company(did)
    assert code_of(twice) == (404, "company_not_found")

    # The DID and LEI are free again; the audit continues where it stopped.
    admin.api.create_company(company_body(did))
    assert [e["action"] for e in admin.api.company_audit(did)] == ["created", "deleted", "created"]


def test_audit_records_who_changed_what_and_when(admin: Person, rep: Person) -> None:
    did = rep.api.create_company(company_body(registration_number=...))["did"]
    admin.api.approve_company(did, reason="LEI record checked at GLEIF")
    admin.api.update_company(did, {"registration_number": "MI-7654321"})
    admin.api.suspend_company(did)
    admin.api.delete_company(did)

    audit = admin.api.company_audit(did)
    assert [(e["action"], e["actor"], e["version"]) for e in audit] == [
        ("registered", rep.did, 1),
        ("approved", admin.did, 2),
        ("updated", admin.did, 3),
        ("suspended", admin.did, 4),
        ("deleted", admin.did, 4),
    ]
    assert all(e["did"] == did for e in audit)
    assert [e["at"] for e in audit] == sorted(e["at"] for e in audit)
    assert audit[0]["changes"] == {
        "legal_name": {"from": None, "to": "Ospedale San Raffaele S.r.l."},
        "lei": {"from": None, "to": LEI},
        "country": {"from": None, "to": "IT"},
        "representative_did": {"from": None, "to": rep.did},
        "status": {"from": None, "to": "pending"},
        "level_of_assurance": {"from": None, "to": "self-registration"},
    }
    assert audit[1]["changes"] == {"status": {"from": "pending", "to": "identified"}}
    assert audit[1]["reason"] == "LEI record checked at GLEIF"
    assert audit[2]["changes"] == {"registration_number": {"from": None, "to": "MI-7654321"}}
    assert audit[3]["changes"] == {"status": {"from": "identified", "to": "suspended"}}
    assert audit[4]["changes"]["status"] == {"from": "suspended", "to": None}
    assert audit[4]["changes"]["registration_number"] == {"from": "MI-7654321", "to": None}


def test_a_token_sent_to_a_public_route_must_be_valid(http: TestClient, admin: Person) -> None:
    did = admin.api.create_company(company_body())["did"]
    bad = {"Authorization": "Bearer not-a-session"}
    for path in (URL, f"{URL}/{did}"):
        answer = http.get(path, headers=bad)
        assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated")
        assert http.get(path).status_code == 200


def test_a_revoked_admin_credential_stops_writes_at_once(
    admin: Person, authenticator: FakeAuthenticator
) -> None:
    did = admin.api.create_company(company_body(status="pending"))["did"]
    authenticator.revoked.add(admin.did)
    with pytest.raises(ApiError) as refused:
        admin.api.approve_company(did)
    assert code_of(refused)[0] == 401
    authenticator.revoked.clear()
    assert admin.api.company(did)["status"] == "pending"


def test_dids_with_colons_route_as_one_path_segment(http: TestClient, admin: Person) -> None:
    did = new_did()
    assert did.startswith("did:key:z6Mk") and did.count(":") == 2
    admin.api.create_company(company_body(did))
    assert http.get(f"{URL}/{did}").json()["did"] == did
    assert http.get(f"{URL}/{did}/identified").json()["identified"] is True
    answer = http.get(f"{URL}/not-a-did")
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_did")
    unknown = http.get(f"{URL}/{new_did()}")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "company_not_found")


def test_did_web_with_a_port_over_a_real_server(served: str, admin: Person) -> None:
    # did:web encodes a port as %3A; the SDK sends '%' as %25 so the DID arrives intact.
    # (Starlette's TestClient decodes paths twice, hence a real server here.)
    did = "did:web:company.example%3A8443:kraken"
    with MarketClient.connect(served, admin.token) as api:
        created = api.create_company(company_body(did))
        assert created["did"] == did
        assert api.company(did)["did"] == did
        assert api.company_identified(did)["identified"] is True
        assert [e["did"] for e in api.company_audit(did)] == [did]
