"""Streams: the embedded relay's frames (ciphertext with a clear header), bounded retention.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kraken_market.db.base import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_frames",
        sa.Column("product_id", sa.String(length=66), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("sent_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("stored_at", UtcDateTime(), nullable=False),
        sa.Column("frame", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", "seq", name=op.f("pk_stream_frames")),
    )
    op.create_index(op.f("ix_stream_frames_stored_at"), "stream_frames", ["stored_at"])
    op.create_index("ix_stream_frames_product_sent", "stream_frames", ["product_id", "sent_at_ms"])


def downgrade() -> None:
    op.drop_table("stream_frames")
