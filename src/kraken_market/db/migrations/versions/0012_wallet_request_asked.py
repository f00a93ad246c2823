"""What a wallet request asks to sign (a transaction's fields, a message's text).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wallet_requests") as batch:
        batch.add_column(sa.Column("asked", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wallet_requests") as batch:
        batch.drop_column("asked")
