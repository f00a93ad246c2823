"""Trade: computation jobs forwarded to the nodes on payment; claim evidence; the
registered publisher account of each product.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kraken_market.db.base import Uint256, UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HASH = sa.String(length=66)
DID = sa.String(length=2048)


def upgrade() -> None:
    op.create_table(
        "computation_jobs",
        sa.Column("request_id", HASH, nullable=False),
        sa.Column("buyer", DID, nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("job", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("nodes", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("forwarded_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_computation_jobs")),
    )
    op.create_index(op.f("ix_computation_jobs_account"), "computation_jobs", ["account"])
    op.create_index(op.f("ix_computation_jobs_state"), "computation_jobs", ["state"])
    op.create_table(
        "claim_evidence",
        sa.Column("evidence_hash", HASH, nullable=False),
        sa.Column("purchase_id", Uint256(), nullable=False),
        sa.Column("product_id", HASH, nullable=False),
        sa.Column("claimant", DID, nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("evidence_hash", name=op.f("pk_claim_evidence")),
    )
    op.create_index(op.f("ix_claim_evidence_purchase_id"), "claim_evidence", ["purchase_id"])
    op.create_table(
        "product_publishers",
        sa.Column("product_id", HASH, nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("did", DID, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_publishers")),
    )


def downgrade() -> None:
    op.drop_table("product_publishers")
    op.drop_table("claim_evidence")
    op.drop_table("computation_jobs")
