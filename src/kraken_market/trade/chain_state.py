"""A product's state on chain, as the indexer saw it: listed, stake, quality status.

The product page shows what the chain says, read from the indexer's
``chain_events`` (never from the seller's word): whether the product is
published on chain and by which account (and the DID that account is bound
to), its on-chain availability, whether the metadata and policy hashes
published still match the catalog, and its *quality status*, derived from the
staking events in chain order:

- ``unstaked``: published without a stake (nothing at risk);
- ``staked``: the stake is locked in escrow;
- ``approving``: a buyer who paid at least its published price approved it; the
  stake goes to the seller once one claim window has passed without an open
  claim (``release_at``), so that other buyers can still object;
- ``approved``: approved, and the stake (if any) went to the seller;
- ``disputed``: at least one claim is open (no release meanwhile);
- ``slashed``: the arbiter upheld a claim (stake to the claimant, delisted).

Folding the whole history on each read is exact and order-safe; a product
has a handful of staking events, read through the ``item`` index.

The catalog shows the stake this fold gives (:func:`chain_stakes`, one query
for a page of products): the catalog entry's own ``stake`` is what the seller
declared, the default ``trade publish`` locks, but the seller may lock another
amount, and approvals, releases and rulings change it later; buyers see what
is actually at risk. :func:`catalog_differences` says which of the catalog's
fields the chain record no longer matches (what ``trade sync`` would send).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kraken_market.identity.models import DidBinding
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import NotDeployed
from kraken_market.ledger.model import AvailabilityCode
from kraken_market.ledger.models import ChainEventRecord
from kraken_market.trade.digests import metadata_hash, policy_hash
from kraken_market.trade.publishers import verified

Quality = Literal["unstaked", "staked", "approving", "approved", "disputed", "slashed"]

STATE_EVENTS = (
    "ProductPublished",
    "AvailabilityChanged",
    "OwnershipTransferred",
    "MetadataChanged",
    "PolicyChanged",
    "PricesChanged",
    "StakeLocked",
    "StakeReleased",
    "StakeReleaseScheduled",
    "Approved",
    "ClaimFiled",
    "ClaimRuled",
)


@dataclass
class ChainState:
    published: bool = False
    owner: str | None = None
    owner_did: str | None = None
    verified: bool = False
    """The on-chain owner is vouched for (``trade.publishers``)."""
    published_at: datetime | None = None
    block: int | None = None
    transaction: str | None = None
    availability: str | None = None
    metadata_hash: str | None = None
    policy_hash: str | None = None
    prices: dict[str, str] | None = None
    stake: int = 0
    quality: Quality = "unstaked"
    approvals: int = 0
    open_claims: int = 0
    upheld_claims: int = 0
    rejected_claims: int = 0
    release_at: datetime | None = None
    """When the stake of an approved product may go to the seller."""

    def as_json(self) -> dict[str, Any]:
        return {
            "published": self.published,
            "owner": self.owner,
            "owner_did": self.owner_did,
            "verified": self.verified,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "block": self.block,
            "transaction": self.transaction,
            "availability": self.availability,
            "metadata_hash": self.metadata_hash,
            "policy_hash": self.policy_hash,
            "prices": self.prices,
            "stake": str(self.stake),
            "quality": self.quality,
            "approvals": self.approvals,
            "release_at": self.release_at.isoformat() if self.release_at else None,
            "claims": {
                "open": self.open_claims,
                "upheld": self.upheld_claims,
                "rejected": self.rejected_claims,
            },
        }


def _hex(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


PRICE_NAMES = ("access", "subscription_per_second", "subscription_min_seconds", "computation")
"""The chain's price struct, in order."""


def _prices(value: Any) -> dict[str, str]:
    """Prices as decimal strings of base units (a struct decodes as a dict or a tuple)."""
    values = [value[n] for n in PRICE_NAMES] if isinstance(value, dict) else list(value)
    return {n: str(int(v)) for n, v in zip(PRICE_NAMES, values, strict=True)}


def fold(events: Sequence[tuple[str, dict[str, Any], int, datetime, str]]) -> ChainState:
    """The state after ``events`` (name, args, block, time, tx), in chain order."""
    state = ChainState()
    released = False
    for name, args, block, at, tx in events:
        if name == "ProductPublished":
            state.published, state.owner = True, str(args["owner"])
            state.block, state.published_at, state.transaction = block, at, tx
            state.metadata_hash, state.policy_hash = (
                _hex(args["metadata_hash"]),
                _hex(args["policy_hash"]),
            )
            state.availability = "listed"
            state.prices = _prices(args["prices"])
        elif name == "PricesChanged":
            state.prices = _prices(args["prices"])
        elif name == "AvailabilityChanged":
            state.availability = AvailabilityCode(int(args["availability"])).name.lower()
        elif name == "OwnershipTransferred":
            state.owner = str(args["owner"])
        elif name == "MetadataChanged":
            state.metadata_hash = _hex(args["metadata_hash"])
        elif name == "PolicyChanged":
            state.policy_hash = _hex(args["policy_hash"])
        elif name == "StakeLocked":
            state.stake = int(args["amount"])
        elif name == "StakeReleased":
            state.stake, released = 0, True
        elif name == "StakeReleaseScheduled":
            state.release_at = datetime.fromtimestamp(int(args["release_at"]), UTC)
        elif name == "Approved":
            state.approvals += 1
        elif name == "ClaimFiled":
            state.open_claims += 1
        elif name == "ClaimRuled":
            state.open_claims -= 1
            if args["upheld"]:
                state.upheld_claims += 1
                state.stake = 0
            else:
                state.rejected_claims += 1
    state.quality = _quality(state, released)
    return state


