"""Invitations: a one-time link (and its QR code) through which an employee's wallet
becomes authorised.

The link carries a random secret; only its SHA-256 is stored. The wallet
fetches the offer (``GET /api/invitations/{secret}``), then POSTs a
presentation of its PersonCredential whose ``nonce`` is the secret and whose
audience is this tool: that proves control of the DID the credential is
issued to, and binds the proof to this one invitation. The invitation is
claimed atomically *after* the presentation has been verified (a failed
attempt, say with somebody else's credential, does not burn it) and *before*
the credential is issued (two wallets racing: one wins, the other gets
``invitation_used``). An invitation may name the employee's DID; then no one
else can accept it.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from datetime import datetime, timedelta

import segno
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kraken_market.depute.authorisations import Authorisations, Grant
from kraken_market.depute.config import INVITATION_PATH
from kraken_market.depute.core import Depute
from kraken_market.depute.errors import (
    InvitationExpired,
    InvitationNotForYou,
    InvitationNotFound,
    InvitationUsed,
)
from kraken_market.depute.models import Authorisation, Invitation
from kraken_market.identity.dids import check_did
from kraken_market.identity.errors import NonceUnknown


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invitation_state(row: Invitation, now: datetime) -> str:
    if row.used_at is not None:
        return "used"
    return "expired" if row.expires_at <= now else "open"


def qr_svg(url: str, title: str = "invitation") -> str:
    """The link as an SVG QR code (ISO/IEC 18004, error correction M), for a phone."""
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(buffer, kind="svg", scale=4, border=2, title=title)
    return buffer.getvalue().decode()


class Invitations:
    def __init__(self, depute: Depute, session: Session) -> None:
        self.depute = depute
        self.session = session

    def url_of(self, secret: str) -> str:
        return self.depute.config.audience + INVITATION_PATH + secret

    def create(
        self,
        grant: Grant,
        *,
        by: str,
        employee: str | None = None,
        expires_in: timedelta | None = None,
    ) -> tuple[Invitation, str]:
        """A new invitation and its secret (shown once: only its digest is kept)."""
        if employee is not None:
            check_did(employee)
        self.depute.require_identified()
        secret = secrets.token_urlsafe(24)
        now = self.depute.now()
        row = Invitation(
            id="inv_" + secrets.token_hex(8),
            secret_digest=digest(secret),
            employee_did=employee,
            name=grant.name,
            scope=grant.scope,
            roles=grant.roles,
            valid_days=grant.valid_days,
            created_by=by,
            created_at=now,
            expires_at=now + (expires_in or self.depute.config.invitation_lifetime),
        )
        self.session.add(row)
        self.session.commit()
        return row, secret

    def list(self) -> list[Invitation]:
        return list(self.session.scalars(select(Invitation).order_by(Invitation.created_at.desc())))

    def find(self, secret: str) -> Invitation:
        row = self.session.scalar(
            select(Invitation).where(Invitation.secret_digest == digest(secret))
        )
        if row is None:
            raise InvitationNotFound("no such invitation: check the link")
        return row

    def open(self, secret: str) -> Invitation:
        """The invitation, if it can still be accepted."""
        row = self.find(secret)
        state = invitation_state(row, self.depute.now())
        if state == "used":
            raise InvitationUsed(
                "this invitation has been accepted already; ask for a new one",
                details={"invitation": row.id},
            )
        if state == "expired":
            raise InvitationExpired(
                f"this invitation expired at {row.expires_at.isoformat()}; ask for a new one",
                details={"invitation": row.id, "expires_at": row.expires_at.isoformat()},
            )
        return row

    def _claim(self, row: Invitation, did: str) -> None:
        now = self.depute.now()
        claimed = self.session.execute(
            update(Invitation)
            .where(
                Invitation.id == row.id, Invitation.used_at.is_(None), Invitation.expires_at > now
            )
            .values(used_at=now, used_by=did)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            self.session.rollback()
            raise InvitationUsed(
                "this invitation has just been accepted by someone else",
                details={"invitation": row.id},
            )
        self.session.commit()

    def accept(self, secret: str, presentation: str) -> Authorisation:
        """Authorise the presenter; the AttorneyCredential is in the returned row."""
        row = self.open(secret)
        self.session.commit()  # hold no database lock while the marketplace is asked

        def same_nonce(nonce: str) -> None:
            if not hmac.compare_digest(nonce.encode(), secret.encode()):
                raise NonceUnknown("sign the presentation with the invitation's nonce")

        identity = self.depute.verifier().verify(
            presentation, now=self.depute.now(), consume_nonce=same_nonce
        )
        if row.employee_did is not None and identity.did != row.employee_did:
            raise InvitationNotForYou(
                "this invitation is addressed to another DID",
                details={"invitation": row.id, "did": identity.did},
            )
        self.depute.require_identified()  # before the claim: a refusal must not burn it
        self._claim(row, identity.did)
        grant = Grant(row.scope, row.roles, row.valid_days, row.name or identity.name)
        authorisations = Authorisations(self.depute, self.session)
        issued = authorisations.issue(identity.did, grant, by=row.created_by, via="invitation")
        row.authorisation_id = issued.id
        self.session.commit()
        return issued
