"""The demo issuer over HTTP, for the wallet app (development only; runs in the API).

A person who opens the wallet app in a browser has no command line to run
``kraken-market issuer issue person``: the app asks the API instead, in the shape of
OpenID for Verifiable Credential Issuance 1.0 §8 (credential request with a key
proof): the wallet signs an ``openid4vci-proof+jwt`` with its DID key, for this
marketplace (``aud``) and a fresh nonce from ``POST /auth/challenge``; the credential is
issued to the DID that signed, so nobody receives a credential for a key they do not
hold, and a proof works once.

Only what the command line's demo issuer gives anyone is offered: a PersonCredential
and a BuyerCategoryCredential. Platform roles (admin, arbiter) never: they are the
platform's, handed out by whoever holds the issuer's directory. In production the
demo issuer does not exist and this refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from kraken_market.db.base import utcnow
from kraken_market.errors import Forbidden
from kraken_market.identity import jose
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.errors import PresentationExpired, WrongAudience
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.service import AuthService

PROOF_TYP = "openid4vci-proof+jwt"
PROOF_MAX_AGE = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)
OFFERED = {"person": CredentialType.PERSON, "buyer_category": CredentialType.BUYER_CATEGORY}
VALID_FOR = timedelta(days=365)


class DemoIssuerDisabled(Forbidden):
    code = "demo_issuer_disabled"


@dataclass(frozen=True)
class Issued:
    id: str
    type: str
    subject: str
    credential: str


def holder_of(proof: str, platform: IdentityPlatform, auth: AuthService) -> str:
    """The DID that signed ``proof`` for this marketplace with an unused nonce."""
    checked = jose.verify(
        proof, platform.resolver, PROOF_TYP, platform.settings.identity_max_token_bytes
    )
    payload = checked.payload
    if payload.get("aud") != platform.base_url:
        raise WrongAudience(
            f"the proof is for {payload.get('aud')!r}, not this marketplace",
            details={"expected": platform.base_url},
        )
    now = utcnow()
    issued_at = payload.get("iat")
    if not isinstance(issued_at, int) or isinstance(issued_at, bool):
        raise PresentationExpired("the proof needs a numeric 'iat' claim")
    age = now.timestamp() - issued_at
    if age > PROOF_MAX_AGE.total_seconds() or age < -CLOCK_SKEW.total_seconds():
        raise PresentationExpired("the proof is too old or from the future: sign a new one")
    auth.consume_nonce(str(payload.get("nonce", "")), now)
    return checked.key.did


def issue(
    platform: IdentityPlatform,
    auth: AuthService,
    credential: str,
    claims: dict[str, Any],
    proof: str,
) -> Issued:
    """Issue the offered ``credential`` with ``claims`` to the proof's signer."""
    if platform.demo_issuer is None:
        raise DemoIssuerDisabled(
            "this marketplace has no demo issuer (production): get your credentials "
            "from the issuers it trusts (GET /api/v1/identity/issuers)"
        )
    did = holder_of(proof, platform, auth)
    type_ = OFFERED[credential]
    with Issuer.locked(platform.demo_issuer.directory) as issuer:
        before = set(issuer.records)
        token = issuer.issue(
            type_, {"id": did, **claims}, registry_url=platform.base_url, valid_for=VALID_FOR
        )
        (credential_id,) = set(issuer.records) - before
    return Issued(id=credential_id, type=type_.value, subject=did, credential=token)
