"""Where a computation's payment stands, as the indexer stored the chain's events.

``Market.request_computation`` holds the payment; then exactly one of: the nodes'
attestations pay it out (``ComputationPaid``), a compute node refuses the job for a
reason the buyer did not cause and the buyer is refunded at once
(``ComputationRefused``), or the buyer reclaims it after the deadline
(``ComputationReclaimed``). The API shows this with each computation, so that a
buyer (and any front end) sees what happened to the money without reading the
chain; the chain stays the authority (the indexer may lag a few blocks).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kraken_market.ledger.model import refusal_code
from kraken_market.ledger.models import ChainEventRecord

PaymentState = Literal["not_paid", "held", "paid", "refunded", "reclaimed"]
SETTLED: dict[str, PaymentState] = {
    "ComputationPaid": "paid",
    "ComputationRefused": "refunded",
    "ComputationReclaimed": "reclaimed",
}


class ComputationPayment(BaseModel):
    """A computation's payment, from the indexed chain events."""

    state: PaymentState
    amount: str | None = Field(None, description="DATA base units held or settled")
    deadline: int | None = Field(None, description="unix time after which the buyer may reclaim")
    transaction: str | None = Field(None, description="the settling transaction")
    reason: str | None = Field(None, description="the refusing node's error code (refunded)")
    node: str | None = Field(None, description="the account of the node that refused")


def payment(session: Session, request_id: str) -> ComputationPayment:
    """The payment of ``request_id`` as indexed."""
    rows = session.scalars(
        select(ChainEventRecord)
        .where(
            ChainEventRecord.item == request_id.lower(),
            ChainEventRecord.name.in_(["ComputationRequested", *SETTLED]),
        )
        .order_by(ChainEventRecord.block_number, ChainEventRecord.log_index)
    ).all()
    requested = next((r for r in rows if r.name == "ComputationRequested"), None)
    if requested is None:
        return ComputationPayment(state="not_paid")
    held = ComputationPayment(
        state="held",
        amount=str(requested.args["amount"]),
        deadline=int(requested.args["deadline"]),
    )
    settled = next((r for r in rows if r.name in SETTLED), None)
    if settled is None:
        return held
    args: dict[str, Any] = settled.args
    refused = settled.name == "ComputationRefused"
    return held.model_copy(
        update={
            "state": SETTLED[settled.name],
            "transaction": settled.tx_hash,
            "reason": refusal_code(bytes.fromhex(args["reason"][2:])) if refused else None,
            "node": args["node"] if refused else None,
        }
    )
