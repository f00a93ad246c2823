"""Signatures asked of a signed-in person's wallet (runs in the API).

Pages never hold a key: to bind the person's DID to their ledger account, a page
asks their wallet, in the same shape as sign-in (``identity.signin``, OpenID4VP 1.0
§13.3): the page creates a request and keeps its ``transaction_id``; a QR code or
link carries the public ``request_uri``; the wallet fetches the Request Object,
signed by the marketplace's verifier key, whose ``response_type`` is
``kraken_signature`` and whose ``signing_request`` claim says what to sign; the wallet
shows it in words, signs, and posts the signatures to the ``response_uri``
(``direct_post``); the page polls the outcome with its transaction id.

Only the person who asked can be answered for: a binding must name the DID of the
session that created the request. What is signed is self-authenticating (both keys
sign the binding: ``identity.binding``), so the transaction id guards only who learns
the outcome.
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
from kraken_market.identity import binding as bindings
from kraken_market.identity import jose, openid4vp
from kraken_market.identity.models import WalletRequest
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.service import digest
from kraken_market.identity.signin import Created
from kraken_market.identity.signin_errors import (
    RequestAnswered,
    RequestClosed,
    RequestExpired,
    RequestUnknown,
    StateMismatch,
    TransactionUnknown,
)

RESPONSE_TYPE = "kraken_signature"
PATH = "/api/v1/wallet-requests/"
BIND_ACCOUNT = "bind_account"
PENDING, DONE, REFUSED = "pending", "done", "refused"
_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Outcome:
    status: str
    kind: str
    result: dict[str, Any] | None = None
    refusal: dict[str, str] | None = None


class WalletRequests:
    def __init__(self, session: Session, platform: IdentityPlatform) -> None:
        self.session = session
        self.platform = platform
        self.client = platform.signin_client()

    def _uri(self, request_id: str) -> str:
        return f"{self.client.base_url}{PATH}{request_id}"

    def create(self, did: str, kind: str, now: datetime | None = None) -> Created:
        """A request for ``did``'s wallet to sign ``kind`` (only ``bind_account`` yet)."""
        now = now or utcnow()
        self.session.execute(delete(WalletRequest).where(WalletRequest.expires_at < now - _KEEP))
        transaction_id = secrets.token_urlsafe(32)
        row = WalletRequest(
            id=secrets.token_urlsafe(24),
            transaction_digest=digest(transaction_id),
            did=did,
            kind=kind,
            nonce=secrets.token_urlsafe(24),
            state=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + self.client.lifetime,
            outcome=PENDING,
        )
        self.session.add(row)
        self.session.commit()
        uri = self._uri(row.id)
        return Created(
            transaction_id,
            row.id,
            uri,
            openid4vp.wallet_url(self.client.client_id, uri),
            row.expires_at,
        )

    def _row(self, request_id: str) -> WalletRequest:
        row = self.session.get(WalletRequest, request_id) if len(request_id) <= 43 else None
        if row is None:
            raise RequestUnknown("no such wallet request", details={"request_id": request_id})
        return row

    def request_object(self, request_id: str, now: datetime | None = None) -> str:
        """The signed Request Object (RFC 9101) of an open request."""
        now = now or utcnow()
        row = self._row(request_id)
        if row.answered_at is not None or row.expires_at <= now:
            reason = "answered" if row.answered_at is not None else "expired"
            raise RequestClosed(
                f"this request was {reason}; ask again from the marketplace's page",
                details={"reason": reason},
            )
        payload = {
            "iss": self.client.client_id,
            "aud": openid4vp.STATIC_AUDIENCE,
            "client_id": self.client.client_id,
            "response_type": RESPONSE_TYPE,
            "response_mode": "direct_post",
            "response_uri": self._uri(row.id) + "/response",
            "nonce": row.nonce,
            "state": row.state,
            "client_metadata": openid4vp.client_metadata(self.client.name),
            "signing_request": {
                "kind": row.kind,
                "did": row.did,
                "audience": self.platform.base_url,
            },
            "iat": int(now.timestamp()),
            "exp": int(row.expires_at.timestamp()),
        }
        return jose.sign(self.client.key, payload, openid4vp.REQUEST_TYP)

    def answer(
        self,
        request_id: str,
        *,
        state: str | None,
        fields: dict[str, str],
        now: datetime | None = None,
    ) -> None:
        """Check the wallet's answer and carry it out (record the binding); a refusal is
        kept for the page and raised."""
        now = now or utcnow()
        row = self._row(request_id)
        did, expected_state = row.did, row.state
        if state is None or not hmac.compare_digest(state.encode(), expected_state.encode()):
            raise StateMismatch("the state does not match this request")
        if row.answered_at is not None:
            raise RequestAnswered("this request was answered already")
        if row.expires_at <= now:
            raise RequestExpired("this request has expired; ask again from the page")
        self._claim(row.id, now)
        if "error" in fields:
            self._settle(
                row.id,
                REFUSED,
                refusal={
                    "code": "wallet_declined",
                    "message": f"the wallet declined ({fields['error'][:100]})",
                },
            )
            return
        try:
            checked = self.platform.verify_binding(
                fields.get("binding", ""), fields.get("account_signature", "")
            )
            recorded = bindings.record(self.session, checked, did)
        except KrakenError as exc:
            self.session.rollback()
            self._settle(row.id, REFUSED, refusal={"code": exc.code, "message": exc.message})
            raise
        self._settle(row.id, DONE, result={"did": recorded.did, "account": recorded.account})

    def _claim(self, request_id: str, now: datetime) -> None:
        """Mark the request answered, atomically: of two answers racing, one wins."""
        claimed = self.session.execute(
            update(WalletRequest)
            .where(WalletRequest.id == request_id, WalletRequest.answered_at.is_(None))
            .values(answered_at=now)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            self.session.rollback()
            raise RequestAnswered("this request was answered already")
        self.session.commit()

    def _settle(
        self,
        request_id: str,
        outcome: str,
        *,
        result: dict[str, Any] | None = None,
        refusal: dict[str, str] | None = None,
    ) -> None:
        row = self._row(request_id)
        row.outcome, row.result, row.refusal = outcome, result, refusal
        self.session.commit()

    def outcome(self, transaction_id: str, now: datetime | None = None) -> Outcome:
        """What became of the request, for the page holding ``transaction_id``."""
        now = now or utcnow()
        row = (
            self.session.query(WalletRequest)
            .filter_by(transaction_digest=digest(transaction_id))
            .one_or_none()
        )
        if row is None:
            raise TransactionUnknown("no wallet request has this transaction id")
        if row.outcome == PENDING and row.expires_at <= now:
            return Outcome("expired", row.kind)
        return Outcome(row.outcome, row.kind, row.result, row.refusal)