def _quality(state: ChainState, released: bool) -> Quality:
    if state.upheld_claims:
        return "slashed"
    if state.open_claims:
        return "disputed"
    if released or (state.approvals and not state.stake):
        return "approved"
    if state.approvals:
        return "approving"
    return "staked" if state.stake else "unstaked"


_Row = tuple[str, dict[str, Any], int, datetime, str]


def _events(
    session: Session, product_ids: Collection[str], contracts: Sequence[str]
) -> dict[str, list[_Row]]:
    """The state events of each of ``product_ids``, in chain order."""
    query = select(
        ChainEventRecord.item,
        ChainEventRecord.name,
        ChainEventRecord.args,
        ChainEventRecord.block_number,
        ChainEventRecord.block_time,
        ChainEventRecord.tx_hash,
    ).where(
        ChainEventRecord.item.in_([product_id.lower() for product_id in product_ids]),
        ChainEventRecord.name.in_(STATE_EVENTS),
    )
    if contracts:
        query = query.where(ChainEventRecord.address.in_(list(contracts)))
    found: dict[str, list[_Row]] = defaultdict(list)
    for row in session.execute(
        query.order_by(ChainEventRecord.block_number, ChainEventRecord.log_index)
    ):
        found[row[0]].append((row[1], row[2], row[3], row[4], row[5]))
    return found


def chain_state(session: Session, product_id: str, contracts: Sequence[str] = ()) -> ChainState:
    """The chain state of ``product_id`` from the indexed events (of the deployment's
    ``contracts`` addresses, when given)."""
    state = fold(_events(session, [product_id], contracts).get(product_id.lower(), []))
    if state.owner is not None:
        state.owner_did = session.scalar(
            select(DidBinding.did).where(func.lower(DidBinding.account) == state.owner.lower())
        )
        state.verified = verified(session, product_id, state.owner, state.owner_did)
    return state


def chain_events(
    session: Session, product_id: str, contracts: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The product's state events as a provenance timeline, oldest first: each event's
    name, block, block time and transaction hash (the arguments stay the chain's; the
    state they fold into is :func:`chain_state`)."""
    rows = _events(session, [product_id], contracts).get(product_id.lower(), [])
    return [
        {"name": name, "block": block, "at": at.isoformat(), "transaction": _hex(tx)}
        for name, _, block, at, tx in rows
    ]


def chain_stakes(
    session: Session, product_ids: Collection[str], contracts: Sequence[str] = ()
) -> dict[str, int]:
    """The stake the chain holds for each of ``product_ids`` published on chain (as
    indexed), by id; products not on chain are left out. One query for them all."""
    if not product_ids:
        return {}
    folded = {item: fold(rows) for item, rows in _events(session, product_ids, contracts).items()}
    return {item: state.stake for item, state in folded.items() if state.published}


def catalog_differences(state: ChainState, product: Mapping[str, Any]) -> dict[str, bool]:
    """Whether the chain record still matches the catalog entry ``product`` (its API
    JSON), per field ``trade sync`` applies: metadata, policy, prices, availability.
    All False for a product not on chain. An availability the chain alone sets
    (``delisted`` by an upheld claim) is not a difference: no sync can change it."""
    if not state.published:
        return dict.fromkeys(("metadata", "policy", "prices", "availability"), False)
    prices = product["prices"]
    return {
        "metadata": state.metadata_hash == metadata_hash(product),
        "policy": state.policy_hash == policy_hash(product),
        "prices": state.prices == {n: str(int(prices.get(n) or 0)) for n in PRICE_NAMES},
        "availability": state.availability in (product["availability"], "delisted"),
    }


_deployments: dict[Path, tuple[float, list[str]]] = {}


def deployment_contracts(path: Path) -> list[str]:
    """The Registry and Market addresses of the deployment file at ``path`` (none when
    there is none yet): the contracts whose events describe products. Read again only
    when the file changes (a page of the catalog asks for them)."""
    try:
        changed = path.stat().st_mtime
    except OSError:
        return []
    cached = _deployments.get(path)
    if cached is None or cached[0] != changed:
        try:
            deployment = Deployment.load(path)
        except NotDeployed:
            return []
        cached = (changed, [deployment.registry, deployment.market])
        _deployments[path] = cached
    return cached[1]
