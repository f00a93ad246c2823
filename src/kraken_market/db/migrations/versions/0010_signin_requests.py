"""Sign-in requests (OpenID for Verifiable Presentations 1.0, ``identity.signin``).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kraken_market.db.base import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_requests",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("transaction_digest", sa.String(length=64), nullable=False),
        sa.Column("flow", sa.String(length=16), nullable=False),
        sa.Column("act_for", sa.String(length=2048), nullable=True),
        sa.Column("nonce", sa.String(length=43), nullable=False),
        sa.Column("state", sa.String(length=43), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("refusal", sa.JSON(), nullable=True),
        sa.Column("identity", sa.JSON(), nullable=True),
        sa.Column("response_code_digest", sa.String(length=64), nullable=True),
        sa.Column("redeemed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signin_requests")),
        sa.UniqueConstraint(
            "transaction_digest", name=op.f("uq_signin_requests_transaction_digest")
        ),
    )
    op.create_index(op.f("ix_signin_requests_expires_at"), "signin_requests", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_signin_requests_expires_at"), table_name="signin_requests")
    op.drop_table("signin_requests")
