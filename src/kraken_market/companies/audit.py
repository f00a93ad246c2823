"""The audit log of the register: one row per change, kept after a company is deleted.

A row holds who (the actor's DID), what (the action), when, the company's
version after the change, and each changed field as ``{"from": x, "to": y}``
(a creation changes every field from null, a deletion every field to null).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kraken_market.companies.models import Company, CompanyAudit
from kraken_market.companies.schemas import AuditEntry, FieldChange
from kraken_market.companies.vocabulary import AuditAction
from kraken_market.identity.principal import Principal

TRACKED = (
    "legal_name",
    "registration_number",
    "lei",
    "country",
    "representative_did",
    "depute_url",
    "status",
    "level_of_assurance",
)
"""The fields an audit row compares (the DID is the row's key; version and times follow)."""


def snapshot(company: Company) -> dict[str, Any]:
    return {name: getattr(company, name) for name in TRACKED}


def record(
    session: Session,
    company: Company,
    action: AuditAction,
    actor: Principal,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    reason: str | None,
    at: datetime,
) -> None:
    """Add the audit row of one change (committed with the change itself)."""
    changes = {
        name: {"from": before.get(name), "to": after.get(name)}
        for name in TRACKED
        if before.get(name) != after.get(name)
    }
    session.add(
        CompanyAudit(
            company_did=company.did,
            action=action.value,
            # Interim token accounts carry no DID; their account id stands in.
            actor=actor.did or actor.account,
            at=at,
            version=company.version,
            changes=changes,
            reason=reason,
        )
    )


def entries(session: Session, did: str) -> list[CompanyAudit]:
    """Every audit row of ``did``, oldest first."""
    statement = select(CompanyAudit).where(CompanyAudit.company_did == did)
    return list(session.scalars(statement.order_by(CompanyAudit.id)))


def entry(row: CompanyAudit) -> AuditEntry:
    """The API view of an audit row."""
    return AuditEntry(
        did=row.company_did,
        action=AuditAction(row.action),
        actor=row.actor,
        at=row.at,
        version=row.version,
        changes={name: FieldChange.model_validate(c) for name, c in row.changes.items()},
        reason=row.reason,
    )
