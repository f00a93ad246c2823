"""Catalog tables.

``products.seq`` is an internal integer key: the rowid of the SQLite FTS5
index, the tie-breaker of every sort order and the cursor of pagination. The
public id is ``products.id`` (the ledger's ``bytes32``). The ``fts_*`` columns
hold Python-normalised search tokens (see :mod:`kraken_market.catalog.search`),
so SQLite and PostgreSQL index exactly the same words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kraken_market.db.base import Base, Uint256, UtcDateTime

ID = String(66)
# Binary ("C") collation on PostgreSQL sorts like SQLite's default BINARY collation.
SORT_KEY = String(200).with_variant(String(200, collation="C"), "postgresql")


class Product(Base):
    __tablename__ = "products"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(String(200))
    title_key: Mapped[str] = mapped_column(SORT_KEY, index=True)
    description: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON)
    access_mode: Mapped[str] = mapped_column(String(16))
    data_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    access_price: Mapped[int | None] = mapped_column(Uint256)
    computation_price: Mapped[int | None] = mapped_column(Uint256)
    subscription_price_per_second: Mapped[int | None] = mapped_column(Uint256)
    subscription_min_seconds: Mapped[int | None] = mapped_column(BigInteger)
    list_price: Mapped[int] = mapped_column(Uint256, index=True)
    availability: Mapped[str] = mapped_column(String(16))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    purposes_mask: Mapped[int] = mapped_column(Integer)
    buyer_categories_mask: Mapped[int] = mapped_column(Integer)
    stake: Mapped[int] = mapped_column(Uint256)
    parents: Mapped[list[str]] = mapped_column(JSON)
    storage_links: Mapped[list[str]] = mapped_column(JSON)
    fts_title: Mapped[str] = mapped_column(Text)
    fts_tags: Mapped[str] = mapped_column(Text)
    fts_description: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

    __table_args__ = (Index("ix_products_availability_seq", "availability", "seq"),)


class ProductTag(Base):
    """One row per (product, tag): the tag filter's index."""

    __tablename__ = "product_tags"

    product_seq: Mapped[int] = mapped_column(
        ForeignKey("products.seq", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(48), primary_key=True)

    __table_args__ = (Index("ix_product_tags_tag_seq", "tag", "product_seq"),)


class ProductParent(Base):
    """A lineage edge: ``child_id`` was derived (curated, merged) from ``parent_id``."""

    __tablename__ = "product_parents"

    child_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    parent_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)

    __table_args__ = (Index("ix_product_parents_parent", "parent_id", "child_id"),)


class ProductRevision(Base):
    """The history of a product: who changed what, when (one row per change)."""

    __tablename__ = "product_revisions"

    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)


class DataUnion(Base):
    __tablename__ = "unions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    creator: Mapped[str] = mapped_column(String(200), index=True)
    access_mode: Mapped[str] = mapped_column(String(16))
    data_schema: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UnionMember(Base):
    __tablename__ = "union_members"

    union_id: Mapped[str] = mapped_column(
        ForeignKey("unions.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(BigInteger)
    consented_by: Mapped[str | None] = mapped_column(String(200))
    consented_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_union_members_product", "product_id"),)
