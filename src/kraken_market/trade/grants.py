"""Grants: the platform's verifier checks a buyer's credentials against a product's
policy and records on chain that the buyer's bound account may buy the product for
that purpose until an expiry (``Market.grant``, signed with the verifier's key).

The buyer's account is the one bound to the person's DID (``wallet bind``): the
verifier never takes an address from the request, so a grant cannot be made
out to someone else's account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from kraken_market.catalog.errors import ProductNotFound, UnionNotFound
from kraken_market.catalog.models import Product, UnionMember
from kraken_market.catalog.schemas import Policy
from kraken_market.catalog.service import ProductService
from kraken_market.catalog.unions import UnionService
from kraken_market.catalog.vocabulary import Availability
from kraken_market.companies.models import Company
from kraken_market.errors import Conflict, Forbidden, KrakenError
from kraken_market.identity.models import AuthSession, DidBinding
from kraken_market.identity.principal import Principal
from kraken_market.ledger.model import purpose_code
from kraken_market.trade import eligibility
from kraken_market.trade.chain_state import chain_state
from kraken_market.trade.errors import (
    BindingRequired,
    OwnProduct,
    ProductNotForSale,
    VerifierUnavailable,
)
from kraken_market.trade.models import record_grant
from kraken_market.trade.publishers import ChainOwnerUnverified


class Verifier(Protocol):
    """What the service needs of the ledger client signed with the verifier key."""

    def grant(self, buyer: str, item: bytes | str, purpose: int, expiry: int) -> Any: ...


@dataclass(frozen=True)
class Granted:
    product: str
    buyer: str
    account: str
    purpose: str
    expiry: datetime
    transaction: str


def buyer_facts(session: Session, principal: Principal) -> eligibility.Buyer:
    """What the verified credentials behind ``principal``'s session prove."""
    row = session.get(AuthSession, principal.session) if principal.session else None
    records = row.credentials if row is not None else []
    categories = set(row.buyer_categories if row is not None else [])
    categories.add("company" if principal.company else "individual")
    country = next((r.get("country") for r in records if r["type"] == "PersonCredential"), None)
    if principal.company is not None:  # an employee buys for the company: its country
        company = session.scalar(select(Company).where(Company.did == principal.company))
        country = company.country if company is not None else None
    return eligibility.Buyer(
        categories=frozenset(categories),
        country=country,
        credential_types=frozenset(r["type"] for r in records),
    )


class GrantService:
    def __init__(
        self,
        session: Session,
        verifier: Verifier | None,
        lifetime: timedelta,
        contracts: Sequence[str] = (),
    ) -> None:
        """``contracts``: the deployment's Registry and Market, whose events say which
        unions the chain holds (as the union pages read them: ``UnionService``)."""
        self.session = session
        self.verifier = verifier
        self.lifetime = lifetime
        self.contracts = contracts

    def _offer(self, item: str) -> list[Product]:
        """The products an item sells: the product, or every member of a Data Union
        (bought as one item, so the buyer must meet every member's policy)."""
        try:
            return [ProductService(self.session).get(item)]
        except ProductNotFound:
            pass
        unions = UnionService(self.session, self.contracts)
        try:
            union = unions.get(item)
        except UnionNotFound:
            raise ProductNotFound(f"no product or Data Union {item}") from None
        status = unions.status(union)
        if status == "pending":
            raise ProductNotForSale(
                "the Data Union waits for its members' consent: no purchases yet",
                details={"status": status},
            )
        if status == "awaiting_chain":
            # Nothing can be paid for a union the chain does not hold: its members'
            # owners propose and consent on chain ('kraken-market unions consent').
            raise ProductNotForSale(
                "the Data Union waits for the chain: every owner consented in the catalog, "
                "but it is not on chain yet (a member's owner runs 'kraken-market unions "
                f"consent {union.id}')",
                details={"status": status},
            )
        members = self.session.scalars(
            select(UnionMember.product_id).where(UnionMember.union_id == union.id)
        ).all()
        return [ProductService(self.session).get(member) for member in members]

    def check(
        self, principal: Principal, product_id: str, purpose: str, now: datetime
    ) -> tuple[eligibility.Buyer, list[Policy], DidBinding]:
        """Everything the verifier checks before it grants, changing nothing: raises the
        refusal a grant would get (``not_eligible``, ``product_not_for_sale``,
        ``own_product``, ``chain_owner_unverified``, ``binding_required``)."""
        offer = self._offer(product_id)
        facts = buyer_facts(self.session, principal)
        policies = []
        for product in offer:
            if product.owner in (principal.did, principal.account):
                # A purchase from oneself moves nothing but the fee, and would let a
                # seller approve its own product (the stake: trade.md).
                raise OwnProduct(
                    f"product {product.id} is yours (or your company's): it is not sold to you",
                    details={"product": product.id, "owner": product.owner},
                )
            if product.availability != Availability.LISTED:
                raise ProductNotForSale(
                    f"product {product.id} is {product.availability}: no new purchases",
                    details={"availability": product.availability, "product": product.id},
                )
            policy = Policy.model_validate(product.policy)
            eligibility.check(policy, facts, purpose, now)
            policies.append(policy)
            on_chain = chain_state(self.session, product.id)
            if on_chain.published and not on_chain.verified:
                raise ChainOwnerUnverified(
                    f"product {product.id} is on chain under {on_chain.owner}, an account "
                    "its seller did not register: it is not granted",
                    details={"product": product.id, "owner": on_chain.owner},
                )
        binding = self.session.get(DidBinding, principal.did)
        if binding is None:
            raise BindingRequired(
                "bind your DID to your ledger account first: 'kraken-market wallet bind'",
                details={"did": principal.did},
            )
        return facts, policies, binding

    def eligibility(
        self, principal: Principal, product_id: str, purpose: str, now: datetime
    ) -> KrakenError | None:
        """Why a purchase of ``product_id`` for ``purpose`` would be refused now (None:
        it would not): the grant's checks, and for a product that it is published on
        chain (a grant for one that is not would be paid for nothing). Records nothing."""
        try:
            self.check(principal, product_id, purpose, now)
        except (Forbidden, Conflict) as refusal:
            return refusal
        try:
            ProductService(self.session).get(product_id)
        except ProductNotFound:
            return None  # a Data Union: its members were checked one by one
        if not chain_state(self.session, product_id).published:
            return ProductNotForSale(
                f"product {product_id} is not published on chain yet: nothing can be bought; "
                "its owner publishes it with 'kraken-market trade publish'",
                details={"product": product_id, "published": False},
            )
        return None

    def grant(self, principal: Principal, product_id: str, purpose: str, now: datetime) -> Granted:
        facts, policies, binding = self.check(principal, product_id, purpose, now)
        if self.verifier is None:
            raise VerifierUnavailable(
                "this marketplace has no verifier key configured (KRAKEN_VERIFIER_KEY_FILE)"
            )
        expiry = min(
            [now + self.lifetime, *(p.expires_at for p in policies if p.expires_at is not None)]
        )
        receipt = self.verifier.grant(
            binding.account, product_id, purpose_code(purpose), int(expiry.timestamp())
        )
        transaction = str(getattr(receipt, "tx_hash", ""))
        record_grant(  # for seller insight: the buyer categories the chain does not hold
            self.session,
            item=product_id.lower(),
            account=binding.account,
            buyer_categories=facts.categories,
            purpose=purpose,
            granted_at=now,
            expiry=expiry,
            tx_hash=transaction,
        )
        return Granted(
            product=product_id,
            buyer=principal.account,
            account=binding.account,
            purpose=purpose,
            expiry=expiry,
            transaction=transaction,
        )
