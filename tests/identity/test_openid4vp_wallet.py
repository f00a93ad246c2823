"""The wallet's side of OpenID4VP without a server: links, the checks of a Request
Object, and which credentials a DCQL query picks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kraken_market.db.base import utcnow
from kraken_market.identity import credentials, jose, openid4vp, presentations
from kraken_market.identity import openid4vp_wallet as wallet
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.keys import DidKey
from kraken_market.identity.signin_errors import RequestObjectInvalid
from kraken_market.identity.wallet import StoredCredential
from kraken_market.identity.wallet_errors import NothingToPresent

VERIFIER = DidKey.generate()
CLIENT_ID = openid4vp.CLIENT_ID_PREFIX + VERIFIER.did
COMPANY = DidKey.generate().did


def request_token(signer: DidKey = VERIFIER, act_for: str | None = COMPANY, **changes: Any) -> str:
    now = utcnow()
    payload = openid4vp.request_payload(
        client_id=CLIENT_ID,
        client_name="Kraken Market",
        response_uri="https://market.example/api/v1/auth/requests/r1/response",
        nonce="n-1",
        state="s-1",
        act_for=act_for,
        issued=now,
        expires=now + timedelta(minutes=5),
    )
    return jose.sign(signer, {**payload, **changes}, openid4vp.REQUEST_TYP)


def held(
    type_: str, subject: dict[str, Any], *, id_: str, expired: bool = False
) -> StoredCredential:
    until = (utcnow() + timedelta(days=-1 if expired else 1)).isoformat()
    return StoredCredential(id_, type_, "did:key:issuer", until, subject, token=f"token-{id_}")


def test_links_of_every_kind() -> None:
    uri = "https://market.example/api/v1/auth/requests/r1"
    url = openid4vp.wallet_url(CLIENT_ID, uri)
    assert wallet.parse_link(url) == wallet.Link(uri, CLIENT_ID)
    same_device = "https://market.example/wallet/request?" + url.split("?", 1)[1]
    assert wallet.parse_link(same_device) == wallet.Link(uri, CLIENT_ID)
    assert wallet.parse_link(uri) == wallet.Link(uri, None)
    with pytest.raises(RequestObjectInvalid):
        wallet.parse_link("openid4vp://?client_id=x")


def test_a_request_is_opened_only_if_its_client_signed_it() -> None:
    link = wallet.Link("https://market.example/api/v1/auth/requests/r1", CLIENT_ID)
    request = wallet.open_request(request_token(), link, DidResolver(), utcnow())
    assert (request.client_name, request.origin) == ("Kraken Market", "https://market.example")
    impostor = request_token(DidKey.generate())  # names our client_id, signed by another
    with pytest.raises(RequestObjectInvalid, match="signed by"):
        wallet.open_request(impostor, link, DidResolver(), utcnow())
    other = wallet.Link(link.request_uri, openid4vp.CLIENT_ID_PREFIX + DidKey.generate().did)
    with pytest.raises(RequestObjectInvalid, match="another client_id"):
        wallet.open_request(request_token(), other, DidResolver(), utcnow())
    with pytest.raises(RequestObjectInvalid, match="expired"):
        wallet.open_request(request_token(), link, DidResolver(), utcnow() + timedelta(hours=1))
    with pytest.raises(RequestObjectInvalid, match="unsupported"):
        wallet.open_request(request_token(response_mode="fragment"), link, DidResolver(), utcnow())


def test_the_dcql_query_picks_the_newest_person_and_the_companys_attorney() -> None:
    link = wallet.Link("https://market.example/api/v1/auth/requests/r1", None)
    request = wallet.open_request(request_token(), link, DidResolver(), utcnow())
    credentials = [
        held("PersonCredential", {"name": "Old"}, id_="p1"),
        held("PersonCredential", {"name": "New"}, id_="p2"),
        held("PersonCredential", {"name": "Expired"}, id_="p3", expired=True),
        held("AttorneyCredential", {"company": {"id": "did:key:other"}}, id_="a1"),
        held("AttorneyCredential", {"company": {"id": COMPANY}}, id_="a2"),
        held("PlatformRoleCredential", {"role": "admin"}, id_="r1"),
        held("PlatformRoleCredential", {"role": "arbiter"}, id_="r2"),
    ]
    chosen = {
        s.query_id: [c.id for c in s.credentials]
        for s in wallet.select(request, credentials, utcnow())
    }
    assert chosen == {"person": ["p2"], "attorney": ["a2"], "platform_role": ["r1", "r2"]}
    without_attorney = [c for c in credentials if c.id != "a2"]
    with pytest.raises(NothingToPresent, match="attorney"):
        wallet.select(request, without_attorney, utcnow())


def test_each_credential_is_presented_to_this_client_with_this_nonce() -> None:
    link = wallet.Link("https://market.example/api/v1/auth/requests/r1", None)
    request = wallet.open_request(request_token(act_for=None), link, DidResolver(), utcnow())
    holder = DidKey.generate()
    credential = credentials.issue(
        DidKey.generate(),
        CredentialType.PERSON,
        {"id": holder.did, "name": "Alice"},
        valid_from=utcnow(),
    )
    mine = [StoredCredential("p1", "PersonCredential", "x", None, {}, token=credential)]
    token = wallet.vp_token(holder, request, wallet.select(request, mine, utcnow()), utcnow())
    [presented] = token["person"]
    opened = presentations.open_presentation(
        presented, DidResolver(), audience=CLIENT_ID, now=utcnow(), max_bytes=32_768
    )
    assert (opened.holder, opened.nonce, opened.credentials) == (holder.did, "n-1", [credential])
