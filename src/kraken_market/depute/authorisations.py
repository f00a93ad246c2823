"""Authorisations: the AttorneyCredentials a company issues to its employees.

An authorisation is issued (issuer = the company's DID, subject = the
employee's DID, scope, roles, validity; a fresh entry on the company's
revocation list), recorded with the credential itself (so the employee can
download it again), listed, and revoked. Revoking flips the credential's
status bit in the issuer's state first, then records it in the database (a
crash in between is repaired at start-up by ``Publisher.reconcile``), then
publishes the list at once (``depute.publication``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kraken_market.depute.core import Depute
from kraken_market.depute.errors import AuthorisationNotFound
from kraken_market.depute.models import Authorisation
from kraken_market.depute.publication import Publication
from kraken_market.identity import credentials
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import check_did

Status = Literal["active", "revoked", "expired"]
ACTIVE, REVOKED, EXPIRED = "active", "revoked", "expired"


@dataclass(frozen=True)
class Grant:
    """What the representative grants: the attorney credential's claims and validity."""

    scope: list[str]
    roles: list[str] = field(default_factory=list)
    valid_days: int = 365
    name: str | None = None


def status_of(row: Authorisation, now: datetime) -> Status:
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.valid_until <= now else "active"


class Authorisations:
    def __init__(self, depute: Depute, session: Session) -> None:
        self.depute = depute
        self.session = session

    def _subject(self, employee: str, grant: Grant) -> dict[str, Any]:
        company: dict[str, Any] = {"id": self.depute.company}
        legal_name = self.depute.marketplace.legal_name(self.depute.company)
        if legal_name:
            company["legalName"] = legal_name
        subject: dict[str, Any] = {"id": employee, "company": company, "scope": grant.scope}
        if grant.roles:
            subject["roles"] = grant.roles
        return subject

    def issue(self, employee: str, grant: Grant, *, by: str, via: str) -> Authorisation:
        """Issue the employee's AttorneyCredential (the company must be identified now)."""
        check_did(employee)
        self.depute.require_identified()
        subject = self._subject(employee, grant)
        issuer = self.depute.issuer
        with self.depute.lock:
            before = set(issuer.records)
            credential = issuer.issue(
                CredentialType.ATTORNEY,
                subject,
                registry_url=self.depute.marketplace.registry_url,
                valid_for=timedelta(days=grant.valid_days),
                valid_from=self.depute.now(),
            )
            (credential_id,) = set(issuer.records) - before
            record = issuer.records[credential_id]
        assert record.valid_until is not None  # issued with a validity period
        row = Authorisation(
            id=credential_id,
            employee_did=employee,
            name=grant.name,
            scope=grant.scope,
            roles=grant.roles,
            valid_from=credentials.parse_time(record.issued_at),
            valid_until=credentials.parse_time(record.valid_until),
            credential=credential,
            via=via,
            created_by=by,
            created_at=self.depute.now(),
        )
        self.session.add(row)
        self.session.commit()
        # The list must be at the registry before the marketplace can check the credential.
        self.depute.publisher.publish(force=True)
        return row

    def _where(self, statement: Select[Authorisation], status: Status) -> Any:
        now = self.depute.now()
        if status == ACTIVE:
            return statement.where(
                Authorisation.revoked_at.is_(None), Authorisation.valid_until > now
            )
        if status == EXPIRED:
            return statement.where(
                Authorisation.revoked_at.is_(None), Authorisation.valid_until <= now
            )
        return statement.where(Authorisation.revoked_at.is_not(None))

    def list(
        self, status: Status | None = None, employee: str | None = None
    ) -> list[Authorisation]:
        """Newest first; optionally only one status, or one employee's."""
        statement = select(Authorisation).order_by(
            Authorisation.created_at.desc(), Authorisation.id
        )
        if status is not None:
            statement = self._where(statement, status)
        if employee is not None:
            statement = statement.where(Authorisation.employee_did == employee)
        return list(self.session.scalars(statement))

    def get(self, authorisation_id: str) -> Authorisation:
        row = self.session.get(Authorisation, authorisation_id)
        if row is None:
            raise AuthorisationNotFound(
                f"this company issued no authorisation {authorisation_id!r}",
                details={"id": authorisation_id},
            )
        return row

    def revoke(self, authorisation_id: str, *, by: str) -> tuple[Authorisation, Publication]:
        """Revoke (idempotent: revoking again changes nothing) and publish the list now."""
        row = self.get(authorisation_id)
        if row.revoked_at is None:
            with self.depute.lock:
                self.depute.issuer.revoke(row.id)
                now = self.depute.now()
                row.revoked_at, row.revoked_by = now, by
                self.depute.publisher.mark_pending(self.session, now)
                self.session.commit()
        else:
            self.session.rollback()  # end the transaction: the publisher takes the write lock
        publication = self.depute.publisher.publish(force=True)
        self.session.refresh(row)
        return row, publication
