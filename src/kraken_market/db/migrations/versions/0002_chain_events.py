"""Indexer: contract events and the cursor of each deployment.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kraken_market.db.base import Uint256, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_cursor",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("market", sa.String(length=42), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("delivered_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "market", name=op.f("pk_chain_cursor")),
    )
    op.create_table(
        "chain_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_time", UtcDateTime(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("contract", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("item", sa.String(length=66), nullable=True),
        sa.Column("account", sa.String(length=42), nullable=True),
        sa.Column("purchase_id", Uint256(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_events")),
        sa.UniqueConstraint(
            "chain_id", "block_number", "log_index", name=op.f("uq_chain_events_chain_id")
        ),
    )
    with op.batch_alter_table("chain_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chain_events_account"), ["account"], unique=False)
        batch_op.create_index(batch_op.f("ix_chain_events_item"), ["item"], unique=False)
        batch_op.create_index("ix_chain_events_name_block", ["name", "block_number"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_chain_events_purchase_id"), ["purchase_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("chain_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_events_purchase_id"))
        batch_op.drop_index("ix_chain_events_name_block")
        batch_op.drop_index(batch_op.f("ix_chain_events_item"))
        batch_op.drop_index(batch_op.f("ix_chain_events_account"))

    op.drop_table("chain_events")
    op.drop_table("chain_cursor")
