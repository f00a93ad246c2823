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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kraken_market.identity.models import DidBinding
from kraken_market.ledger.model import AvailabilityCode
from kraken_market.ledger.models import ChainEventRecord
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


def _prices(value: Any) -> dict[str, str]:
    """Prices as decimal strings of base units (a struct decodes as a dict or a tuple)."""
    names = ("access", "subscription_per_second", "subscription_min_seconds", "computation")
    values = [value[n] for n in names] if isinstance(value, dict) else list(value)
    return {n: str(int(v)) for n, v in zip(names, values, strict=True)}


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


def chain_state(session: Session, product_id: str, contracts: Sequence[str] = ()) -> ChainState:
    """The chain state of ``product_id`` from the indexed events (of the deployment's
    ``contracts`` addresses, when given)."""
    query = select(
        ChainEventRecord.name,
        ChainEventRecord.args,
        ChainEventRecord.block_number,
        ChainEventRecord.block_time,
        ChainEventRecord.tx_hash,
    ).where(
        ChainEventRecord.item == product_id.lower(),
        ChainEventRecord.name.in_(STATE_EVENTS),
    )
    if contracts:
        query = query.where(ChainEventRecord.address.in_(list(contracts)))
    rows = session.execute(
        query.order_by(ChainEventRecord.block_number, ChainEventRecord.log_index)
    ).all()
    state = fold([(r[0], r[1], r[2], r[3], r[4]) for r in rows])
    if state.owner is not None:
        state.owner_did = session.scalar(
            select(DidBinding.did).where(func.lower(DidBinding.account) == state.owner.lower())
        )
        state.verified = verified(session, product_id, state.owner, state.owner_did)
    return state
