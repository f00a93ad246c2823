"""Sign-in with OpenID for Verifiable Presentations 1.0, the Verifier's side (in the API).

It follows the reference design for Response Mode ``direct_post`` (OpenID4VP §13.3):

1. a page creates a request (``create``) and keeps its ``transaction_id``, a secret
   that never leaves it; the QR code or link carries only the public ``request_uri``;
2. the wallet fetches the signed Request Object (``request_object``) and answers it
   at the ``response_uri`` (``answer``): the state, expiry and single use of the
   request here, then the presentations and credentials (``identity.signin_answer``);
3. the page redeems the result with its ``transaction_id`` (``result``); after a
   same-device answer only together with the one-time ``response_code`` the wallet
   sent the person's browser, so a request started in an attacker's browser and
   answered by a victim's wallet never yields the victim's session (§14.2, session
   fixation). The caller opens the session at that moment, once: no session token
   is stored, only the verified identity waits in the request's row.

The marketplace (``signin_routes``) and each Depute tool (``depute.signin``) are
verifiers of their own, with their own key, URLs and table of requests.

A request is used up by its first answer that passes the cheap checks (signatures,
audience, nonce), even if a credential is refused later; the page then learns why.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from kraken_market.db.base import utcnow
from kraken_market.errors import KrakenError
from kraken_market.identity import jose, openid4vp
from kraken_market.identity.models import SigninRequest, SigninRequestFields
from kraken_market.identity.openid4vp import Flow
from kraken_market.identity.service import digest, identity_record
from kraken_market.identity.signin_answer import open_answer, verify_answer
from kraken_market.identity.signin_client import SigninClient
from kraken_market.identity.signin_errors import (
    RequestAnswered,
    RequestClosed,
    RequestExpired,
    RequestUnknown,
    ResponseCodeMismatch,
    ResultRedeemed,
    StateMismatch,
    TransactionUnknown,
)
from kraken_market.identity.verifier import LoginVerifier

PENDING, SIGNED_IN, REFUSED = "pending", "signed_in", "refused"
_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Created:
    transaction_id: str
    request_id: str
    request_uri: str
    wallet_url: str
    expires_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What a page learns of its request: ``pending``, ``expired``, ``refused`` (with
    the refusal's code and message) or ``signed_in`` (with the verified identity, as
    ``service.identity_record`` keeps it, once: the caller opens the session)."""

    status: str
    refusal: dict[str, str] | None = None
    identity: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Request:
    """What an answer is checked against, read before the (slow) checks so that no
    database lock is held meanwhile."""

    id: str
    flow: Flow
    act_for: str | None
    nonce: str
    state: str
    expires_at: datetime
    answered: bool


