"""Computations through the marketplace: the job waits for its payment, then goes
to the compute nodes.

The buyer hands the backend the job (function, products, its result public
key) under a request id it chose, and pays ``Market.request_computation`` for
that id from its own account, in either order. The *payment notification*
(the indexer's ``ComputationRequested`` event) makes the backend forward the
job to every registered node; the nodes check the chain themselves before they
touch a share, so the backend's forward is a convenience, not an
authorisation.

Exactly once in effect: a job moves ``awaiting_payment → forwarding`` by one
conditional UPDATE, so of the API (which forwards at once when the payment is
already indexed) and the indexer's subscriber only one forwards; nodes accept
a request id once (a second identical submission returns the same job); a
process killed while forwarding leaves the row in ``forwarding``, which
:meth:`ComputationService.catch_up` forwards again after a grace period.
Nothing here holds data, keys or results: the job names products and the
buyer's *public* key.

The products' manifests and owners come from the backend, not the buyer: the
manifest link is the product's first storage link and the owner is the DID
bound to the product's *on-chain* owner account, so a job can only be
computed over shares signed by whoever the chain says owns the product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from kraken_market.catalog.service import ProductService
from kraken_market.catalog.vocabulary import AccessMode
from kraken_market.db.base import utcnow
from kraken_market.errors import Conflict, Forbidden, InvalidRequest, NotFound, Overloaded
from kraken_market.identity.models import DidBinding
from kraken_market.identity.principal import Principal
from kraken_market.ledger.models import ChainEventRecord
from kraken_market.trade.chain_state import chain_state
from kraken_market.trade.errors import BindingRequired
from kraken_market.trade.payments import payment
from kraken_market.trade.publishers import ChainOwnerUnverified
from kraken_market.trade.records import ComputationJob

FORWARD_GRACE = timedelta(seconds=60)
"""A job left ``forwarding`` this long (its forwarder died) is forwarded again: longer
than a forward can take (m = 3 nodes, each answering within the forwarder's 10 s)."""


class JobConflict(Conflict):
    code = "job_conflict"


class ComputationNotFound(NotFound):
    code = "computation_not_found"


class NotPublished(Conflict):
    code = "not_published"


class NotPaid(Conflict):
    code = "not_paid"


class PaymentReturned(Conflict):
    """The request's payment went back to the buyer (refunded or reclaimed)."""

    code = "payment_returned"


class Forwarder(Protocol):
    def forward(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """Submit ``job`` (a node ``JobRequest`` as JSON) to every node; each node's
        answer by endpoint: ``{"state": ...}`` or ``{"error": code, "message": ...}``."""
        ...

    def busy(self) -> tuple[str, float] | None:
        """Why the nodes cannot take a new job now and when to ask again, or None."""
        ...

    def nodes(self) -> list[dict[str, Any]]:
        """The registered nodes' descriptions of themselves (index, m, t, HPKE public key,
        min_cohort_floor); nodes that do not answer are left out."""
        ...


class NodesBusy(Overloaded):
    code = "nodes_busy"


def _asked(job: Mapping[str, Any]) -> tuple[Any, ...]:
    """What the buyer chose in a job (the backend fills in manifests and owners, which
    may change when a seller re-uploads: a resumed request must still match)."""
    products = tuple(p["product_id"] for p in job["products"])
    return job["computation"], products, job["result_public_key"]


def _account_of(session: Session, did: str) -> str:
    account = session.scalar(select(DidBinding.account).where(DidBinding.did == did))
    if account is None:
        raise BindingRequired(
            f"{did} has no ledger account bound: run 'kraken-market wallet bind' first"
        )
    return account


class ComputationService:
    def __init__(self, session: Session, forwarder: Forwarder | None) -> None:
        self.session, self.forwarder = session, forwarder

    # -- the buyer ---------------------------------------------------------------------

    def submit(
        self,
        principal: Principal,
        request_id: str,
        computation: Mapping[str, Any],
        products: Sequence[str],
        result_public_key: str,
    ) -> ComputationJob:
        """Store the job (idempotent per request id) and forward it if already paid."""
        rid = request_id.lower()
        job = {
            "request_id": rid,
            "computation": dict(computation),
            "products": [self.job_input(p) for p in dict.fromkeys(p.lower() for p in products)],
            "result_public_key": result_public_key.lower(),
        }
        account = _account_of(self.session, principal.did)
        existing = self.session.get(ComputationJob, rid)
        squatted = (
            existing is not None
            and existing.state == "awaiting_payment"
            and not self._paid(existing)
            and self._payer(rid) == account.lower()
        )
        if squatted:  # someone else's unpaid claim on the id this account paid for
            self.session.delete(existing)
            self.session.flush()
            existing = None
        if existing is not None:
            if existing.buyer != principal.account or _asked(existing.job) != _asked(job):
                raise JobConflict(f"request {rid} exists with other content: use a new id")
            return self._forward_if_paid(existing)
        busy = None if self.forwarder is None or self._payer(rid) else self.forwarder.busy()
        if busy is not None:  # before the buyer pays: nobody pays for what cannot run now
            why, wait = busy
            raise NodesBusy(
                f"{why}: nothing was stored and nothing is paid; submit again in "
                f"{wait:.0f} s (the SDK and CLI wait and retry)",
                retry_after=max(1.0, wait),
            )
        record = ComputationJob(
            request_id=rid,
            buyer=principal.account,
            account=account,
            job=job,
            state="awaiting_payment",
            nodes={},
            attempts=0,
            created_at=utcnow(),
            forwarded_at=None,
        )
        self.session.add(record)
        self.session.commit()
        return self._forward_if_paid(record)

    def job_input(self, product_id: str) -> dict[str, str]:
        product = ProductService(self.session).get(product_id)
        if product.access_mode != AccessMode.ANALYTICS:
            raise InvalidRequest(
                f"product {product_id} is a {product.access_mode} product: only analytics "
                "products are computed over"
            )
        if not product.storage_links:
            raise InvalidRequest(
                f"product {product_id} has no share set yet: its seller has not uploaded "
                "shares ('kraken-market analytics share')"
            )
        state = chain_state(self.session, product_id)
        if not state.published or state.owner_did is None:
            raise NotPublished(
                f"product {product_id} is not published on chain by a bound account yet",
                details={"product": product_id, "published": state.published},
            )
        if not state.verified:
            raise ChainOwnerUnverified(
                f"product {product_id} is on chain under an account its seller did not "
                "register: not computed over",
                details={"product": product_id, "owner": state.owner},
            )
        return {
            "product_id": product_id,
            "manifest": product.storage_links[0],
            "owner": state.owner_did,
        }

    def get(self, principal: Principal, request_id: str) -> ComputationJob:
        record = self.session.get(ComputationJob, request_id.lower())
        if record is None or record.buyer != principal.account:
            raise ComputationNotFound(f"no computation {request_id} of yours")
        return record

    def retry(self, principal: Principal, request_id: str) -> ComputationJob:
        """Forward the job again (after a node failed it): the payment on chain still
        covers it, nothing is paid twice. A payment refunded or reclaimed covers
        nothing any more: that is said instead of forwarding a job every node refuses."""
        record = self.get(principal, request_id)
        if not self._paid(record):
            raise NotPaid(f"request {request_id} is not paid (by your account) yet")
        paid = payment(self.session, record.request_id)
        if paid.state in ("refunded", "reclaimed"):
            how = (
                f"a compute node refused it ({paid.reason}) and refunded you at once"
                if paid.state == "refunded"
                else "you reclaimed its payment"
            )
            raise PaymentReturned(
                f"request {request_id} is not computed again: {how} (tx {paid.transaction}); "
                "buy it again under a new request id once the product is fixed",
                details={"payment": paid.model_dump(mode="json")},
            )
        self.session.execute(  # not while a forward is under way
            update(ComputationJob)
            .where(
                ComputationJob.request_id == record.request_id,
                ComputationJob.state.in_(("forwarded", "refused")),
            )
            .values(state="awaiting_payment")
        )
        self.session.commit()
        self.session.refresh(record)
        return self._forward_if_paid(record)

    # -- the payment notification -----------------------------------------------------

    def on_payment(self, request_id: str, buyer_account: str) -> ComputationJob | None:
        """The indexer saw ``ComputationRequested``: forward the job, if the backend
        has it and the payer is its buyer."""
        record = self.session.get(ComputationJob, request_id.lower())
        if record is None:
            return None  # the buyer pays first and submits after: submit forwards
        if record.account.lower() != buyer_account.lower():
            raise Forbidden(f"request {request_id} was paid by another account")
        return self._forward(record)

    def catch_up(self) -> int:
        """Forward every paid job not yet forwarded (after a crash); how many."""
        stale = utcnow() - FORWARD_GRACE
        pending = self.session.scalars(
            select(ComputationJob).where(
                or_(
                    ComputationJob.state == "awaiting_payment",
                    (ComputationJob.state == "forwarding") & (ComputationJob.forwarded_at < stale),
                )
            )
        ).all()
        count = 0
        for record in pending:
            if record.state == "forwarding":
                record.state = "awaiting_payment"
                self.session.commit()
            if self._paid(record):
                self._forward(record)
                count += 1
        return count

    # -- forwarding --------------------------------------------------------------------

    def _payer(self, request_id: str) -> str | None:
        """The account that paid ``request_id``, as indexed (lowercase), if any."""
        payer = self.session.scalar(
            select(ChainEventRecord.account)
            .where(
                ChainEventRecord.item == request_id,
                ChainEventRecord.name == "ComputationRequested",
            )
            .limit(1)
        )
        return None if payer is None else payer.lower()

    def _paid(self, record: ComputationJob) -> bool:
        """Whether the indexer saw the job's payment, made by the job's buyer account."""
        return self._payer(record.request_id) == record.account.lower()

    def _forward_if_paid(self, record: ComputationJob) -> ComputationJob:
        return self._forward(record) if self._paid(record) else record

    def _forward(self, record: ComputationJob) -> ComputationJob:
        if self.forwarder is None:
            return record
        claimed = self.session.execute(
            update(ComputationJob)
            .where(
                ComputationJob.request_id == record.request_id,
                ComputationJob.state == "awaiting_payment",
            )
            .values(state="forwarding", forwarded_at=utcnow(), attempts=record.attempts + 1)
        )
        self.session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            self.session.refresh(record)
            return record  # someone else forwards (or did)
        outcome = self.forwarder.forward(record.job)
        answers = list(outcome.values())
        refused = any(a.get("error") not in (None, "node_unreachable") for a in answers)
        record.nodes = outcome
        # Every node must run the job (MPC needs all m). A node that did not answer
        # (restarting, network) gets it from the catch-up or the buyer's retry (nodes
        # take a request id once); refusals are the nodes' word on the chain: the buyer
        # decides (retry, reclaim).
        if refused:
            record.state = "refused"
        elif answers and all("state" in a for a in answers):
            record.state = "forwarded"
        else:
            record.state = "awaiting_payment"
        self.session.commit()
        return record
