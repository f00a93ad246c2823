"""The wallet's side of sign-in with OpenID for Verifiable Presentations 1.0 (runs on the
user's machine: ``kraken-market wallet answer``).

From the QR code's text (or a same-device link, or a bare ``request_uri``) to an
answer: fetch the Request Object, check that the DID in its ``client_id``
(prefix ``decentralized_identifier``, OpenID4VP §5.9.3) signed it, read who asks and
what for, pick the credentials its DCQL query matches (§6.4), and post one
``vp+jwt`` per credential, each bound to the ``client_id`` (``aud``) and the
request's ``nonce`` (Appendix B.1.3.1), by ``direct_post`` (§8.2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from kraken_market.client import ApiError, ApiUnreachable, error_fields
from kraken_market.identity import jose, openid4vp, presentations
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.keys import DidKey
from kraken_market.identity.signin_errors import RequestObjectInvalid
from kraken_market.identity.wallet import StoredCredential
from kraken_market.identity.wallet_errors import NothingToPresent

MAX_REQUEST_BYTES = 65_536


@dataclass(frozen=True)
class Link:
    request_uri: str
    client_id: str | None  # None for a bare request_uri


def parse_link(text: str) -> Link:
    """``openid4vp://?client_id=…&request_uri=…``, ``https://…/wallet/request?…`` or the
    ``request_uri`` itself."""
    parts = urlsplit(text.strip())
    query = parse_qs(parts.query)
    if "request_uri" in query:
        client = query.get("client_id", [None])[0]
        return Link(query["request_uri"][0], client)
    if parts.scheme in ("http", "https") and openid4vp.WALLET_SCHEME not in text:
        return Link(text.strip(), None)
    raise RequestObjectInvalid(
        "this is not a sign-in request: expected the QR code's openid4vp://… text, a "
        "…/wallet/request?… link or a request_uri"
    )


@dataclass(frozen=True)
class AuthorizationRequest:
    """A Request Object whose signature by its client's DID has been checked."""

    client_id: str
    client_name: str
    response_uri: str
    nonce: str
    state: str
    dcql_query: dict[str, Any]

    @property
    def origin(self) -> str:
        parts = urlsplit(self.response_uri)
        return f"{parts.scheme}://{parts.netloc}"


def _text(payload: dict[str, Any], claim: str) -> str:
    value = payload.get(claim)
    if not isinstance(value, str) or not value:
        raise RequestObjectInvalid(f"the request has no '{claim}'")
    return value


def verified_payload(
    token: str, link: Link, resolver: DidResolver, now: datetime
) -> dict[str, Any]:
    """The claims of a Request Object whose ``client_id``'s DID signed it, not expired,
    answered by ``direct_post`` to a web address: what every request of a verifier has,
    whatever it asks (a presentation, or a signature: ``identity.signing_wallet``)."""
    checked = jose.verify(token, resolver, openid4vp.REQUEST_TYP, MAX_REQUEST_BYTES)
    payload = checked.payload
    client_id = _text(payload, "client_id")
    if not client_id.startswith(openid4vp.CLIENT_ID_PREFIX):
        raise RequestObjectInvalid(f"this wallet answers DID verifiers only, not {client_id!r}")
    if checked.key.did != client_id.removeprefix(openid4vp.CLIENT_ID_PREFIX):
        raise RequestObjectInvalid(f"the request was signed by {checked.key.did}, not {client_id}")
    if link.client_id is not None and link.client_id != client_id:
        raise RequestObjectInvalid("the request names another client_id than its link")
    if payload.get("response_mode") != "direct_post":
        raise RequestObjectInvalid(f"unsupported response mode {payload.get('response_mode')!r}")
    expires = payload.get("exp")
    if not isinstance(expires, int) or expires <= now.timestamp():
        raise RequestObjectInvalid("the request has expired; start again from the page")
    if urlsplit(_text(payload, "response_uri")).scheme not in ("http", "https"):
        raise RequestObjectInvalid("the response_uri is not a web address")
    _text(payload, "state")
    return payload


