"""Verifiable presentations for login: a ``vp+jwt`` (W3C "Securing Verifiable
Credentials using JOSE and COSE" §3.2) signed by the holder's DID key, carrying
the holder's credentials as ``EnvelopedVerifiableCredential``s
(``data:application/vc+jwt,<token>``), bound to the verifier by ``aud`` and to
one login attempt by the server's ``nonce``, and short-lived (``iat``/``exp``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kraken_market.identity import jose
from kraken_market.identity.credential_types import VC_CONTEXT
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import (
    HolderMismatch,
    MalformedToken,
    PresentationExpired,
    WrongAudience,
)
from kraken_market.identity.keys import DidKey

VP_TYP = "vp+jwt"
ENVELOPE_PREFIX = "data:application/vc+jwt,"
MAX_LIFETIME = timedelta(minutes=10)
MAX_CREDENTIALS = 10
CLOCK_SKEW = timedelta(seconds=60)


def present(
    holder: DidKey,
    credentials: list[str],
    *,
    audience: str,
    nonce: str,
    now: datetime | None = None,
    lifetime: timedelta = timedelta(minutes=2),
) -> str:
    """The holder's signed presentation of ``credentials`` (vc+jwt tokens) to one
    verifier, ``audience``."""
    issued = now or datetime.now(UTC)
    payload: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": [
            {
                "@context": [VC_CONTEXT],
                "id": ENVELOPE_PREFIX + token,
                "type": "EnvelopedVerifiableCredential",
            }
            for token in credentials
        ],
        "aud": audience,
        "nonce": nonce,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
    }
    return jose.sign(holder, payload, VP_TYP)


@dataclass(frozen=True)
class Presentation:
    """A presentation whose signature, holder, audience and lifetime have been checked;
    its credentials are still unverified tokens."""

    holder: str
    nonce: str
    credentials: list[str]


def _int(payload: dict[str, Any], claim: str) -> int:
    value = payload.get(claim)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedToken(f"the presentation needs a numeric '{claim}' claim")
    return value


def open_presentation(
    token: str, resolver: DidResolver, *, audience: str, now: datetime, max_bytes: int
) -> Presentation:
    """Check a ``vp+jwt``; the caller then consumes the nonce and verifies the credentials."""
    checked = jose.verify(token, resolver, VP_TYP, max_bytes)
    payload = checked.payload
    holder = payload.get("holder")
    if holder != checked.key.did:
        raise HolderMismatch(
            "the presentation must be signed by its holder",
            details={
                "holder": holder if isinstance(holder, str) else None,
                "signer": checked.key.did,
            },
        )
    aud = payload.get("aud")
    # One audience only: a presentation naming several verifiers could be relayed by
    # any of them to the others (RFC 7519 allows arrays; a login needs none).
    if aud != audience and aud != [audience]:
        raise WrongAudience(
            f"this presentation is for {aud!r}, not for {audience!r}",
            details={"expected": audience},
        )
    issued, expires = _int(payload, "iat"), _int(payload, "exp")
    moment = now.timestamp()
    if (
        expires - issued > MAX_LIFETIME.total_seconds()
        or issued - moment > CLOCK_SKEW.total_seconds()
    ):
        raise PresentationExpired(
            f"a login presentation may live at most {int(MAX_LIFETIME.total_seconds())} s "
            "and cannot be issued in the future"
        )
    if moment - expires > CLOCK_SKEW.total_seconds():
        raise PresentationExpired("the presentation has expired; sign a new one")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise MalformedToken("the presentation needs the server's 'nonce'")
    envelopes = payload.get("verifiableCredential")
    if not isinstance(envelopes, list) or not 1 <= len(envelopes) <= MAX_CREDENTIALS:
        raise MalformedToken(f"a presentation carries 1-{MAX_CREDENTIALS} credentials")
    tokens = []
    for envelope in envelopes:
        value = envelope.get("id") if isinstance(envelope, dict) else None
        if not isinstance(value, str) or not value.startswith(ENVELOPE_PREFIX):
            raise MalformedToken(
                "credentials are EnvelopedVerifiableCredential objects with id "
                f"'{ENVELOPE_PREFIX}<token>'"
            )
        tokens.append(value.removeprefix(ENVELOPE_PREFIX))
    return Presentation(holder=holder, nonce=nonce, credentials=tokens)
