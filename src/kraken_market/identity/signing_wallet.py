"""The wallet's side of signatures a page asks for (runs on the user's machine:
``kraken-market wallet answer``).

A signed-in page that needs a signature only the wallet can give sends a Request Object
in the shape of OpenID4VP 1.0 (``identity.wallet_requests``): signed by the
marketplace's verifier DID, ``response_type`` ``kraken_signature``, ``direct_post`` to
its ``response_uri``, and a ``signing_request`` claim saying what to sign. The one kind
today is ``bind_account``: the binding of the wallet's DID to its Ethereum account
(``identity.binding``: a ``kraken-binding+jwt`` signed by the DID key, and the account's
EIP-191 signature of it), for the ``audience`` the request names.

The wallet signs only for itself: a request naming another DID is refused before
anything is unlocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx2

from kraken_market.identity import binding
from kraken_market.identity.openid4vp_wallet import client_name, send
from kraken_market.identity.signin_errors import RequestObjectInvalid
from kraken_market.identity.wallet import WalletKeys
from kraken_market.identity.wallet_errors import SigningRequestInvalid

RESPONSE_TYPE = "kraken_signature"
BIND_ACCOUNT = "bind_account"
KINDS = {BIND_ACCOUNT: "link your DID to your ledger account (both keys sign the link)"}


@dataclass(frozen=True)
class SigningRequest:
    """A checked request for a signature (``openid4vp_wallet.verified_payload`` first)."""

    client_id: str
    client_name: str
    response_uri: str
    state: str
    kind: str
    did: str
    audience: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.response_uri)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def what(self) -> str:
        """What the wallet would sign, in words."""
        return KINDS[self.kind]


def is_signing_request(payload: dict[str, Any]) -> bool:
    return payload.get("response_type") == RESPONSE_TYPE


def signing_request(payload: dict[str, Any]) -> SigningRequest:
    """The ``signing_request`` claim of a verified Request Object, checked."""
    if not is_signing_request(payload):
        raise RequestObjectInvalid(f"unsupported response type {payload.get('response_type')!r}")
    asked = payload.get("signing_request")
    if not isinstance(asked, dict):
        raise RequestObjectInvalid("the request does not say what to sign")
    kind, did, audience = asked.get("kind"), asked.get("did"), asked.get("audience")
    if kind not in KINDS:
        raise SigningRequestInvalid(f"this wallet does not sign {kind!r} requests")
    if not isinstance(did, str) or not isinstance(audience, str) or not did or not audience:
        raise SigningRequestInvalid("the signing request names no DID or audience")
    if urlsplit(audience).scheme not in ("http", "https"):
        raise SigningRequestInvalid("the signing request's audience is not a web address")
    return SigningRequest(
        payload["client_id"],
        client_name(payload),
        payload["response_uri"],
        payload["state"],
        kind,
        did,
        audience,
    )


def check_holder(request: SigningRequest, did: str) -> None:
    """Before unlocking: the request must be for this wallet's DID (a page of someone
    else's session cannot have this wallet sign for it)."""
    if request.did != did:
        raise SigningRequestInvalid(
            f"this request is for {request.did}, not for this wallet's DID {did}: "
            "answer it with the wallet you signed in with"
        )


def sign(keys: WalletKeys, request: SigningRequest, now: datetime) -> dict[str, str]:
    """The answer's fields: the binding and the account's signature of it."""
    check_holder(request, keys.did_key.did)
    made = binding.bind(keys.did_key, keys.account, audience=request.audience, now=now)
    return {"binding": made.jws, "account_signature": made.account_signature}


def post_signature(
    http: httpx2.Client, request: SigningRequest, fields: dict[str, str]
) -> dict[str, Any]:
    """The direct_post answer (form-encoded, with the request's ``state``)."""
    response = send(http, "POST", request.response_uri, data={**fields, "state": request.state})
    reply = response.json() if response.content else {}
    return reply if isinstance(reply, dict) else {}
