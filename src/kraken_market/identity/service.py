"""Marketplace login with verifiable presentations, and the sessions it opens.

``challenge`` hands out a one-time nonce; ``login`` verifies a presentation
bound to it (``identity.verifier``) and opens a session: a short-lived session
token plus a refresh token, both returned once and stored only as digests.
Every authenticated request resolves its session token (``authenticate``);
sensitive actions (publish, buy, grant, rule) call ``recheck``, which reads
the status of every credential behind the session again, so a revocation
takes effect at the next such request (and ends the session). Refresh tokens
rotate: each works once (OAuth 2.0 Security BCP, RFC 9700 §4.14) and refreshing
re-checks the credentials too.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from kraken_market.db.base import utcnow
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.credentials import VerifiedCredential
from kraken_market.identity.errors import (
    CredentialExpired,
    CredentialRevoked,
    NonceReused,
    NonceUnknown,
    SessionEnded,
    SessionInvalid,
    SessionNotFound,
)
from kraken_market.identity.models import AuthNonce, AuthSession
from kraken_market.identity.principal import Principal
from kraken_market.identity.status_list import StatusEntry
from kraken_market.identity.verifier import Identity, LoginVerifier
from kraken_market.types import AccountRef

CLOCK_SKEW = timedelta(seconds=60)
_KEEP = timedelta(days=1)
SESSION_PREFIX = "kms_"
REFRESH_PREFIX = "kmr_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Challenge:
    nonce: str
    audience: str
    expires_at: datetime


@dataclass(frozen=True)
class Opened:
    """A new session; the tokens are shown once."""

    session: AuthSession
    session_token: str
    refresh_token: str


@dataclass(frozen=True)
class Lifetimes:
    session: timedelta
    refresh: timedelta
    nonce: timedelta


def principal_of(row: AuthSession) -> Principal:
    return Principal(
        account=AccountRef(row.company or row.did),
        name=row.name,
        did=row.did,
        roles=frozenset(row.roles),
        company=row.company,
        session=row.id,
        scope=frozenset(row.company_scope),
    )


def _credential_record(credential: VerifiedCredential) -> dict[str, Any]:
    status = credential.status
    until = credential.valid_until
    return {
        "id": credential.id,
        "type": credential.type.value,
        "issuer": credential.issuer,
        "status": status.to_json() if status else None,
        "valid_until": until.isoformat() if until else None,
        "country": credential.subject.get("country"),  # PersonCredential; for eligibility
    }


def identity_record(identity: Identity) -> dict[str, Any]:
    """What a session keeps of a verified identity (JSON: it may wait in a sign-in
    request's row before the session opens)."""
    return {
        "did": identity.did,
        "name": identity.name,
        "company": identity.company,
        "roles": sorted(identity.roles),
        "buyer_categories": sorted(identity.buyer_categories),
        "company_scope": sorted(identity.company_scope),
        "credentials": [_credential_record(c) for c in identity.credentials],
    }


def _ended(row: AuthSession) -> None:
    """Refuse a session the marketplace ended itself, saying why (the page tells the
    person: their credential was revoked or expired); a logout is no news."""
    reason = row.revoked_reason
    if row.revoked_at is not None and reason not in (None, "logout"):
        raise SessionEnded(
            f"this session was ended: a credential behind it failed its check ({reason}); "
            "sign in again with valid credentials",
            details={"reason": reason},
        )


class AuthService:
    def __init__(self, session: Session, verifier: LoginVerifier, lifetimes: Lifetimes) -> None:
        self.session = session
        self.verifier = verifier
        self.lifetimes = lifetimes

    def challenge(self, now: datetime | None = None) -> Challenge:
        now = now or utcnow()
        nonce = secrets.token_urlsafe(24)
        expires = now + self.lifetimes.nonce
        # Nonces and sessions long past use go here (indexed deletes): a replay within a
        # day still says "reused", and the tables do not grow with every challenge.
        self.session.execute(delete(AuthNonce).where(AuthNonce.expires_at < now - _KEEP))
        self.session.execute(
            delete(AuthSession).where(AuthSession.refresh_expires_at < now - _KEEP)
        )
        self.session.add(AuthNonce(nonce=nonce, created_at=now, expires_at=expires))
        self.session.commit()
        return Challenge(nonce, self.verifier.audience, expires)

    def consume_nonce(self, nonce: str, now: datetime) -> None:
        """Mark ``nonce`` used, atomically (of two logins racing with it, one wins), and
        commit at once: a login that fails later has still used its nonce up."""
        if len(nonce) > 64:
            raise NonceUnknown("this nonce was not issued by this marketplace")
        used = self.session.execute(
            update(AuthNonce)
            .where(
                AuthNonce.nonce == nonce, AuthNonce.used_at.is_(None), AuthNonce.expires_at > now
            )
            .values(used_at=now)
        )
        if getattr(used, "rowcount", 0) == 1:
            self.session.commit()
            return
        row = self.session.get(AuthNonce, nonce)
        if row is not None and row.used_at is not None:
            raise NonceReused("this nonce was used already; ask for a new challenge")
        raise NonceUnknown(
            "this nonce was not issued by this marketplace or has expired; "
            "ask POST /api/v1/auth/challenge for a new one"
        )

    def login(self, presentation: str, act_for: str | None = None) -> Opened:
        now = utcnow()
        identity = self.verifier.verify(
            presentation,
            now=now,
            consume_nonce=lambda nonce: self.consume_nonce(nonce, now),
            act_for=act_for,
        )
        return self._open(identity, now)

    def _open(self, identity: Identity, now: datetime) -> Opened:
        return self.open(identity_record(identity), now)

    def open(self, record: dict[str, Any], now: datetime) -> Opened:
        """A session for a verified identity as ``identity_record`` keeps it (a sign-in
        request holds one until its page redeems it: ``identity.signin``)."""
        session_token = SESSION_PREFIX + secrets.token_urlsafe(32)
        refresh_token = REFRESH_PREFIX + secrets.token_urlsafe(32)
        row = AuthSession(
            id=secrets.token_hex(16),
            token_digest=digest(session_token),
            refresh_digest=digest(refresh_token),
            created_at=now,
            expires_at=now + self.lifetimes.session,
            refresh_expires_at=now + self.lifetimes.refresh,
            **record,
        )
        self.session.add(row)
        self.session.commit()
        return Opened(row, session_token, refresh_token)

    def authenticate(self, token: str, now: datetime | None = None) -> AuthSession:
        now = now or utcnow()
        row = self.session.query(AuthSession).filter_by(token_digest=digest(token)).one_or_none()
        if row is not None:
            _ended(row)
        if row is None or row.revoked_at is not None or row.expires_at <= now:
            raise SessionInvalid(
                "the session token is unknown, expired or logged out; "
                "refresh it or log in again (kraken-market login)"
            )
        return row

    def recheck(self, session_id: str) -> AuthSession:
        """Re-check every credential behind a session now (raises ``CredentialRevoked``,
        ``CompanyNotIdentified``, ``StatusUnavailable``); reads only."""
        row = self.session.get(AuthSession, session_id)
        if row is None or row.revoked_at is not None:
            raise SessionInvalid("the session has ended; log in again")
        records = [dict(record) for record in row.credentials]
        # Give the connection back before the checks, which take their own (status
        # lists, KCIT): holding two per request can exhaust the pool under load.
        self.session.rollback()
        now = utcnow()
        for record in records:
            until = record.get("valid_until")
            if until and now - datetime.fromisoformat(until) > CLOCK_SKEW:
                raise CredentialExpired(
                    f"the {record['type']} behind this session expired at {until}; "
                    "log in again with a valid one",
                    details={"validUntil": until},
                )
            if record["type"] == CredentialType.ATTORNEY.value:
                self.verifier.trust.check_company(record["issuer"])
            if record["status"]:
                entry = StatusEntry.from_json(record["status"])
                self.verifier.status.check(entry, record["issuer"], record["type"])
        return row

    def refresh(self, refresh_token: str) -> Opened:
        now = utcnow()
        row = (
            self.session.query(AuthSession)
            .filter_by(refresh_digest=digest(refresh_token))
            .one_or_none()
        )
        if row is not None:
            _ended(row)
        if row is None or row.revoked_at is not None or row.refresh_expires_at <= now:
            raise SessionInvalid("the refresh token is unknown, expired or already used")
        try:
            self.recheck(row.id)
        except (CredentialRevoked, CredentialExpired) as exc:
            self.end(row.id, exc.code)
            raise
        # The re-check released the transaction: read the row again (under the write
        # lock) so that of two refreshes racing with one token, only one rotates it.
        row = self.session.get(AuthSession, row.id, populate_existing=True)
        if row is None or row.refresh_digest != digest(refresh_token) or row.revoked_at:
            raise SessionInvalid("the refresh token is unknown, expired or already used")
        session_token = SESSION_PREFIX + secrets.token_urlsafe(32)
        new_refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
        row.token_digest = digest(session_token)
        row.refresh_digest = digest(new_refresh)
        row.expires_at = now + self.lifetimes.session
        self.session.commit()
        return Opened(row, session_token, new_refresh)

    def sessions_of(self, did: str, now: datetime | None = None) -> list[AuthSession]:
        """``did``'s sessions that can still be used or refreshed, newest first."""
        now = now or utcnow()
        return list(
            self.session.query(AuthSession)
            .filter(
                AuthSession.did == did,
                AuthSession.revoked_at.is_(None),
                AuthSession.refresh_expires_at > now,
            )
            .order_by(AuthSession.created_at.desc())
            .limit(100)
        )

    def end_own(self, did: str, session_id: str) -> None:
        """End one of ``did``'s own sessions (signing out a lost phone, say)."""
        row = self.session.get(AuthSession, session_id) if len(session_id) <= 32 else None
        if row is None or row.did != did:
            raise SessionNotFound("you have no such session", details={"session_id": session_id})
        self.end(session_id, "ended_by_owner")

    def end(self, session_id: str, reason: str = "logout") -> None:
        """End a session (logout, or a credential behind it was revoked)."""
        row = self.session.get(AuthSession, session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            row.revoked_reason = reason
            self.session.commit()
