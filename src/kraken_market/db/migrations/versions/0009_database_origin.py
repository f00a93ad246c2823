"""The chain and deployment a marketplace database was set up with.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kraken_market.db.base import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "database_origin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("genesis_hash", sa.String(length=66), nullable=False),
        sa.Column("market", sa.String(length=42), nullable=False),
        sa.Column("data_dir", sa.String(length=1000), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_origin")),
    )


def downgrade() -> None:
    op.drop_table("database_origin")