class SigninService:
    def __init__(
        self,
        session: Session,
        client: SigninClient,
        verifier: LoginVerifier,
        model: type[SigninRequestFields] = SigninRequest,
    ) -> None:
        """``model``: the table of requests (the marketplace's, or a Depute tool's)."""
        self.session = session
        self.client = client
        self.verifier = verifier
        self.model: Any = model

    def create(self, flow: Flow, act_for: str | None, now: datetime | None = None) -> Created:
        now = now or utcnow()
        self.session.execute(delete(self.model).where(self.model.expires_at < now - _KEEP))
        transaction_id = secrets.token_urlsafe(32)
        row = self.model(
            id=secrets.token_urlsafe(24),
            transaction_digest=digest(transaction_id),
            flow=flow.value,
            act_for=act_for,
            nonce=secrets.token_urlsafe(24),
            state=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + self.client.lifetime,
            outcome=PENDING,
        )
        self.session.add(row)
        self.session.commit()
        request_uri = self.client.request_uri(row.id)
        wallet_url = openid4vp.wallet_url(self.client.client_id, request_uri)
        return Created(transaction_id, row.id, request_uri, wallet_url, row.expires_at)

    def _row(self, request_id: str) -> SigninRequestFields:
        row: SigninRequestFields | None = None
        if len(request_id) <= 43:
            row = self.session.get(self.model, request_id)
        if row is None:
            raise RequestUnknown("no such sign-in request", details={"request_id": request_id})
        return row

    def request_object(self, request_id: str, now: datetime | None = None) -> str:
        """The signed Request Object (RFC 9101) of an open request."""
        now = now or utcnow()
        row = self._row(request_id)
        if row.answered_at is not None or row.expires_at <= now:
            reason = "answered" if row.answered_at is not None else "expired"
            raise RequestClosed(
                f"this sign-in request was {reason}; start a new sign-in",
                details={"reason": reason},
            )
        payload = openid4vp.request_payload(
            client_id=self.client.client_id,
            client_name=self.client.name,
            response_uri=self.client.request_uri(row.id) + "/response",
            nonce=row.nonce,
            state=row.state,
            act_for=row.act_for,
            issued=now,
            expires=row.expires_at,
        )
        return jose.sign(self.client.key, payload, openid4vp.REQUEST_TYP)

    def _open_request(self, request_id: str, state: str | None, now: datetime) -> _Request:
        row = self._row(request_id)
        request = _Request(
            row.id,
            Flow(row.flow),
            row.act_for,
            row.nonce,
            row.state,
            row.expires_at,
            row.answered_at is not None,
        )
        self.session.rollback()  # no lock while presentations are checked
        if state is None or not hmac.compare_digest(state.encode(), request.state.encode()):
            raise StateMismatch("the state does not match this sign-in request")
        if request.answered:
            raise RequestAnswered("this sign-in request was answered already")
        if request.expires_at <= now:
            raise RequestExpired("this sign-in request has expired; start a new sign-in")
        return request

    def answer(
        self,
        request_id: str,
        *,
        state: str | None,
        vp_token: object,
        error: str | None = None,
        now: datetime | None = None,
    ) -> str | None:
        """Check a wallet's Authorization Response; the redirect URI for a same-device
        answer (None for cross-device). Refusals raise, with the request used up once
        the presentations themselves were sound."""
        now = now or utcnow()
        request = self._open_request(request_id, state, now)
        if error is not None:  # the wallet declined (OpenID4VP §8.5): tell the page
            self._claim(request.id, now)
            self._refuse(request.id, "wallet_declined", f"the wallet declined ({error[:100]})")
            return None
        opened = open_answer(
            self.verifier,
            client_id=self.client.client_id,
            nonce=request.nonce,
            act_for=request.act_for,
            vp_token=vp_token,
            now=now,
        )
        self._claim(request.id, now)
        try:
            identity = verify_answer(self.verifier, opened, request.act_for, now)
        except KrakenError as exc:
            self._refuse(request.id, exc.code, exc.message)
            raise
        row = self._row(request.id)
        row.outcome, row.identity = SIGNED_IN, identity_record(identity)
        if request.flow is not Flow.SAME_DEVICE:
            self.session.commit()
            return None
        code = secrets.token_urlsafe(32)
        row.response_code_digest = digest(code)
        self.session.commit()
        return self.client.complete_url(code)

    def _claim(self, request_id: str, now: datetime) -> None:
        """Mark the request answered, atomically: of two answers racing, one wins."""
        claimed = self.session.execute(
            update(self.model)
            .where(self.model.id == request_id, self.model.answered_at.is_(None))
            .values(answered_at=now)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            self.session.rollback()
            raise RequestAnswered("this sign-in request was answered already")
        self.session.commit()

    def _refuse(self, request_id: str, code: str, message: str) -> None:
        """Keep why an answer was refused, for the page to say."""
        row = self._row(request_id)
        row.outcome, row.refusal = REFUSED, {"code": code, "message": message}
        self.session.commit()

    def result(
        self, transaction_id: str, response_code: str | None, now: datetime | None = None
    ) -> Outcome:
        """The outcome for the page holding ``transaction_id``; the identity only once."""
        now = now or utcnow()
        row = (
            self.session.query(self.model)
            .filter_by(transaction_digest=digest(transaction_id))
            .one_or_none()
        )
        if row is None:
            raise TransactionUnknown("no sign-in request has this transaction id")
        if row.outcome == REFUSED:
            return Outcome(REFUSED, refusal=dict(row.refusal or {}))
        if row.outcome == PENDING:
            return Outcome("expired" if row.expires_at <= now else PENDING)
        if row.flow == Flow.SAME_DEVICE.value and not (
            response_code is not None
            and row.response_code_digest is not None
            and hmac.compare_digest(digest(response_code), row.response_code_digest)
        ):
            raise ResponseCodeMismatch(
                "a same-device sign-in completes only with the response_code the wallet "
                "sent to this browser"
            )
        redeemed = self.session.execute(
            update(self.model)
            .where(self.model.id == row.id, self.model.redeemed_at.is_(None))
            .values(redeemed_at=now, identity=None)
            .execution_options(synchronize_session=False)
        )
        record = row.identity
        if getattr(redeemed, "rowcount", 0) != 1 or record is None:
            self.session.rollback()
            raise ResultRedeemed("this sign-in was completed already; start a new one")
        self.session.commit()
        return Outcome(SIGNED_IN, identity=dict(record))
