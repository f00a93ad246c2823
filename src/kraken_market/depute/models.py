"""Tables of the Depute tool's own SQLite database (``depute.db`` in its directory).

A declarative base of its own: these tables are not the marketplace's and must
never appear in its Alembic migrations. The schema is created with
``metadata.create_all`` (:func:`create_schema`); a change to it needs a
migration step here before the first deployment that depends on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Engine, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from kraken_market.db.base import NAMING, UtcDateTime
from kraken_market.identity.models import SigninRequestFields

Did = String(2048)


class DeputeBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Challenge(DeputeBase):
    """A one-time nonce handed out for a presentation (representative or employee)."""

    __tablename__ = "challenges"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class WebSession(DeputeBase):
    """A representative's session; only the token's SHA-256 is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    did: Mapped[str] = mapped_column(Did)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class SigninRequest(SigninRequestFields, DeputeBase):
    """A sign-in request of this tool, as its own OpenID4VP verifier (``depute.signin``)."""

    __tablename__ = "signin_requests"


class Authorisation(DeputeBase):
    """An AttorneyCredential the company issued: who, what for, until when, and
    whether its revocation has reached the marketplace's registry."""

    __tablename__ = "authorisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the credential's id
    employee_did: Mapped[str] = mapped_column(Did, index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    scope: Mapped[list[str]] = mapped_column(JSON)
    roles: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)
    credential: Mapped[str] = mapped_column(Text)
    via: Mapped[str] = mapped_column(String(16))  # "did" | "invitation"
    created_by: Mapped[str] = mapped_column(Did)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_by: Mapped[str | None] = mapped_column(Did, default=None)
    revocation_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class Invitation(DeputeBase):
    """A one-time link to become authorised; only the secret's SHA-256 is stored."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    employee_did: Mapped[str | None] = mapped_column(Did)  # None: whoever accepts first
    name: Mapped[str | None] = mapped_column(String(200))
    scope: Mapped[list[str]] = mapped_column(JSON)
    roles: Mapped[list[str]] = mapped_column(JSON)
    valid_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(Did)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    used_by: Mapped[str | None] = mapped_column(Did, default=None)
    authorisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("authorisations.id"), default=None
    )


class ListState(DeputeBase):
    """Whether the company's revocation list at the registry is up to date (one row).

    ``pending_since`` is set by every change the registry has not seen yet (and
    at creation: the list must exist there before any credential can be checked);
    only a successful PUT clears it.
    """

    __tablename__ = "list_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pending_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    version: Mapped[int] = mapped_column(Integer, default=0)


def create_schema(engine: Engine, now: datetime) -> None:
    """Create the tables (idempotent) and the list state row."""
    DeputeBase.metadata.create_all(engine)
    with Session(engine) as session:
        if session.get(ListState, 1) is None:
            session.add(ListState(id=1, pending_since=now))
            session.commit()