def client_name(payload: dict[str, Any]) -> str:
    metadata = payload.get("client_metadata")
    name = metadata.get("client_name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else "(no name given)"


def authorization_request(payload: dict[str, Any]) -> AuthorizationRequest:
    """A checked Request Object (``verified_payload``) that asks for a presentation."""
    if payload.get("response_type") != "vp_token":
        raise RequestObjectInvalid(f"unsupported response type {payload.get('response_type')!r}")
    query = payload.get("dcql_query")
    if not isinstance(query, dict) or not isinstance(query.get("credentials"), list):
        raise RequestObjectInvalid("the request carries no DCQL query")
    return AuthorizationRequest(
        payload["client_id"],
        client_name(payload),
        payload["response_uri"],
        _text(payload, "nonce"),
        payload["state"],
        query,
    )


def open_request(
    token: str, link: Link, resolver: DidResolver, now: datetime
) -> AuthorizationRequest:
    return authorization_request(verified_payload(token, link, resolver, now))


@dataclass(frozen=True)
class Selection:
    query_id: str
    credentials: list[StoredCredential]


def _types_match(query: dict[str, Any], credential: StoredCredential) -> bool:
    alternatives = (query.get("meta") or {}).get("type_values") or []
    held = {"VerifiableCredential", credential.type}
    return any(isinstance(a, list) and set(a) <= held for a in alternatives)


def _claims_match(query: dict[str, Any], credential: StoredCredential) -> bool:
    """Value constraints on ``credentialSubject`` claims (DCQL §6.3, §7)."""
    for claim in query.get("claims") or []:
        path, values = claim.get("path") or [], claim.get("values")
        if not path or path[0] != "credentialSubject" or values is None:
            continue
        value: Any = credential.subject
        for step in path[1:]:
            value = value.get(step) if isinstance(value, dict) else None
        if value not in values:
            return False
    return True


def _required(query: dict[str, Any]) -> set[str]:
    sets = query.get("credential_sets")
    ids = {str(q.get("id")) for q in query["credentials"] if isinstance(q, dict)}
    if not isinstance(sets, list):
        return ids
    required: set[str] = set()
    for entry in sets:
        if isinstance(entry, dict) and entry.get("required", True) and entry.get("options"):
            required.update(str(i) for i in entry["options"][0])
    return required


def select(
    request: AuthorizationRequest, held: list[StoredCredential], now: datetime
) -> list[Selection]:
    """The credentials to share per query: the newest matching one (the wallet keeps
    them in the order received), or all for ``multiple``; optional queries the wallet
    cannot match are left out (§6.4.2)."""
    required = _required(request.dcql_query)
    chosen = []
    for query in request.dcql_query["credentials"]:
        if not isinstance(query, dict) or query.get("format") != openid4vp.FORMAT:
            continue
        matching = [
            c
            for c in held
            if not c.expired(now) and _types_match(query, c) and _claims_match(query, c)
        ]
        query_id = str(query.get("id"))
        if not matching:
            if query_id in required:
                raise NothingToPresent(
                    f"the request needs a credential your wallet does not hold ({query_id}: "
                    f"{json.dumps((query.get('meta') or {}).get('type_values'))})",
                    details={"query": query},
                )
            continue
        chosen.append(Selection(query_id, matching if query.get("multiple") else matching[-1:]))
    return chosen


def vp_token(
    holder: DidKey, request: AuthorizationRequest, chosen: list[Selection], now: datetime
) -> dict[str, list[str]]:
    return {
        s.query_id: [
            presentations.present(
                holder, [c.token], audience=request.client_id, nonce=request.nonce, now=now
            )
            for c in s.credentials
        ]
        for s in chosen
    }


def send(http: httpx2.Client, method: str, url: str, **kwargs: Any) -> httpx2.Response:
    try:
        response = http.request(method, url, **kwargs)
    except httpx2.HTTPError as exc:
        raise ApiUnreachable(f"cannot reach {url} ({type(exc).__name__})") from exc
    if not response.is_success:
        raise ApiError(response.status_code, *error_fields(response))
    return response


def fetch_request(http: httpx2.Client, link: Link) -> str:
    accept = {"Accept": openid4vp.REQUEST_MEDIA_TYPE}
    return send(http, "GET", link.request_uri, headers=accept).text


def post_answer(
    http: httpx2.Client, request: AuthorizationRequest, token: dict[str, list[str]]
) -> dict[str, Any]:
    """The direct_post answer; the verifier's reply (``redirect_uri`` for same-device)."""
    form = {"vp_token": json.dumps(token), "state": request.state}
    response = send(http, "POST", request.response_uri, data=form)
    reply = response.json() if response.content else {}
    return reply if isinstance(reply, dict) else {}


def post_decline(http: httpx2.Client, response_uri: str, state: str) -> None:
    """Tell the verifier the person declined (OpenID4VP §8.5, ``access_denied``), so the
    waiting page can say so instead of waiting for the request to expire."""
    send(http, "POST", response_uri, data={"error": "access_denied", "state": state})
