"""Identity: login nonces, sessions, hosted status lists, DID-account bindings;
the interim accounts and bearer tokens are dropped (sessions replace them).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kraken_market.db.base import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

DID = sa.String(length=2048)


def upgrade() -> None:
    op.create_table(
        "auth_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_auth_nonces")),
    )
    op.create_index(op.f("ix_auth_nonces_expires_at"), "auth_nonces", ["expires_at"])
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("refresh_digest", sa.String(length=64), nullable=False),
        sa.Column("did", DID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company", DID, nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("buyer_categories", sa.JSON(), nullable=False),
        sa.Column("company_scope", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("refresh_expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_auth_sessions_token_digest")),
        sa.UniqueConstraint("refresh_digest", name=op.f("uq_auth_sessions_refresh_digest")),
    )
    op.create_index(op.f("ix_auth_sessions_did"), "auth_sessions", ["did"])
    op.create_index(
        op.f("ix_auth_sessions_refresh_expires_at"), "auth_sessions", ["refresh_expires_at"]
    )
    op.create_table(
        "status_lists",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("issuer", DID, nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("revoked_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
    )
    op.create_index(op.f("ix_status_lists_issuer"), "status_lists", ["issuer"])
    op.create_table(
        "did_bindings",
        sa.Column("did", DID, nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("binding", sa.Text(), nullable=False),
        sa.Column("account_signature", sa.String(length=132), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_did_bindings")),
    )
    op.create_index(op.f("ix_did_bindings_account"), "did_bindings", ["account"])
    op.drop_table("access_tokens")
    op.drop_table("accounts")


def downgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "access_tokens",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_access_tokens_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_access_tokens")),
    )
    op.create_index(op.f("ix_access_tokens_account_id"), "access_tokens", ["account_id"])
    for table in ("did_bindings", "status_lists", "auth_sessions", "auth_nonces"):
        op.drop_table(table)
