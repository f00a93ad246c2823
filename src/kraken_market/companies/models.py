"""KCIT tables.

``companies.seq`` is the internal key that orders listings and pagination
cursors; the public key is the company's DID. ``company_audit`` has no foreign
key to ``companies`` on purpose: the audit of a deleted company must stay.
DID columns hold up to :data:`~kraken_market.identity.dids.MAX_DID_LENGTH`
characters, which still fits a PostgreSQL b-tree index entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kraken_market.db.base import Base, UtcDateTime

DID = String(2048)


class Company(Base):
    __tablename__ = "companies"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    did: Mapped[str] = mapped_column(DID, unique=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    registration_number: Mapped[str | None] = mapped_column(String(64))
    lei: Mapped[str | None] = mapped_column(String(20), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    representative_did: Mapped[str] = mapped_column(DID)
    status: Mapped[str] = mapped_column(String(16))
    depute_url: Mapped[str | None] = mapped_column(String(300), default=None)
    """The company's Depute tool, set by the company itself with its account binding:
    where its employees' chain requests go (it holds the company's ledger account)."""
    level_of_assurance: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_companies_status_seq", "status", "seq"),)


class CompanyAudit(Base):
    """One change to the register: who (actor DID), what (action), when, and each
    changed field's value before and after (``{"field": {"from": x, "to": y}}``)."""

    __tablename__ = "company_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    company_did: Mapped[str] = mapped_column(DID)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(DID)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_company_audit_company_did_id", "company_did", "id"),)
