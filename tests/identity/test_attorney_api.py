"""Acting for a company: an AttorneyCredential from a company identified in KCIT."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from eth_account import Account

from kraken_market.identity import binding, credentials
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.keys import DidKey
from tests.conftest import Account as Person
from tests.factories import product_body
from tests.identity.conftest import Platform
from tests.identity.test_login_api import refusal


def register(
    platform: Platform, admin: Person, company: Issuer, status: str = "identified"
) -> None:
    """Enter the company in KCIT as a platform admin."""
    body = {
        "did": company.did,
        "legal_name": "St. Olav Hospital",
        "registration_number": "974749025",
        "country": "NO",
        "status": status,
    }
    answer = platform.http.post("/api/v1/companies", json=body, headers=admin.headers)
    assert answer.status_code == 201, answer.text


def test_an_employee_acts_for_an_identified_company(platform: Platform, admin: Person) -> None:
    company = platform.company("olav")
    register(platform, admin, company)
    employee = DidKey.generate()
    held = [platform.person_credential(employee, "Eve"), platform.attorney(company, employee)]
    session = platform.login(platform.presentation(employee, held)).json()
    assert (session["did"], session["acting_as"], session["company"]) == (
        employee.did,
        company.did,
        company.did,
    )
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    product = platform.http.post("/api/v1/products", json=product_body(), headers=headers).json()
    assert product["owner"] == company.did


def test_companies_that_are_not_identified_cannot_authorise(
    platform: Platform, admin: Person
) -> None:
    employee = DidKey.generate()
    person = platform.person_credential(employee)
    unknown = platform.company("unknown")
    pending = platform.company("pending")
    register(platform, admin, pending, status="pending")
    for company in (unknown, pending):
        held = [person, platform.attorney(company, employee)]
        answer = platform.login(platform.presentation(employee, held))
        assert refusal(answer) == (403, "company_not_identified")


def test_suspending_the_company_stops_its_employees_at_once(
    platform: Platform, admin: Person
) -> None:
    company = platform.company("olav")
    register(platform, admin, company)
    employee = DidKey.generate()
    held = [platform.person_credential(employee), platform.attorney(company, employee)]
    session = platform.login(platform.presentation(employee, held)).json()
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    suspended = platform.http.post(
        f"/api/v1/companies/{company.did}/suspend", headers=admin.headers
    )
    assert suspended.status_code == 200, suspended.text
    answer = platform.http.post("/api/v1/products", json=product_body(), headers=headers)
    assert refusal(answer) == (403, "company_not_identified")


def test_a_revoked_attorney_credential_is_refused_at_the_next_request(
    platform: Platform, admin: Person
) -> None:
    company = platform.company("olav")
    register(platform, admin, company)
    employee = DidKey.generate()
    attorney = platform.attorney(company, employee)
    held = [platform.person_credential(employee), attorney]
    session = platform.login(platform.presentation(employee, held)).json()
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    checked = credentials.verify(attorney, platform.app.state.identity.resolver, datetime.now(UTC))
    company.revoke(checked.id)
    platform.publish(company)
    answer = platform.http.post("/api/v1/products", json=product_body(), headers=headers)
    assert refusal(answer) == (401, "credential_revoked")


def test_an_attorney_credential_about_someone_else_is_refused(
    platform: Platform, admin: Person
) -> None:
    company = platform.company("olav")
    register(platform, admin, company)
    employee, other = DidKey.generate(), DidKey.generate()
    held = [platform.person_credential(other), platform.attorney(company, employee)]
    assert refusal(platform.login(platform.presentation(other, held))) == (401, "holder_mismatch")


def test_several_companies_need_act_for(platform: Platform, admin: Person) -> None:
    first, second = platform.company("a"), platform.company("b")
    register(platform, admin, first)
    register(platform, admin, second)
    employee = DidKey.generate()
    held = [
        platform.person_credential(employee),
        platform.attorney(first, employee),
        platform.attorney(second, employee),
    ]
    assert refusal(platform.login(platform.presentation(employee, held))) == (
        401,
        "credential_missing",
    )
    chosen = platform.login(platform.presentation(employee, held), act_for=second.did)
    assert chosen.json()["acting_as"] == second.did


def test_status_lists_belong_to_their_issuer(platform: Platform) -> None:
    company = platform.company("olav")
    url = company.status_list_url(platform.base).removeprefix(platform.base)
    served = platform.http.get(url)
    assert served.headers["content-type"].startswith("application/vc+jwt")
    mallory = Issuer.open(platform.tmp_path / "mallory")
    hijack = mallory.status_list_credential(platform.base)
    # mallory's list names mallory's URL; PUT it at the company's id:
    answer = platform.http.put(url, json={"credential": hijack})
    assert answer.status_code in (403, 422)
    # Clearing a revocation is refused: revoke, publish, then replay the older list.
    older = company.status_list_credential(platform.base)
    token = platform.attorney(company, DidKey.generate())
    company.revoke(
        credentials.verify(token, platform.app.state.identity.resolver, datetime.now(UTC)).id
    )
    platform.publish(company)
    assert refusal(platform.http.put(url, json={"credential": older})) == (409, "conflict")
    assert platform.http.get("/api/v1/status-lists/0000000000000000-none").status_code == 404


def test_unvouched_issuers_share_a_bounded_room_in_the_registry(
    platform: Platform, admin: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kraken_market.identity import registry

    platform.company("first")  # the registry now hosts the demo issuer's list and this one
    monkeypatch.setattr(registry, "MAX_UNVOUCHED_LISTS", 2)
    stranger = Issuer.open(platform.tmp_path / "stranger")
    url = stranger.status_list_url(platform.base).removeprefix(platform.base)
    body = {"credential": stranger.status_list_credential(platform.base)}
    assert refusal(platform.http.put(url, json=body)) == (409, "registry_full")
    register(platform, admin, stranger)  # an identified company is never refused
    assert platform.http.put(url, json=body).status_code == 200


def test_a_did_is_bound_to_a_ledger_account_by_both_keys(platform: Platform, alice: Person) -> None:
    account = Account.create()
    made = binding.bind(alice.key, account, audience=platform.base, now=datetime.now(UTC))
    body = {"binding": made.jws, "account_signature": made.account_signature}
    answer = platform.http.post("/api/v1/identity/bindings", json=body, headers=alice.headers)
    assert answer.status_code == 201, answer.text
    assert (
        platform.http.get(f"/api/v1/identity/bindings/{alice.key.did}").json()["account"]
        == account.address
    )
    me = platform.http.get("/api/v1/auth/me", headers=alice.headers).json()
    assert (me["account"], me["acting_as"]) == (account.address, alice.key.did)  # 0x, not DID
    other = Account.create().sign_message(
        __import__("eth_account.messages", fromlist=["encode_defunct"]).encode_defunct(
            text=made.jws
        )
    )
    forged = {"binding": made.jws, "account_signature": "0x" + bytes(other.signature).hex()}
    assert refusal(
        platform.http.post("/api/v1/identity/bindings", json=forged, headers=alice.headers)
    ) == (
        401,
        "invalid_signature",
    )
    bobs = binding.bind(DidKey.generate(), account, audience=platform.base, now=datetime.now(UTC))
    foreign = {"binding": bobs.jws, "account_signature": bobs.account_signature}
    assert refusal(
        platform.http.post("/api/v1/identity/bindings", json=foreign, headers=alice.headers)
    ) == (
        401,
        "holder_mismatch",
    )


def test_an_attorney_acts_only_within_its_scope(platform: Platform, admin: Person) -> None:
    company = platform.company("olav")
    register(platform, admin, company)
    buyer = DidKey.generate()
    held = [platform.person_credential(buyer), platform.attorney(company, buyer, ["buy"])]
    session = platform.login(platform.presentation(buyer, held)).json()
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    me = platform.http.get("/api/v1/auth/me", headers=headers).json()
    assert (me["did"], me["acting_as"], me["company"]) == (buyer.did, company.did, company.did)
    assert me["scope"] == ["buy"]
    answer = platform.http.post("/api/v1/products", json=product_body(), headers=headers)
    assert refusal(answer) == (403, "scope_required")
    assert platform.http.get("/api/v1/products").json()["items"] == []
    seller = DidKey.generate()  # a colleague who may publish lists a product
    held = [platform.person_credential(seller), platform.attorney(company, seller)]
    publishing = platform.login(platform.presentation(seller, held)).json()
    product = platform.http.post(
        "/api/v1/products",
        json=product_body(),
        headers={"Authorization": f"Bearer {publishing['session_token']}"},
    ).json()
    for read in ("claims", "insight"):  # seller-side reads need the seller's scope too
        answer = platform.http.get(f"/api/v1/products/{product['id']}/{read}", headers=headers)
        assert refusal(answer) == (403, "scope_required"), read


def test_an_expired_attorney_credential_ends_the_session(platform: Platform, admin: Person) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from kraken_market.identity.models import AuthSession

    company = platform.company("olav")
    register(platform, admin, company)
    employee = DidKey.generate()
    held = [platform.person_credential(employee), platform.attorney(company, employee)]
    session = platform.login(platform.presentation(employee, held)).json()
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    # Time passes: the attorney credential's validUntil is behind us (the session and
    # refresh token would still live).
    with platform.app.state.sessions() as db:
        row = db.scalars(select(AuthSession).where(AuthSession.did == employee.did)).one()
        records = [dict(r) for r in row.credentials]
        for record in records:
            if record["type"] == "AttorneyCredential":
                record["valid_until"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        row.credentials = records
        db.commit()
    answer = platform.http.post("/api/v1/products", json=product_body(), headers=headers)
    assert refusal(answer) == (401, "credential_expired")
    refreshed = platform.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refusal(refreshed) == (401, "session_ended")
    assert refreshed.json()["details"] == {"reason": "credential_expired"}


def test_rights_need_a_revocable_credential(platform: Platform, admin: Person) -> None:
    company = platform.company("olav")
    register(platform, admin, company)
    employee = DidKey.generate()
    unrevocable = credentials.issue(
        company.key,
        CredentialType.ATTORNEY,
        {"id": employee.did, "company": {"id": company.did}, "scope": ["publish"]},
        valid_from=datetime.now(UTC),
    )
    held = [platform.person_credential(employee), unrevocable]
    answer = platform.login(platform.presentation(employee, held))
    assert refusal(answer) == (401, "credential_invalid")
    role = credentials.issue(
        platform.issuer.key,
        CredentialType.PLATFORM_ROLE,
        {"id": employee.did, "role": "admin"},
        valid_from=datetime.now(UTC),
    )
    held = [platform.person_credential(employee), role]
    assert refusal(platform.login(platform.presentation(employee, held))) == (
        401,
        "credential_invalid",
    )


def test_a_revoked_person_cannot_bind_an_account(platform: Platform, alice: Person) -> None:
    resolver = platform.app.state.identity.resolver
    person = credentials.verify(alice.credentials[0], resolver, datetime.now(UTC))
    platform.issuer.revoke(person.id)
    platform.publish(platform.issuer)
    made = binding.bind(alice.key, Account.create(), audience=platform.base, now=datetime.now(UTC))
    body = {"binding": made.jws, "account_signature": made.account_signature}
    answer = platform.http.post("/api/v1/identity/bindings", json=body, headers=alice.headers)
    assert refusal(answer) == (401, "credential_revoked")


def test_a_company_publishes_from_its_own_account_never_an_employees(
    platform: Platform, admin: Person
) -> None:
    company = platform.company("olav")
    register(platform, admin, company, status="pending")
    account = Account.create()
    path = f"/api/v1/companies/{company.did}/account"

    def signed(key: DidKey, **extra: Any) -> dict[str, str]:
        made = binding.bind(key, account, audience=platform.base, now=datetime.now(UTC), **extra)
        return {"binding": made.jws, "account_signature": made.account_signature}

    desk = "https://depute.olav.example"
    assert refusal(platform.http.put(path, json=signed(company.key, service=desk))) == (
        409,
        "company_status_conflict",
    )  # pending: not yet
    platform.http.post(f"/api/v1/companies/{company.did}/approve", headers=admin.headers)
    employee = DidKey.generate()
    assert refusal(platform.http.put(path, json=signed(employee))) == (401, "holder_mismatch")
    bound = platform.http.put(path, json=signed(company.key, service=desk))
    assert bound.status_code == 200, bound.text
    read = platform.http.get(f"/api/v1/companies/{company.did}").json()  # public
    assert (read["account"], read["depute_url"]) == (account.address, desk)
    audit = platform.http.get(f"/api/v1/companies/{company.did}/audit", headers=admin.headers)
    assert audit.json()[-1]["action"] == "account"

    held = [platform.person_credential(employee, "Eve"), platform.attorney(company, employee)]
    session = platform.login(platform.presentation(employee, held)).json()
    headers = {"Authorization": f"Bearer {session['session_token']}"}
    own = binding.bind(employee, Account.create(), audience=platform.base, now=datetime.now(UTC))
    body = {"binding": own.jws, "account_signature": own.account_signature}
    assert platform.http.post("/api/v1/identity/bindings", json=body, headers=headers).is_success
    product = platform.http.post("/api/v1/products", json=product_body(), headers=headers).json()
    answer = platform.http.post(f"/api/v1/products/{product['id']}/publisher", headers=headers)
    assert refusal(answer) == (409, "company_account_required")
