"""The checks of a wallet's answer to a sign-in request (OpenID4VP 1.0), without the
database: what ``identity.signin`` runs between reading the request and recording
the outcome. Runs in the API (and in a Depute tool).

Two stages, because they differ in what a failure means:

1. ``open_answer``: the ``vp_token`` fits the DCQL query (§6.4), every presentation
   is signed by its holder, bound to our Client Identifier (``aud``) and to this
   request's ``nonce`` (Appendix B.1.3.1), and one holder signed them all. Anyone
   who saw the QR code can send garbage; failing here uses nothing up.
2. ``verify_answer``: each credential as at ``POST /auth/login`` (issuer's
   signature, schema, validity, trusted issuer, holder is the subject, status
   list, KCIT for attorney credentials), of the type its query asked for, and the
   identity they prove (the attorney credential of ``act_for`` when asked).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from kraken_market.identity import openid4vp, presentations
from kraken_market.identity.errors import HolderMismatch
from kraken_market.identity.signin_errors import NonceMismatch, VpTokenInvalid
from kraken_market.identity.verifier import Identity, LoginVerifier


@dataclass(frozen=True)
class OpenedAnswer:
    holder: str
    presentations: list[tuple[openid4vp.CredentialQuery, presentations.Presentation]]


def open_answer(
    verifier: LoginVerifier,
    *,
    client_id: str,
    nonce: str,
    act_for: str | None,
    vp_token: object,
    now: datetime,
) -> OpenedAnswer:
    queries = {q.id: q for q in openid4vp.credential_queries(act_for)}
    tokens = openid4vp.parse_vp_token(vp_token)
    openid4vp.check_against(list(queries.values()), tokens)
    opened = []
    for query_id, answers in tokens.items():
        for token in answers:
            presentation = presentations.open_presentation(
                token,
                verifier.resolver,
                audience=client_id,
                now=now,
                max_bytes=verifier.max_bytes,
            )
            if not hmac.compare_digest(presentation.nonce.encode(), nonce.encode()):
                raise NonceMismatch("a presentation carries another request's nonce")
            opened.append((queries[query_id], presentation))
    holders = {presentation.holder for _, presentation in opened}
    if len(holders) != 1:
        raise HolderMismatch(
            "the presentations were signed by different holders; one person signs in",
            details={"holders": sorted(holders)},
        )
    return OpenedAnswer(holders.pop(), opened)


def verify_answer(
    verifier: LoginVerifier, answer: OpenedAnswer, act_for: str | None, now: datetime
) -> Identity:
    verified = []
    for query, presentation in answer.presentations:
        for token in presentation.credentials:
            credential = verifier.check_credential(token, answer.holder, now)
            if credential.type is not query.type:
                raise VpTokenInvalid(
                    f"vp_token[{query.id!r}] holds a {credential.type.value}, "
                    f"not a {query.type.value}"
                )
            verified.append(credential)
    return verifier.identity(answer.holder, verified, act_for)
