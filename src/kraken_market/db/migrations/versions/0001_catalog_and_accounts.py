"""Catalog (products, lineage, history, unions, search indexes) and interim accounts.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kraken_market.db.base import Uint256, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "products",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "title_key",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("access_mode", sa.String(length=16), nullable=False),
        sa.Column("data_schema", sa.JSON(), nullable=True),
        sa.Column("access_price", Uint256(), nullable=True),
        sa.Column("computation_price", Uint256(), nullable=True),
        sa.Column("subscription_price_per_second", Uint256(), nullable=True),
        sa.Column("subscription_min_seconds", sa.BigInteger(), nullable=True),
        sa.Column("list_price", Uint256(), nullable=False),
        sa.Column("availability", sa.String(length=16), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("purposes_mask", sa.Integer(), nullable=False),
        sa.Column("buyer_categories_mask", sa.Integer(), nullable=False),
        sa.Column("stake", Uint256(), nullable=False),
        sa.Column("parents", sa.JSON(), nullable=False),
        sa.Column("storage_links", sa.JSON(), nullable=False),
        sa.Column("fts_title", sa.Text(), nullable=False),
        sa.Column("fts_tags", sa.Text(), nullable=False),
        sa.Column("fts_description", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_products")),
        sa.UniqueConstraint("id", name=op.f("uq_products_id")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_availability_seq", ["availability", "seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_list_price"), ["list_price"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_title_key"), ["title_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "unions",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("creator", sa.String(length=200), nullable=False),
        sa.Column("access_mode", sa.String(length=16), nullable=False),
        sa.Column("data_schema", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_unions")),
        sa.UniqueConstraint("id", name=op.f("uq_unions_id")),
    )
    with op.batch_alter_table("unions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unions_creator"), ["creator"], unique=False)

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
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_tokens_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "product_parents",
        sa.Column("child_id", sa.String(length=66), nullable=False),
        sa.Column("parent_id", sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["products.id"],
            name=op.f("fk_product_parents_child_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["products.id"], name=op.f("fk_product_parents_parent_id_products")
        ),
        sa.PrimaryKeyConstraint("child_id", "parent_id", name=op.f("pk_product_parents")),
    )
    with op.batch_alter_table("product_parents", schema=None) as batch_op:
        batch_op.create_index("ix_product_parents_parent", ["parent_id", "child_id"], unique=False)

    op.create_table(
        "product_revisions",
        sa.Column("product_id", sa.String(length=66), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_revisions_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "version", name=op.f("pk_product_revisions")),
    )
    op.create_table(
        "product_tags",
        sa.Column("product_seq", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=48), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_seq"],
            ["products.seq"],
            name=op.f("fk_product_tags_product_seq_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_seq", "tag", name=op.f("pk_product_tags")),
    )
    with op.batch_alter_table("product_tags", schema=None) as batch_op:
        batch_op.create_index("ix_product_tags_tag_seq", ["tag", "product_seq"], unique=False)

    op.create_table(
        "union_members",
        sa.Column("union_id", sa.String(length=66), nullable=False),
        sa.Column("product_id", sa.String(length=66), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("weight", sa.BigInteger(), nullable=False),
        sa.Column("consented_by", sa.String(length=200), nullable=True),
        sa.Column("consented_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_union_members_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["union_id"],
            ["unions.id"],
            name=op.f("fk_union_members_union_id_unions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("union_id", "product_id", name=op.f("pk_union_members")),
    )
    with op.batch_alter_table("union_members", schema=None) as batch_op:
        batch_op.create_index("ix_union_members_product", ["product_id"], unique=False)

    create_search_index()


def downgrade() -> None:
    drop_search_index()
    with op.batch_alter_table("union_members", schema=None) as batch_op:
        batch_op.drop_index("ix_union_members_product")

    op.drop_table("union_members")
    with op.batch_alter_table("product_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_product_tags_tag_seq")

    op.drop_table("product_tags")
    op.drop_table("product_revisions")
    with op.batch_alter_table("product_parents", schema=None) as batch_op:
        batch_op.drop_index("ix_product_parents_parent")

    op.drop_table("product_parents")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_tokens_account_id"))

    op.drop_table("access_tokens")
    with op.batch_alter_table("unions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unions_creator"))

    op.drop_table("unions")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_updated_at"))
        batch_op.drop_index(batch_op.f("ix_products_title_key"))
        batch_op.drop_index(batch_op.f("ix_products_owner"))
        batch_op.drop_index(batch_op.f("ix_products_list_price"))
        batch_op.drop_index("ix_products_availability_seq")

    op.drop_table("products")
    op.drop_table("accounts")


# Full-text search. Both engines index the same Python-normalised words
# (catalog.search.tokens) of title, tags and description.
# SQLite: an external-content FTS5 table kept in step by triggers, with prefix
# indexes for 2-4 letter prefixes (fast "word*" queries).
# PostgreSQL: stored generated tsvectors built with array_to_tsvector, which
# takes the words verbatim (no parser, no dictionary, no locale): one over all
# fields for matching, one per field for relevance levels, each with a GIN index.

FTS5_TRIGGERS = {
    "products_fts_ai": "AFTER INSERT ON products BEGIN {insert}; END",
    "products_fts_ad": "AFTER DELETE ON products BEGIN {delete}; END",
    "products_fts_au": "AFTER UPDATE ON products BEGIN {delete}; {insert}; END",
}
FTS5_INSERT = (
    "INSERT INTO products_fts(rowid, fts_title, fts_tags, fts_description) "
    "VALUES (new.seq, new.fts_title, new.fts_tags, new.fts_description)"
)
FTS5_DELETE = (
    "INSERT INTO products_fts(products_fts, rowid, fts_title, fts_tags, fts_description) "
    "VALUES ('delete', old.seq, old.fts_title, old.fts_tags, old.fts_description)"
)
PG_FIELDS = {
    "title_vector": "fts_title",
    "tags_vector": "fts_tags",
    "description_vector": "fts_description",
}
PG_VECTOR = " || ".join(
    f"array_to_tsvector(string_to_array({field}, ' '))" for field in PG_FIELDS.values()
)


def create_search_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE products_fts USING fts5("
            "fts_title, fts_tags, fts_description, content='products', content_rowid='seq', "
            "tokenize='unicode61 remove_diacritics 0', prefix='2 3 4')"
        )
        for name, body in FTS5_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} " + body.format(insert=FTS5_INSERT, delete=FTS5_DELETE)
            )
    elif dialect == "postgresql":
        op.execute(
            f"ALTER TABLE products ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({PG_VECTOR}) STORED"
        )
        for column, field in PG_FIELDS.items():
            op.execute(
                f"ALTER TABLE products ADD COLUMN {column} tsvector GENERATED ALWAYS AS "
                f"(array_to_tsvector(string_to_array({field}, ' '))) STORED"
            )
            op.execute(f"CREATE INDEX ix_products_{column} ON products USING gin ({column})")
        op.execute("CREATE INDEX ix_products_search_vector ON products USING gin (search_vector)")


def drop_search_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in FTS5_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS products_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_products_search_vector")
        for column in ("search_vector", *PG_FIELDS):
            op.execute(f"ALTER TABLE products DROP COLUMN IF EXISTS {column}")
