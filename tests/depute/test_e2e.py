"""A company authorises employees in its Depute tool and revokes one; the marketplace
follows at the next request. Both applications run behind real servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kraken_market.client import ApiError
from kraken_market.depute import client
from kraken_market.depute.authorisations import Authorisations
from kraken_market.identity import credentials
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver
from tests.depute.conftest import Rig, refusal
from tests.factories import product_body


def test_authorise_by_invitation_and_by_did_then_revoke(rig: Rig) -> None:
    _, headers = rig.representative()

    # (a) an invitation: a one-time link and its QR code, accepted by the employee's wallet
    body = {"scope": ["publish"], "roles": ["data steward"], "valid_days": 30}
    created = rig.post("/api/invitations", body, headers)
    assert created.status_code == 201, created.text
    link = created.json()["url"]
    qr = rig.http.get(created.json()["qr_svg_url"])
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in qr.text
    eve = rig.person("Eve")
    attorney = client.accept_invitation(link, eve.key, eve.credential)
    checked = credentials.verify(attorney, DidResolver(), datetime.now(UTC))
    assert (checked.type, checked.issuer, checked.subject_id) == (
        CredentialType.ATTORNEY,
        rig.company,
        eve.did,
    )
    assert checked.subject["scope"] == ["publish"]
    assert checked.subject["roles"] == ["data steward"]
    assert checked.subject["company"] == {"id": rig.company, "legalName": "St. Olav Hospital"}

    # (b) by DID; the employee downloads the credential with a presentation
    bob = rig.person("Bob")
    issued = rig.post(
        "/api/authorisations",
        {"employee_did": bob.did, "scope": ["publish", "buy"], "name": "Bob B."},
        headers,
    )
    assert issued.status_code == 201, issued.text
    downloaded = client.my_credentials(rig.url, bob.key, [bob.credential])
    assert [c["credential"] for c in downloaded] == [issued.json()["credential"]]

    listed = rig.http.get("/api/authorisations", headers=headers).json()
    assert {(a["employee_did"], a["via"], a["status"]) for a in listed} == {
        (eve.did, "invitation", "active"),
        (bob.did, "did", "active"),
    }
    invitations = rig.http.get("/api/invitations", headers=headers).json()
    assert [(i["state"], i["used_by"]) for i in invitations] == [("used", eve.did)]

    # Eve publishes a product as the company
    with rig.act_for_company(eve, attorney) as market:
        product = market.create_product(product_body())
        assert product["owner"] == rig.company

        # the representative revokes Eve: the list reaches the registry at once
        eve_id = next(a["id"] for a in listed if a["employee_did"] == eve.did)
        revoked = rig.post(f"/api/authorisations/{eve_id}/revoke", None, headers)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["authorisation"]["status"] == "revoked"
        assert revoked.json()["authorisation"]["revocation"] == "published"
        assert revoked.json()["publication"]["status"] == "published"

        # ... and the marketplace refuses Eve's next publish
        with pytest.raises(ApiError) as refused:
            market.create_product(product_body())
        assert (refused.value.status_code, refused.value.api_code) == (401, "credential_revoked")

    # Bob still acts for the company
    with rig.act_for_company(bob, issued.json()["credential"]) as market:
        assert market.create_product(product_body())["owner"] == rig.company

    by_status = {
        status: [
            a["employee_did"]
            for a in rig.http.get(
                "/api/authorisations", params={"status": status}, headers=headers
            ).json()
        ]
        for status in ("active", "revoked", "expired")
    }
    assert by_status == {"active": [bob.did], "revoked": [eve.did], "expired": []}
    again = rig.post(f"/api/authorisations/{eve_id}/revoke", None, headers)
    assert again.status_code == 200  # revoking twice changes nothing
    assert client.my_credentials(rig.url, eve.key, [eve.credential])[0]["status"] == "revoked"


def test_authorisations_are_listed_as_expired_after_their_validity(rig: Rig) -> None:
    _, headers = rig.representative()
    bob = rig.person("Bob")
    body = {"employee_did": bob.did, "scope": ["buy"], "valid_days": 1}
    assert rig.post("/api/authorisations", body, headers).status_code == 201
    rig.clock.offset = timedelta(days=1, minutes=1)
    with rig.depute.sessions() as session:
        listed = Authorisations(rig.depute, session)
        assert [a.employee_did for a in listed.list("expired")] == [bob.did]
        assert listed.list("active") == []
    # the representative's session has expired by now too
    assert refusal(rig.http.get("/api/authorisations", headers=headers)) == (
        401,
        "session_invalid",
    )
