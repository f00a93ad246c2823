"""Bad input to the Depute tool: each refusal has its own code and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest

from kraken_market.client import ApiError
from kraken_market.depute import client
from kraken_market.identity import presentations
from kraken_market.identity.errors import WrongAudience
from kraken_market.identity.keys import DidKey
from tests import served
from tests.crash_bodies import assert_no_body_crashes
from tests.depute.conftest import Rig, refusal
from tests.factories import product_body


def login_refusal(rig: Rig, person_key: DidKey, tokens: list[str]) -> tuple[int, str]:
    with pytest.raises(ApiError) as refused:
        client.login(rig.url, person_key, tokens)
    return refused.value.status_code, refused.value.api_code


def test_only_the_representative_of_an_identified_company_logs_in(rig: Rig) -> None:
    rita, mallory = rig.person("Rita"), rig.person("Mallory")
    # unknown to KCIT
    assert login_refusal(rig, rita.key, [rita.credential]) == (403, "company_not_identified")
    rig.register(rita.did, status="pending")
    assert login_refusal(rig, rita.key, [rita.credential]) == (403, "company_not_identified")
    rig.admin_post(f"/api/v1/companies/{rig.company}/approve")
    assert login_refusal(rig, mallory.key, [mallory.credential]) == (403, "not_representative")
    rig.login(rita)  # the representative of the identified company
    rig.admin_post(f"/api/v1/companies/{rig.company}/suspend")
    assert login_refusal(rig, rita.key, [rita.credential]) == (403, "company_not_identified")


def test_a_suspended_company_issues_nothing(rig: Rig) -> None:
    _, headers = rig.representative()
    created = rig.post("/api/invitations", {"scope": ["buy"]}, headers).json()
    rig.admin_post(f"/api/v1/companies/{rig.company}/suspend")
    bob = rig.person("Bob")
    body = {"employee_did": bob.did, "scope": ["publish"]}
    assert refusal(rig.post("/api/authorisations", body, headers)) == (
        403,
        "company_not_identified",
    )
    with pytest.raises(ApiError) as refused:
        client.accept_invitation(created["url"], bob.key, bob.credential)
    assert refused.value.api_code == "company_not_identified"
    # the refusal did not burn the invitation
    rig.admin_post(f"/api/v1/companies/{rig.company}/approve")
    assert client.accept_invitation(created["url"], bob.key, bob.credential)


def test_login_presentations_are_bound_to_their_nonce_and_audience(rig: Rig) -> None:
    rita = rig.person("Rita")
    rig.register(rita.did)
    challenge = rig.http.post("/api/auth/challenge").json()
    assert challenge["audience"] == rig.url  # this tool only: nothing to relay anywhere
    signed = client.present(
        rita.key, [rita.credential], audience=challenge["audience"], nonce=challenge["nonce"]
    )
    assert rig.post("/api/auth/login", {"presentation": signed}, {}).status_code == 200
    # A presentation made for the Depute tool opens no marketplace session...
    market = rig.app.state.identity.base_url
    theirs = served.post(f"{market}/api/v1/auth/challenge").json()
    for audience in (rig.url, [rig.url, market]):  # ...nor does one naming both
        relayed = presentations.present(
            rita.key,
            [rita.credential],
            audience=audience,  # type: ignore[arg-type]
            nonce=theirs["nonce"],
        )
        answer = served.post(f"{market}/api/v1/auth/login", json={"presentation": relayed})
        assert refusal(answer) == (401, "wrong_audience")
    assert refusal(rig.post("/api/auth/login", {"presentation": signed}, {})) == (
        401,
        "nonce_reused",
    )
    fresh = rig.http.post("/api/auth/challenge").json()
    elsewhere = presentations.present(
        rita.key, [rita.credential], audience="https://other.example", nonce=fresh["nonce"]
    )
    assert refusal(rig.post("/api/auth/login", {"presentation": elsewhere}, {})) == (
        401,
        "wrong_audience",
    )
    made_up = client.present(rita.key, [rita.credential], audience=rig.url, nonce="made-up")
    assert refusal(rig.post("/api/auth/login", {"presentation": made_up}, {})) == (
        401,
        "nonce_unknown",
    )


def test_an_invitation_works_once(rig: Rig) -> None:
    _, headers = rig.representative()
    link = rig.post("/api/invitations", {"scope": ["publish"]}, headers).json()["url"]
    eve, bob = rig.person("Eve"), rig.person("Bob")
    assert client.accept_invitation(link, eve.key, eve.credential)
    for person in (bob, eve):
        with pytest.raises(ApiError) as refused:
            client.accept_invitation(link, person.key, person.credential)
        assert (refused.value.status_code, refused.value.api_code) == (409, "invitation_used")
    listed = rig.http.get("/api/authorisations", headers=headers).json()
    assert [a["employee_did"] for a in listed] == [eve.did]


def test_an_expired_invitation_is_refused(rig: Rig) -> None:
    _, headers = rig.representative()
    body = {"scope": ["publish"], "expires_in_hours": 1}
    link = rig.post("/api/invitations", body, headers).json()["url"]
    rig.clock.offset = timedelta(hours=1, seconds=1)
    eve = rig.person("Eve")
    with pytest.raises(ApiError) as refused:
        client.accept_invitation(link, eve.key, eve.credential)
    assert (refused.value.status_code, refused.value.api_code) == (410, "invitation_expired")


def test_an_invitation_needs_the_presenters_own_credential(rig: Rig) -> None:
    _, headers = rig.representative()
    link = rig.post("/api/invitations", {"scope": ["publish"]}, headers).json()["url"]
    eve, mallory = rig.person("Eve"), rig.person("Mallory")
    # Mallory presents Eve's PersonCredential, signed with her own key
    with pytest.raises(ApiError) as refused:
        client.accept_invitation(link, mallory.key, eve.credential)
    assert (refused.value.status_code, refused.value.api_code) == (401, "holder_mismatch")
    # a presentation for another nonce is refused too
    secret = link.rsplit("/", 1)[1]
    wrong = client.present(eve.key, [eve.credential], audience=rig.url, nonce="x" * 32)
    answer = rig.post(f"/api/invitations/{secret}/accept", {"presentation": wrong}, {})
    assert refusal(answer) == (401, "nonce_unknown")
    # neither attempt used the invitation up
    assert client.accept_invitation(link, eve.key, eve.credential)


def test_an_invitation_for_one_did_is_refused_to_others(rig: Rig) -> None:
    _, headers = rig.representative()
    eve, bob = rig.person("Eve"), rig.person("Bob")
    body = {"scope": ["publish"], "employee_did": eve.did}
    link = rig.post("/api/invitations", body, headers).json()["url"]
    with pytest.raises(ApiError) as refused:
        client.accept_invitation(link, bob.key, bob.credential)
    assert (refused.value.status_code, refused.value.api_code) == (403, "invitation_not_for_you")
    assert client.accept_invitation(link, eve.key, eve.credential)


def test_unknown_things_and_bad_input(rig: Rig) -> None:
    _, headers = rig.representative()
    unknown = "urn:uuid:00000000-0000-4000-8000-000000000000"
    assert refusal(rig.post(f"/api/authorisations/{unknown}/revoke", None, headers)) == (
        404,
        "authorisation_not_found",
    )
    assert refusal(rig.http.get(f"/api/authorisations/{unknown}", headers=headers)) == (
        404,
        "authorisation_not_found",
    )
    assert refusal(rig.http.get("/api/invitations/" + "a" * 32)) == (404, "invitation_not_found")
    assert refusal(rig.http.get("/api/authorisations")) == (401, "session_invalid")
    bogus = {"Authorization": "Bearer kdp_nothing"}
    assert refusal(rig.http.get("/api/authorisations", headers=bogus)) == (401, "session_invalid")
    did = rig.person("Bob").did
    cases = [
        ({"employee_did": "not-a-did", "scope": ["publish"]}, "invalid_did"),
        ({"employee_did": did, "scope": []}, "validation_error"),
        ({"employee_did": did, "scope": ["rule"]}, "validation_error"),
        ({"employee_did": did, "scope": ["buy"], "valid_days": 0}, "validation_error"),
        ({"employee_did": did, "scope": ["buy"], "extra": 1}, "validation_error"),
    ]
    for body, code in cases:
        assert refusal(rig.post("/api/authorisations", body, headers)) == (422, code), body
    assert rig.http.get("/api/authorisations", headers=headers).json() == []
    logout = rig.http.post("/api/auth/logout", headers=headers)
    assert logout.status_code == 204
    assert refusal(rig.http.get("/api/authorisations", headers=headers)) == (
        401,
        "session_invalid",
    )


def test_a_revocation_waits_for_an_unreachable_registry(rig: Rig) -> None:
    _, headers = rig.representative()
    bob = rig.person("Bob")
    issued = rig.post(
        "/api/authorisations", {"employee_did": bob.did, "scope": ["publish"]}, headers
    )
    attorney = issued.json()["credential"]
    market = rig.act_for_company(bob, attorney)
    rig.marketplace.stop()
    revoked = rig.post(
        f"/api/authorisations/{issued.json()['authorisation']['id']}/revoke", None, headers
    )
    assert revoked.status_code == 202, revoked.text
    publication = revoked.json()["publication"]
    assert publication["status"] == "pending"
    assert "pending publication" in publication["message"]
    assert publication["last_error"]["code"] == "marketplace_unavailable"
    assert revoked.json()["authorisation"]["revocation"] == "pending"
    # the next action retries (and still fails); so does an explicit publish
    listed = rig.http.get("/api/authorisations", headers=headers).json()
    assert listed[0]["status"] == "revoked"
    assert listed[0]["revocation"] == "pending"
    assert refusal(rig.http.post("/api/revocations/publish", headers=headers)) == (
        503,
        "publication_pending",
    )
    rig.marketplace.start()
    # the next action publishes; the marketplace refuses Bob from then on
    listed = rig.http.get("/api/authorisations", headers=headers).json()
    assert listed[0]["revocation"] == "published"
    company = rig.http.get("/api/company", headers=headers).json()
    assert company["publication"]["status"] == "published"
    with market, pytest.raises(ApiError) as refused:
        market.create_product(product_body())
    assert (refused.value.status_code, refused.value.api_code) == (401, "credential_revoked")


def test_a_wallet_signs_only_for_the_depute_tools_own_address(rig: Rig) -> None:
    """A hostile invitation link whose server asks for a presentation to the
    marketplace (to log in there as the victim) gets nothing signed."""
    eve = rig.person("Eve")
    market = rig.app.state.identity.base_url
    signed: list[object] = []

    def hostile(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET":
            offer = {"audience": market, "nonce": "n", "company": rig.company}
            return httpx2.Response(200, json=offer)
        signed.append(request.content)
        return httpx2.Response(200, json={"credential": "x"})

    fake = httpx2.Client(transport=httpx2.MockTransport(hostile))
    with pytest.raises(WrongAudience):
        client.accept_invitation(
            "https://evil.example/invitations/abc", eve.key, eve.credential, http=fake
        )
    assert signed == []


def test_no_body_crashes_the_depute_tool(rig: Rig) -> None:
    from fastapi.testclient import TestClient

    from kraken_market.depute.app import MAX_BODY, create_depute_app

    tool = TestClient(create_depute_app(rig.depute))
    forms = ("/login", "/logout", "/authorise", "/invite", "/publish", "/authorisations/1/revoke")
    sent = assert_no_body_crashes(tool, MAX_BODY, extra_paths=tuple(("POST", f) for f in forms))
    assert sent > 50
    assert rig.http.get("/api/health").status_code == 200
