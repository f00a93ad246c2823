"""Signatures asked of a wallet (``identity.wallet_requests``).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kraken_market.db.base import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_requests",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("transaction_digest", sa.String(length=64), nullable=False),
        sa.Column("did", sa.String(length=2048), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=43), nullable=False),
        sa.Column("state", sa.String(length=43), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("refusal", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_requests")),
        sa.UniqueConstraint(
            "transaction_digest", name=op.f("uq_wallet_requests_transaction_digest")
        ),
    )
    op.create_index(op.f("ix_wallet_requests_expires_at"), "wallet_requests", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_wallet_requests_expires_at"), table_name="wallet_requests")
    op.drop_table("wallet_requests")
