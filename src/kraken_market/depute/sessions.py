"""Who may use the Depute tool: the company's representative, by presentation.

Login follows the marketplace's protocol (a one-time nonce, a ``vp+jwt``
bound to it and to this tool's URL alone, a PersonCredential from an issuer
the marketplace trusts, every credential's status checked now). KCIT then
answers whether the presenter is the company's representative (a yes/no
question, ``depute.marketplace``): the presentation is never relayed, so
this tool cannot log in anywhere as the representative. The company must be
identified. A session is a random token (cookie for pages, bearer for the
API) stored as its SHA-256 and short-lived: the representative's standing in
KCIT is read at login only.

Employees authenticate per request with a presentation to this tool only
(a local nonce), to download the credentials issued to them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kraken_market.depute.core import Depute
from kraken_market.depute.errors import NotRepresentative
from kraken_market.depute.models import Challenge, WebSession
from kraken_market.identity.errors import NonceReused, NonceUnknown, SessionInvalid
from kraken_market.identity.service import digest
from kraken_market.identity.verifier import Identity

SESSION_PREFIX = "kdp_"
LOGIN, EMPLOYEE = "login", "employee"


@dataclass(frozen=True)
class Issued:
    nonce: str
    audience: str
    expires_at: datetime


@dataclass(frozen=True)
class Opened:
    token: str
    session: WebSession


class Sessions:
    def __init__(self, depute: Depute, session: Session) -> None:
        self.depute = depute
        self.session = session

    def _challenge(self, nonce: str, purpose: str, expires: datetime) -> None:
        now = self.depute.now()
        # Spent and expired nonces are kept a day (a replay then says "reused"), then go.
        self.session.execute(
            delete(Challenge).where(Challenge.expires_at < now - timedelta(days=1))
        )
        self.session.add(
            Challenge(nonce=nonce, purpose=purpose, created_at=now, expires_at=expires)
        )
        self.session.commit()

    def login_challenge(self) -> Issued:
        """A nonce for the representative's presentation to this tool alone."""
        nonce = secrets.token_urlsafe(24)
        expires = self.depute.now() + self.depute.config.challenge_lifetime
        self._challenge(nonce, LOGIN, expires)
        return Issued(nonce, self.depute.config.audience, expires)

    def employee_challenge(self) -> Issued:
        """A nonce for a presentation to this tool alone (not relayable anywhere)."""
        nonce = secrets.token_urlsafe(24)
        expires = self.depute.now() + self.depute.config.challenge_lifetime
        self._challenge(nonce, EMPLOYEE, expires)
        return Issued(nonce, self.depute.config.audience, expires)

    def consume(self, nonce: str, purpose: str) -> None:
        """Use ``nonce`` up, atomically, and commit at once (a failed login still used it)."""
        if len(nonce) > 64:
            raise NonceUnknown("this nonce was not issued by this Depute tool")
        now = self.depute.now()
        used = self.session.execute(
            update(Challenge)
            .where(
                Challenge.nonce == nonce,
                Challenge.purpose == purpose,
                Challenge.used_at.is_(None),
                Challenge.expires_at > now,
            )
            .values(used_at=now)
        )
        if getattr(used, "rowcount", 0) == 1:
            self.session.commit()
            return
        row = self.session.get(Challenge, nonce)
        if row is not None and row.used_at is not None:
            raise NonceReused("this nonce was used already; ask for a new challenge")
        raise NonceUnknown(
            "this nonce was not issued by this Depute tool for this purpose, or has expired; "
            "ask for a new challenge"
        )

    def _identify(self, presentation: str, purpose: str) -> Identity:
        return self.depute.verifier().verify(
            presentation,
            now=self.depute.now(),
            consume_nonce=lambda nonce: self.consume(nonce, purpose),
        )

    def login(self, presentation: str) -> Opened:
        """Open a session for the company's representative."""
        identity = self._identify(presentation, LOGIN)
        return self.open_representative(identity.did, identity.name)

    def open_representative(self, did: str, name: str) -> Opened:
        """A session for ``did``, proven by a presentation (a login, or a wallet's
        answer to this tool's sign-in request), if KCIT names them the representative."""
        self.depute.require_identified()
        company = self.depute.company
        if not self.depute.marketplace.is_representative(self.depute.issuer.key, did):
            raise NotRepresentative(
                f"{did} is not the representative of {company} in KCIT",
                details={"did": did, "company": company},
            )
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = self.depute.now()
        row = WebSession(
            token_digest=digest(token),
            did=did,
            name=name,
            created_at=now,
            expires_at=now + self.depute.config.session_lifetime,
        )
        self.session.add(row)
        self.session.commit()
        return Opened(token, row)

    def authenticate(self, token: str) -> WebSession:
        row = self.session.scalar(
            select(WebSession).where(WebSession.token_digest == digest(token))
        )
        if row is None or row.ended_at is not None or row.expires_at <= self.depute.now():
            raise SessionInvalid(
                "no valid Depute session: log in with a presentation (POST /api/auth/login)"
            )
        return row

    def logout(self, row: WebSession) -> None:
        row.ended_at = self.depute.now()
        self.session.commit()

    def identify_employee(self, presentation: str) -> Identity:
        """Who presents (their DID proven by the presentation's signature)."""
        return self._identify(presentation, EMPLOYEE)
