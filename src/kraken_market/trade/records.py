"""Trade tables: computation jobs waiting for (or forwarded after) their payment,
and the evidence behind quality claims.

A ``computation_jobs`` row is what a buyer asked the nodes to compute, stored
before (or after) they pay; the payment notification (the indexer's
``ComputationRequested`` event) makes the backend forward it, exactly once in
effect (nodes accept a request id once; a forward that fails is retried).
``product_publishers`` names the account a product may be published on chain
from; ``claim_evidence`` holds the buyer's statement for a claim whose SHA-256 is in
the claim on chain, so the arbiter reads what the chain committed to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kraken_market.db.base import Base, Uint256, UtcDateTime

HASH = String(66)
DID = String(2048)


class ComputationJob(Base):
    __tablename__ = "computation_jobs"

    request_id: Mapped[str] = mapped_column(HASH, primary_key=True)
    buyer: Mapped[str] = mapped_column(DID)
    account: Mapped[str] = mapped_column(String(42), index=True)
    job: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(24), index=True)
    nodes: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Per node endpoint: the node's answer to the last forward (state or error code)."""
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    forwarded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ClaimEvidence(Base):
    __tablename__ = "claim_evidence"

    evidence_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    purchase_id: Mapped[int] = mapped_column(Uint256, index=True)
    product_id: Mapped[str] = mapped_column(HASH)
    claimant: Mapped[str] = mapped_column(DID)
    statement: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProductPublisher(Base):
    """Who may publish a catalog product on chain: the account bound to the person who
    registered as its publisher (its owner, or an employee acting for the owning
    company). A product on chain under any other account is not vouched for."""

    __tablename__ = "product_publishers"

    product_id: Mapped[str] = mapped_column(HASH, primary_key=True)
    account: Mapped[str] = mapped_column(String(42))
    did: Mapped[str] = mapped_column(DID)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
