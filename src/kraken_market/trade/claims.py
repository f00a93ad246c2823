"""Quality claims: the buyer's evidence, the claims of a product, the arbiter's ruling.

A claim lives on chain (``Market.file_claim`` from the buyer's account, with a
bond, naming the purchase, the product and a 32-byte evidence hash); the
statement behind the hash is kept here so the arbiter reads exactly what the
chain committed to: its hash is SHA-256 of the RFC 8785 canonical JSON of
``{"purchase_id", "product_id", "statement"}``. Only the buyer of the
purchase (its bound account, by the indexed purchase event) may record
evidence for it. The arbiter (platform role ``arbiter``) rules through the API,
which signs ``Market.rule`` with the platform's arbiter key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import rfc8785
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kraken_market.catalog.service import ProductService
from kraken_market.db.base import utcnow
from kraken_market.errors import Forbidden, NotFound, ServiceUnavailable
from kraken_market.identity.models import DidBinding
from kraken_market.identity.principal import ADMIN, ARBITER, Principal
from kraken_market.ledger.models import ChainEventRecord
from kraken_market.trade.records import ClaimEvidence

ClaimStatus = Literal["open", "upheld", "rejected"]
PURCHASE_EVENTS = ("AccessPurchased", "Subscribed", "ComputationRequested")


class NotBuyer(Forbidden):
    code = "not_buyer"


class PurchaseNotFound(NotFound):
    code = "purchase_not_found"


class ArbiterUnavailable(ServiceUnavailable):
    code = "arbiter_unavailable"


class Arbiter(Protocol):
    def rule(self, purchase_id: int, *, uphold: bool) -> str: ...


def evidence_hash(purchase_id: int, product_id: str, statement: str) -> str:
    body: dict[str, int | str] = {
        "purchase_id": purchase_id,
        "product_id": product_id.lower(),
        "statement": statement,
    }
    return "0x" + hashlib.sha256(rfc8785.dumps(body)).hexdigest()


@dataclass(frozen=True)
class ClaimView:
    purchase_id: int
    product_id: str
    claimant: str
    bond: int
    evidence_hash: str
    statement: str | None
    status: str
    transaction: str


class ClaimService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _bound(self, principal: Principal) -> str | None:
        return self.session.scalar(
            select(DidBinding.account).where(DidBinding.did == principal.did)
        )

    def record_evidence(
        self, principal: Principal, purchase_id: int, product_id: str, statement: str
    ) -> ClaimEvidence:
        buyer = self.session.scalar(
            select(ChainEventRecord.account).where(
                ChainEventRecord.purchase_id == purchase_id,
                ChainEventRecord.name.in_(PURCHASE_EVENTS),
            )
        )
        if buyer is None:
            raise PurchaseNotFound(f"no purchase {purchase_id} on chain (yet)")
        account = self._bound(principal)
        if account is None or account.lower() != buyer.lower():
            raise NotBuyer(f"purchase {purchase_id} is not yours: only its buyer files a claim")
        digest = evidence_hash(purchase_id, product_id, statement)
        existing = self.session.get(ClaimEvidence, digest)
        if existing is not None:
            return existing
        record = ClaimEvidence(
            evidence_hash=digest,
            purchase_id=purchase_id,
            product_id=product_id.lower(),
            claimant=principal.did,
            statement=statement,
            created_at=utcnow(),
        )
        self.session.add(record)
        self.session.commit()
        return record

    def claims(self, viewer: Principal, product_id: str) -> list[ClaimView]:
        """The claims on ``product_id``, for its owner, arbiters and admins."""
        product = ProductService(self.session).get(product_id)
        if viewer.account != product.owner and not _judges(viewer):
            raise Forbidden("only the product's owner and arbiters read its claims")
        return self._views(ChainEventRecord.item == product_id.lower())

    def all_claims(self, viewer: Principal, status: ClaimStatus | None = None) -> list[ClaimView]:
        """Every claim on chain, oldest first (``status``: only those); for arbiters and
        admins, who rule on the open ones."""
        if not _judges(viewer):
            raise Forbidden("only arbiters and admins read every claim")
        views = self._views(None)
        return views if status is None else [v for v in views if v.status == status]

    def _views(self, where: ColumnElement[bool] | None) -> list[ClaimView]:
        query = (
            select(
                ChainEventRecord.item,
                ChainEventRecord.name,
                ChainEventRecord.args,
                ChainEventRecord.tx_hash,
            )
            .where(ChainEventRecord.name.in_(("ClaimFiled", "ClaimRuled")))
            .order_by(ChainEventRecord.block_number, ChainEventRecord.log_index)
        )
        if where is not None:
            query = query.where(where)
        filed: dict[int, dict[str, Any]] = {}
        for item, name, args, tx in self.session.execute(query).all():
            pid = int(args["purchase_id"])
            if name == "ClaimFiled":
                filed[pid] = {**args, "status": "open", "tx": tx, "item": item}
            elif pid in filed:
                filed[pid]["status"] = "upheld" if args["upheld"] else "rejected"
        hashes = [str(a["evidence_hash"]) for a in filed.values()]
        statements = dict(
            self.session.execute(
                select(ClaimEvidence.evidence_hash, ClaimEvidence.statement).where(
                    func.lower(ClaimEvidence.evidence_hash).in_([h.lower() for h in hashes])
                )
            ).all()
        )
        return [
            ClaimView(
                purchase_id=pid,
                product_id=str(args["item"]).lower(),
                claimant=str(args["claimant"]),
                bond=int(args["bond"]),
                evidence_hash=str(args["evidence_hash"]),
                statement=statements.get(str(args["evidence_hash"]).lower()),
                status=str(args["status"]),
                transaction=str(args["tx"]),
            )
            for pid, args in filed.items()
        ]


def _judges(viewer: Principal) -> bool:
    return viewer.has_role(ARBITER) or viewer.has_role(ADMIN)


def rule(principal: Principal, arbiter: Arbiter | None, purchase_id: int, uphold: bool) -> str:
    """The arbiter's ruling on the open claim of ``purchase_id``; the transaction."""
    if not principal.has_role(ARBITER):
        raise Forbidden("ruling on claims needs the platform role 'arbiter'")
    if arbiter is None:
        raise ArbiterUnavailable(
            "no arbiter key is configured: set KRAKEN_ARBITER_KEY_FILE (mode 0600)"
        )
    return arbiter.rule(purchase_id, uphold=uphold)
