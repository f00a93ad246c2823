"""KCIT: the register of companies and its audit log.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kraken_market.db.base import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("did", sa.String(length=2048), nullable=False),
        sa.Column("legal_name", sa.String(length=300), nullable=False),
        sa.Column("registration_number", sa.String(length=64), nullable=True),
        sa.Column("lei", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("representative_did", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("level_of_assurance", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_companies")),
        sa.UniqueConstraint("did", name=op.f("uq_companies_did")),
        sa.UniqueConstraint("lei", name=op.f("uq_companies_lei")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.create_index("ix_companies_status_seq", ["status", "seq"], unique=False)

    # No foreign key to companies: the audit of a deleted company stays.
    op.create_table(
        "company_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company_did", sa.String(length=2048), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=2048), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_audit")),
    )
    with op.batch_alter_table("company_audit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_company_audit_company_did_id", ["company_did", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("company_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_company_audit_company_did_id")

    op.drop_table("company_audit")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index("ix_companies_status_seq")

    op.drop_table("companies")
