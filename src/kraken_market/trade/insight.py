"""Seller insight: what a product's buyers did, bucket by bucket, from the chain.

The chain is the record of money. A :class:`Deal` is one item of one purchase
(``AccessPurchased``, ``Subscribed``, or a ``ComputationItem`` of a
``ComputationRequested``) with the ``Revenue`` payouts its ``Market._distribute``
made, in log order: what the buyer paid for the item is its ``price``, what the
payees got the sum of its payouts, the difference the platform fee. Deals of a
Data Union the product belongs to count for their weighted share
(:class:`~kraken_market.trade.models.Membership`).

Purchases are keyed by ``(chain id, Market address, purchase id)``: a database
may hold the events of several deployments, whose purchase ids each start at 1.
Purchases count when bought, revenue when paid out (a computation's payment is
held until the nodes attest delivery), views per UTC day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kraken_market.catalog.errors import NotProductOwner
from kraken_market.catalog.models import Product
from kraken_market.catalog.service import ProductService
from kraken_market.identity.errors import ScopeRequired
from kraken_market.identity.principal import Principal
from kraken_market.ledger.model import purpose_of
from kraken_market.ledger.models import ChainEventRecord
from kraken_market.trade.models import (
    UNKNOWN,
    GrantIndex,
    Membership,
    ProductView,
    events,
    memberships,
)
from kraken_market.trade.schemas import Period

SALES = {
    "AccessPurchased": "access",
    "Subscribed": "subscription",
    "ComputationItem": "computation",
}
REQUESTS = (
    "ComputationRequested",
    "ComputationPaid",
    "ComputationReclaimed",
    "ComputationRefused",
)

Key = tuple[int, str, int]
"""A purchase: chain id, Market address, purchase id."""


@dataclass
class Deal:
    """One item of one purchase."""

    key: Key
    item: str
    kind: str
    buyer: str
    purpose: str
    bought_at: datetime
    price: int
    seconds: int = 0
    paid_at: datetime | None = None
    """When the payees were paid: at once for access and subscriptions, on delivery
    for computations (None while held, or when reclaimed or refunded)."""
    reclaimed_at: datetime | None = None
    refunded_at: datetime | None = None
    """When a compute node refused the computation and the buyer got the payment back
    at once (its inputs were missing or invalid: a matter for the seller)."""
    payouts: list[int] = field(default_factory=list)


def _purpose(code: Any) -> str:
    purpose = purpose_of(int(code))
    return UNKNOWN if purpose is None else purpose.value


def load_deals(
    session: Session,
    items: Collection[str],
    until: datetime,
    since: datetime | None = None,
    *,
    payouts: bool = True,
) -> list[Deal]:
    """The deals of ``items`` bought in ``[since, until)``, oldest first, with the
    payouts made before ``until`` (and when computations were delivered, reclaimed or
    refunded)."""
    names = [*SALES, "Revenue"] if payouts else list(SALES)
    window = [ChainEventRecord.block_time < until]
    if since is not None:
        window.append(ChainEventRecord.block_time >= since)
    rows = events(session, items, names, *window)
    requests = {str(r.args["request_id"]) for r in rows if r.name == "ComputationItem"}
    context = {
        (r.chain_id, r.address, str(r.item), r.name): r for r in events(session, requests, REQUESTS)
    }
    deals: dict[tuple[Key, str], Deal] = {}
    for row in rows:
        if row.name != "Revenue" and (deal := _deal(row, context)) is not None:
            deals[(deal.key, deal.item)] = deal
    for row in rows:  # the contract pays out before it logs the purchase
        if row.name == "Revenue":
            key = (row.chain_id, row.address, int(row.args["purchase_id"]))
            if (paid := deals.get((key, str(row.item)))) is not None:
                paid.payouts.append(int(row.args["amount"]))
    return list(deals.values())


def _deal(
    row: ChainEventRecord, context: dict[tuple[int, str, str, str], ChainEventRecord]
) -> Deal | None:
    args, item = row.args, str(row.item)
    if row.name != "ComputationItem":
        return Deal(
            key=(row.chain_id, row.address, int(args["purchase_id"])),
            item=item,
            kind=SALES[row.name],
            buyer=str(args["buyer"]),
            purpose=_purpose(args["purpose"]),
            bought_at=row.block_time,
            price=int(args["amount"]),
            seconds=int(args.get("seconds", 0)),
            paid_at=row.block_time,
        )
    where = (row.chain_id, row.address, str(args["request_id"]))
    request = context.get((*where, "ComputationRequested"))
    if request is None:  # the request is logged first in the same transaction
        return None
    paid, reclaimed, refunded = (
        context.get((*where, name))
        for name in ("ComputationPaid", "ComputationReclaimed", "ComputationRefused")
    )
    return Deal(
        key=(row.chain_id, row.address, int(request.args["purchase_id"])),
        item=item,
        kind="computation",
        buyer=str(request.args["buyer"]),
        purpose=_purpose(request.args["purpose"]),
        bought_at=row.block_time,
        price=int(args["amount"]),
        paid_at=None if paid is None else paid.block_time,
        reclaimed_at=None if reclaimed is None else reclaimed.block_time,
        refunded_at=None if refunded is None else refunded.block_time,
    )


@dataclass
class Part:
    keys: set[Hashable] = field(default_factory=set)
    gross: int = 0
    net: int = 0


def _parts() -> defaultdict[str, Part]:
    return defaultdict(Part)


@dataclass
class Tally:
    """One bucket. A purchase counts once by its key, though it may hold the product
    and a union of it."""

    views: int = 0
    keys: defaultdict[str, set[Hashable]] = field(default_factory=lambda: defaultdict(set))
    revenue: defaultdict[str, Part] = field(default_factory=_parts)
    category: defaultdict[str, Part] = field(default_factory=_parts)
    purpose: defaultdict[str, Part] = field(default_factory=_parts)

    def add(self, event: str, deal: Deal, category: str, gross: int, net: int, union: bool) -> None:
        """Count ``event`` (bought, paid, reclaimed, refunded) of ``deal``."""
        parts = [self.category[category], self.purpose[deal.purpose]]
        if event == "bought":
            self.keys[deal.kind].add(deal.key)
            if union:
                self.keys["via_union"].add(deal.key)
            for part in parts:
                part.keys.add(deal.key)
        elif event == "paid":
            if deal.kind == "computation":
                self.keys["delivered"].add(deal.key)
            for part in [*parts, self.revenue["all"], *([self.revenue["union"]] if union else [])]:
                part.gross, part.net = part.gross + gross, part.net + net
        else:
            self.keys[event].add(deal.key)  # reclaimed, refunded


@dataclass(frozen=True)
class Report:
    product: str
    period: Period
    buckets: list[Tally]
    total: Tally
    unions: dict[str, Membership]


def owned(session: Session, principal: Principal, product_id: str) -> Product:
    """The product, if ``principal`` may see its insight (the catalog's ownership rule;
    someone acting for a company needs 'publish' or 'manage' in their attorney
    credential)."""
    product = ProductService(session).get(product_id)
    if product.owner != principal.account:
        raise NotProductOwner(
            "only the product's owner may see its insight", details={"id": product.id}
        )
    if not (principal.may("publish") or principal.may("manage")):
        raise ScopeRequired(
            f"your attorney credential for {principal.company} includes neither 'publish' "
            "nor 'manage'",
            details={"company": principal.company, "scope": sorted(principal.scope)},
        )
    return product


def report(session: Session, principal: Principal, product_id: str, period: Period) -> Report:
    """The insight of a product for its owner (see :func:`owned`)."""
    product = owned(session, principal, product_id)
    unions = memberships(session, product.id)
    items = [product.id, *unions]
    until = datetime.combine(period.end + timedelta(days=1), time(), UTC)
    grants = GrantIndex(session, items)
    buckets, total = [Tally() for _ in period.starts], Tally()
    for deal in load_deals(session, items, until):
        share = unions.get(deal.item)
        gross = deal.price if share is None else share.gross(deal.price)
        net = sum(deal.payouts) if share is None else share.net(deal.payouts)
        category = grants.category(deal.item, deal.buyer, deal.purpose, deal.bought_at)
        for event, moment in (
            ("bought", deal.bought_at),
            ("paid", deal.paid_at),
            ("reclaimed", deal.reclaimed_at),
            ("refunded", deal.refunded_at),
        ):
            index = period.index(moment)
            if index is not None:
                for tally in (buckets[index], total):
                    tally.add(event, deal, category, gross, net, share is not None)
    views = select(ProductView.day, ProductView.views).where(
        ProductView.product_id == product.id, ProductView.day.between(period.start, period.end)
    )
    for day, count in session.execute(views):
        index = period.index(datetime.combine(day, time(), UTC))
        assert index is not None
        buckets[index].views += int(count)
        total.views += int(count)
    return Report(product.id, period, buckets, total, unions)
