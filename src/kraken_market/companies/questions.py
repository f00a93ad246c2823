"""A company's signed question to KCIT: "is this DID our representative?".

KCIT keeps a company's representative private (a natural person's DID). The
company's Depute tool must still learn, at a login, whether the person who
presented is the representative: it asks with a compact JWS signed by the
company's own DID key (``typ`` ``kraken-question+jwt``, payload ``{company,
representative, aud, iat}``, RFC 7515), which only the company can make. The
audience is the marketplace and the question is fresh (``iat`` within
``MAX_AGE_SECONDS``), so a captured question is worth little elsewhere or later.
"""

from __future__ import annotations

from datetime import datetime

from kraken_market.errors import InvalidRequest
from kraken_market.identity import jose
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import HolderMismatch, PresentationExpired, WrongAudience
from kraken_market.identity.keys import DidKey

QUESTION_TYP = "kraken-question+jwt"
MAX_AGE_SECONDS = 300
MAX_BYTES = 8192


def ask(company: DidKey, representative: str, *, audience: str, now: datetime) -> str:
    """The company's question about ``representative``, for the marketplace at ``audience``."""
    payload = {
        "company": company.did,
        "representative": representative,
        "aud": audience,
        "iat": int(now.timestamp()),
    }
    return jose.sign(company, payload, QUESTION_TYP)


def verify(token: str, resolver: DidResolver, company: str, audience: str, now: datetime) -> str:
    """The DID asked about, if ``company`` signed this question for ``audience`` now."""
    checked = jose.verify(token, resolver, QUESTION_TYP, MAX_BYTES)
    payload = checked.payload
    if checked.key.did != company or payload.get("company") != company:
        raise HolderMismatch(
            "only the company itself asks who represents it (a question signed by its DID)",
            details={"company": company, "signed_by": checked.key.did},
        )
    if payload.get("aud") != audience:
        raise WrongAudience(f"this question is for {payload.get('aud')!r}, not {audience!r}")
    issued = payload.get("iat")
    if not isinstance(issued, int) or abs(now.timestamp() - issued) > MAX_AGE_SECONDS:
        raise PresentationExpired(f"a question must be signed within {MAX_AGE_SECONDS} s")
    asked = payload.get("representative")
    if not isinstance(asked, str) or not asked.startswith("did:") or len(asked) > 2048:
        raise InvalidRequest("the question must name a DID as 'representative'")
    return asked
