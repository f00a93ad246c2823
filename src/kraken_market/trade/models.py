"""Seller insight's tables (product views per day, the grants the API made) and the
readers of what they and the chain's events (``chain_events``) record.

``product_views`` keeps one counter per (product, UTC day), bumped by an upsert on
every read of the product, so a popular product costs one row a day, not one per
view. ``grant_records`` remembers what the verifier knew when it recorded a grant
on chain and the chain does not: the buyer categories its credentials proved.
Purchases on chain carry only the buyer's account and a purpose code; insight
joins them to these rows to say *which kind* of buyer paid, never who.

A product in a Data Union earns a weighted share of the union's sales; its place
and weight come from the registry's own events (``UnionMemberAdded`` names the
product's unions, ``UnionProposed`` their members and weights in chain order).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    select,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from kraken_market.db.base import Base, UtcDateTime
from kraken_market.ledger.models import ChainEventRecord
from kraken_market.logs import get_logger

log = get_logger(__name__)
CHUNK = 500
ROW_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only


class ProductView(Base):
    __tablename__ = "product_views"

    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    """The UTC day of the views."""
    views: Mapped[int] = mapped_column(BigInteger)


class GrantRecord(Base):
    __tablename__ = "grant_records"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    item: Mapped[str] = mapped_column(String(66))
    """The product (or union) id granted, lowercase ``0x`` hex as in ``chain_events.item``."""
    account: Mapped[str] = mapped_column(String(42))
    """The buyer's bound ledger account (checksummed): the ``buyer`` of purchase events."""
    buyer_categories: Mapped[list[str]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expiry: Mapped[datetime] = mapped_column(UtcDateTime)
    tx_hash: Mapped[str] = mapped_column(String(66))

    __table_args__ = (Index("ix_grant_records_item_account", "item", "account"),)


def record_grant(
    session: Session,
    *,
    item: str,
    account: str,
    buyer_categories: frozenset[str],
    purpose: str,
    granted_at: datetime,
    expiry: datetime,
    tx_hash: str,
) -> None:
    """Remember a grant the verifier has just recorded on chain, and commit.

    The chain transaction comes first: a grant record never exists for a grant
    the chain refused. If the database fails now, the buyer still holds the grant
    (so the request still succeeds): their purchases show in insight under the
    ``unknown`` buyer category.
    """
    session.add(
        GrantRecord(
            item=item.lower(),
            account=account,
            buyer_categories=sorted(buyer_categories),
            purpose=purpose,
            granted_at=granted_at,
            expiry=expiry,
            tx_hash=tx_hash,
        )
    )
    try:
        session.commit()
    except OperationalError as exc:
        session.rollback()
        log.warning("grant_not_recorded", item=item, error=type(exc.orig).__name__)


UNKNOWN = "unknown"
CATEGORY_ORDER = ("public-body", "research-institution", "company", "individual")
"""Most specific first: a researcher is also an individual, an employee buys as a company."""


def category_of(categories: Collection[str]) -> str:
    """The most specific buyer category of a grant, so a breakdown adds up to the total."""
    return next((c for c in CATEGORY_ORDER if c in categories), UNKNOWN)


class GrantIndex:
    """The buyer category behind purchases of some items, from their grant records."""

    def __init__(self, session: Session, items: Collection[str]) -> None:
        self.records: dict[tuple[str, str], list[GrantRecord]] = {}
        query = select(GrantRecord).where(GrantRecord.item.in_(list(items)))
        for record in session.scalars(query.order_by(GrantRecord.granted_at, GrantRecord.id)):
            self.records.setdefault((record.item, record.account), []).append(record)

    def category(self, item: str, account: str, purpose: str, at: datetime) -> str:
        """From the latest grant for the account, item and purpose made before the
        purchase at ``at`` (the verifier's clock and the chain's may differ: else the
        latest such grant; else the latest for the item); ``unknown`` without one."""
        records = self.records.get((item, account), [])
        same = [r for r in records if r.purpose == purpose] or records
        before = [r for r in same if r.granted_at <= at] or same
        return category_of(before[-1].buyer_categories) if before else UNKNOWN


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    iterator = iter(sorted(values))
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def events(
    session: Session, items: Collection[str], names: Collection[str], *more: ColumnElement[bool]
) -> list[ChainEventRecord]:
    """Stored contract events named ``names`` whose ``item`` is one of ``items``, in
    chain order (``item`` is indexed: the product, union or request id)."""
    rows: list[ChainEventRecord] = []
    for chunk in _chunks(items):
        query = select(ChainEventRecord).where(
            ChainEventRecord.item.in_(chunk), ChainEventRecord.name.in_(list(names)), *more
        )
        rows += session.scalars(query)
    rows.sort(key=lambda r: (r.chain_id, r.block_number, r.log_index))
    return rows


@dataclass(frozen=True)
class Membership:
    """A product's place in a Data Union, in the registry's (chain) order."""

    union: str
    position: int
    weights: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.weights)

    def gross(self, price: int) -> int:
        """This member's part of a union's price, as ``Market._paid_for`` computes it."""
        return price * self.weights[self.position] // self.total

    def net(self, payouts: Sequence[int]) -> int:
        """This member's part of a union sale's payouts, as ``Market._distribute`` split
        them: ``rest * w_i // W``, the rounding remainder to the last member."""
        rest = sum(payouts)
        shares = [rest * weight // self.total for weight in self.weights[:-1]]
        last = len(self.weights) - 1
        return rest - sum(shares) if self.position == last else shares[self.position]


def memberships(session: Session, product_id: str) -> dict[str, Membership]:
    """The Data Unions ``product_id`` was added to on chain, by union id."""
    added = events(session, [product_id], ["UnionMemberAdded"])
    unions = {str(row.args["union_id"]) for row in added}
    found: dict[str, Membership] = {}
    for row in events(session, unions, ["UnionProposed"]):
        members = [str(m) for m in row.args["members"]]
        if product_id in members:
            weights = tuple(int(w) for w in row.args["weights"])
            found[str(row.item)] = Membership(str(row.item), members.index(product_id), weights)
    return found
