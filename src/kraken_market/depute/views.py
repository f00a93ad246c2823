"""From rows and results to API shapes (shared by the JSON API and the pages)."""

from __future__ import annotations

from datetime import datetime

from kraken_market.depute.authorisations import status_of
from kraken_market.depute.invitations import invitation_state
from kraken_market.depute.models import Authorisation, Invitation
from kraken_market.depute.publication import Publication
from kraken_market.depute.schemas import (
    AuthorisationPublic,
    EmployeeCredential,
    InvitationPublic,
    PublicationPublic,
)


def authorisation_public(row: Authorisation, now: datetime) -> AuthorisationPublic:
    revocation = None
    if row.revoked_at is not None:
        revocation = "published" if row.revocation_published_at is not None else "pending"
    return AuthorisationPublic(
        id=row.id,
        employee_did=row.employee_did,
        name=row.name,
        scope=row.scope,
        roles=row.roles,
        status=status_of(row, now),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        via=row.via,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        revocation=revocation,
    )


def employee_credential(row: Authorisation, now: datetime) -> EmployeeCredential:
    return EmployeeCredential(
        id=row.id,
        status=status_of(row, now),
        scope=row.scope,
        valid_until=row.valid_until,
        credential=row.credential,
    )


def invitation_public(row: Invitation, now: datetime) -> InvitationPublic:
    state = invitation_state(row, now)
    return InvitationPublic(
        id=row.id,
        employee_did=row.employee_did,
        name=row.name,
        scope=row.scope,
        roles=row.roles,
        valid_days=row.valid_days,
        state="used" if state == "used" else "expired" if state == "expired" else "open",
        expires_at=row.expires_at,
        used_by=row.used_by,
        authorisation_id=row.authorisation_id,
    )


def publication_public(publication: Publication) -> PublicationPublic:
    return PublicationPublic(
        status=publication.status,
        message=publication.message,
        list_url=publication.list_url,
        published_at=publication.published_at,
        pending_since=publication.pending_since,
        last_attempt_at=publication.last_attempt_at,
        last_error=publication.last_error,
    )
