"""The shapes of sign-in with OpenID for Verifiable Presentations 1.0 (OpenID4VP), as
Kraken Market uses them; both sides read them: the API (``identity.signin``) and the
CLI wallet (``identity.openid4vp_wallet``).

- The Verifier is the marketplace itself, identified by its own did:key with the
  Client Identifier Prefix ``decentralized_identifier`` (OpenID4VP §5.9.3): it signs
  every Request Object (RFC 9101, JAR; ``typ`` ``oauth-authz-req+jwt``) with that key,
  and a wallet checks the signature against the DID, so no one else can ask in the
  marketplace's name.
- The request goes by reference (``request_uri``, fetched with GET), in a QR code
  (cross-device) or a link (same-device), as ``openid4vp://?client_id=…&request_uri=…``.
- What it asks for is a DCQL query (§6): a PersonCredential, an AttorneyCredential of
  the company when the person acts for one, PlatformRole- and BuyerCategoryCredentials
  if held (optional credential sets), all in the ``jwt_vc_json`` format (Appendix
  B.1.3.1): each presentation is a ``vp+jwt`` whose ``aud`` is the Client Identifier
  and whose ``nonce`` is the request's.
- The answer comes by Response Mode ``direct_post`` (§8.2): a form-encoded POST of
  ``vp_token`` (a JSON object: credential query id -> array of presentations, §8.1)
  and ``state`` to the ``response_uri``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.signin_errors import VpTokenInvalid

CLIENT_ID_PREFIX = "decentralized_identifier:"
REQUEST_TYP = "oauth-authz-req+jwt"
REQUEST_MEDIA_TYPE = "application/oauth-authz-req+jwt"
STATIC_AUDIENCE = "https://self-issued.me/v2"
"""The Request Object's ``aud`` with static wallet discovery (OpenID4VP §5.8)."""
FORMAT = "jwt_vc_json"
ALGORITHMS = ["EdDSA", "Ed25519"]
"""What presentations and credentials are signed with (RFC 8037; RFC 9864's name)."""
WALLET_SCHEME = "openid4vp://"
MAX_PRESENTATIONS = 10


class Flow(StrEnum):
    CROSS_DEVICE = "cross_device"
    SAME_DEVICE = "same_device"


@dataclass(frozen=True)
class CredentialQuery:
    """One DCQL Credential Query (§6.1) of ours: a credential type, and for an attorney
    credential the company it must be issued for."""

    id: str
    type: CredentialType
    multiple: bool = False
    required: bool = True
    company: str | None = None

    def to_json(self) -> dict[str, Any]:
        query: dict[str, Any] = {
            "id": self.id,
            "format": FORMAT,
            "meta": {"type_values": [["VerifiableCredential", self.type.value]]},
        }
        if self.multiple:
            query["multiple"] = True
        if self.company is not None:
            path = ["credentialSubject", "company", "id"]
            query["claims"] = [{"path": path, "values": [self.company]}]
        return query


def credential_queries(act_for: str | None) -> list[CredentialQuery]:
    """What a sign-in asks for: who you are, the company you act for, and your roles
    and buyer categories if you have any."""
    queries = [CredentialQuery("person", CredentialType.PERSON)]
    if act_for is not None:
        queries.append(CredentialQuery("attorney", CredentialType.ATTORNEY, company=act_for))
    queries.append(
        CredentialQuery("platform_role", CredentialType.PLATFORM_ROLE, True, required=False)
    )
    queries.append(
        CredentialQuery("buyer_category", CredentialType.BUYER_CATEGORY, True, required=False)
    )
    return queries


def dcql_query(act_for: str | None) -> dict[str, Any]:
    queries = credential_queries(act_for)
    return {
        "credentials": [q.to_json() for q in queries],
        "credential_sets": [
            {"options": [[q.id]], **({} if q.required else {"required": False})} for q in queries
        ],
    }


def client_metadata(name: str) -> dict[str, Any]:
    """Verifier metadata carried in the request (§5.1; ``client_name`` from RFC 7591)."""
    return {"client_name": name, "vp_formats_supported": {FORMAT: {"alg_values": ALGORITHMS}}}


def request_payload(
    *,
    client_id: str,
    client_name: str,
    response_uri: str,
    nonce: str,
    state: str,
    act_for: str | None,
    issued: datetime,
    expires: datetime,
) -> dict[str, Any]:
    """The claims of a Request Object (§5.1, RFC 9101 §4)."""
    return {
        "iss": client_id,
        "aud": STATIC_AUDIENCE,
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": response_uri,
        "nonce": nonce,
        "state": state,
        "dcql_query": dcql_query(act_for),
        "client_metadata": client_metadata(client_name),
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }


def wallet_url(client_id: str, request_uri: str) -> str:
    """The text of the QR code (and, under ``/wallet/request``, of the same-device link)."""
    return f"{WALLET_SCHEME}?client_id={quote(client_id, safe='')}" + (
        f"&request_uri={quote(request_uri, safe='')}"
    )


def parse_vp_token(value: object) -> dict[str, list[str]]:
    """A ``vp_token`` as sent (a JSON text in a form, or already an object) as
    query id -> presentations; refuses any other shape."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise VpTokenInvalid("vp_token is not a JSON object") from exc
    if not isinstance(value, dict) or not value:
        raise VpTokenInvalid(
            "vp_token is a JSON object: credential query id -> array of presentations"
        )
    parsed: dict[str, list[str]] = {}
    for key, presentations in value.items():
        if (
            not isinstance(presentations, list)
            or not presentations
            or not all(isinstance(p, str) for p in presentations)
        ):
            raise VpTokenInvalid(f"vp_token[{key!r}] is not a non-empty array of vp+jwt strings")
        parsed[str(key)] = presentations
    if sum(len(p) for p in parsed.values()) > MAX_PRESENTATIONS:
        raise VpTokenInvalid(f"a vp_token carries at most {MAX_PRESENTATIONS} presentations")
    return parsed


def check_against(queries: list[CredentialQuery], vp_token: dict[str, list[str]]) -> None:
    """The answer fits the query: only queried ids, one presentation where ``multiple``
    is not set, every required credential there (DCQL §6.4.2)."""
    known = {q.id: q for q in queries}
    for key, presentations in vp_token.items():
        query = known.get(key)
        if query is None:
            raise VpTokenInvalid(
                f"vp_token answers {key!r}, which this request did not ask for",
                details={"asked": sorted(known)},
            )
        if len(presentations) > 1 and not query.multiple:
            raise VpTokenInvalid(f"vp_token[{key!r}] may hold one presentation only")
    missing = [q.id for q in queries if q.required and q.id not in vp_token]
    if missing:
        raise VpTokenInvalid(
            f"vp_token lacks the required {', '.join(missing)}", details={"missing": missing}
        )
