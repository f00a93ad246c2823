"""The product catalog's logic: create, read, update, retire, history, search, lineage.

Each public method is one unit of work and commits it; a refused request
changes nothing (the session is rolled back by its owner). Only a product's
owner may change it, and every change is kept as a revision with its diff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kraken_market.catalog import lineage
from kraken_market.catalog.errors import (
    NotProductOwner,
    PolicyExpired,
    PricesDoNotFitMode,
    ProductNotFound,
    ProductRetired,
)
from kraken_market.catalog.ids import new_product_id
from kraken_market.catalog.models import Product, ProductRevision, ProductTag
from kraken_market.catalog.query import ProductQuery, search_products
from kraken_market.catalog.schemas import (
    LIST_PRICE,
    PRICES_OF_MODE,
    LineageGraph,
    ModePrices,
    Policy,
    Prices,
    ProductCreate,
    ProductPublic,
    ProductUpdate,
)
from kraken_market.catalog.search import index_text
from kraken_market.catalog.vocabulary import AccessMode, Availability, mask_of
from kraken_market.db.base import utcnow
from kraken_market.identity.principal import Principal

_UNTRACKED = {"version", "updated_at", "stake_on_chain"}


def public(product: Product, chain_stake: int | None = None) -> ProductPublic:
    """The API view of a product row; ``chain_stake``: the stake the chain holds for it,
    once it is published there (shown instead of the stake the seller declared)."""
    return ProductPublic(
        id=product.id,
        owner=product.owner,
        title=product.title,
        description=product.description,
        tags=product.tags,
        access_mode=AccessMode(product.access_mode),
        data_schema=product.data_schema,
        prices=Prices(
            access=product.access_price,
            computation=product.computation_price,
            subscription_per_second=product.subscription_price_per_second,
            subscription_min_seconds=product.subscription_min_seconds,
        ),
        policy=Policy.model_validate(product.policy),
        availability=Availability(product.availability),
        stake=product.stake if chain_stake is None else chain_stake,
        stake_on_chain=chain_stake is not None,
        parents=product.parents,
        storage_links=product.storage_links,
        version=product.version,
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def _snapshot(product: Product) -> dict[str, Any]:
    data = public(product).model_dump(mode="json", by_alias=True)
    return {k: v for k, v in data.items() if k not in _UNTRACKED}


def _check_policy(policy: Policy, now: datetime) -> None:
    if policy.expires_at is not None and policy.expires_at <= now:
        raise PolicyExpired(
            "the policy's expires_at is in the past; give a future time or none",
            details={"expires_at": policy.expires_at.isoformat()},
        )


def _apply_prices(product: Product, mode: AccessMode, prices: ModePrices) -> None:
    if not isinstance(prices, PRICES_OF_MODE[mode]):
        raise PricesDoNotFitMode(
            f"a {mode} product takes {', '.join(PRICES_OF_MODE[mode].model_fields)} prices",
            details={"access_mode": mode.value, "given": sorted(prices.model_fields_set)},
        )
    values = prices.model_dump()
    product.access_price = values.get("access")
    product.computation_price = values.get("computation")
    product.subscription_price_per_second = values.get("subscription_per_second")
    product.subscription_min_seconds = values.get("subscription_min_seconds")
    # The list price (what price filters and sorts use) is the mode's own price.
    product.list_price = values[LIST_PRICE[mode]]


def _apply_policy(product: Product, policy: Policy) -> None:
    product.policy = policy.model_dump(mode="json")
    product.purposes_mask = mask_of(policy.purposes)
    product.buyer_categories_mask = mask_of(policy.buyer_categories)


def _apply_text(product: Product, title: str, description: str, tags: list[str]) -> None:
    product.title, product.description, product.tags = title, description, tags
    product.title_key = title.casefold()[:200]
    product.fts_title = index_text(title)
    product.fts_tags = index_text(" ".join(tags))
    product.fts_description = index_text(description)


class ProductService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, product_id: str) -> Product:
        product = self.session.scalar(select(Product).where(Product.id == product_id.lower()))
        if product is None:
            raise ProductNotFound(f"no product {product_id}", details={"id": product_id})
        return product

    def _owned(self, principal: Principal, product_id: str) -> Product:
        product = self.get(product_id)
        if product.owner != principal.account:
            raise NotProductOwner(
                "only the product's owner may change it", details={"id": product.id}
            )
        if product.availability == Availability.RETIRED:
            raise ProductRetired(
                "the product is retired; it cannot change", details={"id": product.id}
            )
        return product

    def create(self, principal: Principal, data: ProductCreate) -> Product:
        now = utcnow()
        _check_policy(data.policy, now)
        lineage.check_parents(self.session, None, data.parents)
        product = Product(
            id=new_product_id(),
            owner=principal.account,
            access_mode=data.access_mode.value,
            data_schema=data.data_schema.model_dump(mode="json") if data.data_schema else None,
            availability=Availability.LISTED.value,
            stake=data.stake,
            parents=data.parents,
            storage_links=data.storage_links,
            version=1,
            created_at=now,
            updated_at=now,
        )
        _apply_text(product, data.title, data.description, data.tags)
        _apply_prices(product, data.access_mode, data.prices)
        _apply_policy(product, data.policy)
        self.session.add(product)
        self.session.flush()
        self.session.add_all(ProductTag(product_seq=product.seq, tag=t) for t in data.tags)
        lineage.set_parents(self.session, product.id, data.parents)
        self._record(product, "created", principal, {}, _snapshot(product), None)
        self.session.commit()
        return product

    def update(self, principal: Principal, product_id: str, data: ProductUpdate) -> Product:
        product = self._owned(principal, product_id)
        before = _snapshot(product)
        fields = data.model_fields_set
        mode = AccessMode(product.access_mode)
        if data.prices is not None:
            _apply_prices(product, mode, data.prices)
        if data.policy is not None:
            _check_policy(data.policy, utcnow())
            _apply_policy(product, data.policy)
        if fields & {"title", "description", "tags"}:
            tags = data.tags if data.tags is not None else product.tags
            _apply_text(
                product,
                data.title if data.title is not None else product.title,
                data.description if data.description is not None else product.description,
                tags,
            )
            if data.tags is not None:
                self.session.execute(
                    delete(ProductTag).where(ProductTag.product_seq == product.seq)
                )
                self.session.add_all(ProductTag(product_seq=product.seq, tag=t) for t in tags)
        if data.availability is not None:
            product.availability = data.availability.value
        if data.parents is not None and data.parents != product.parents:
            lineage.check_parents(self.session, product.id, data.parents)
            lineage.set_parents(self.session, product.id, data.parents)
            product.parents = data.parents
        if data.storage_links is not None:
            product.storage_links = data.storage_links
        return self._commit_change(product, "updated", principal, before, None)

    def retire(self, principal: Principal, product_id: str, reason: str | None) -> Product:
        """Retire for good: the product leaves search and cannot be bought or changed."""
        product = self._owned(principal, product_id)
        before = _snapshot(product)
        product.availability = Availability.RETIRED.value
        return self._commit_change(product, "retired", principal, before, reason)

    def _commit_change(
        self,
        product: Product,
        action: str,
        principal: Principal,
        before: dict[str, Any],
        reason: str | None,
    ) -> Product:
        after = _snapshot(product)
        if after == before:
            self.session.rollback()  # nothing changed: no new version, no history entry
            return self.get(product.id)
        product.version += 1
        product.updated_at = max(utcnow(), product.updated_at)
        self._record(product, action, principal, before, after, reason)
        self.session.commit()
        return product

    def _record(
        self,
        product: Product,
        action: str,
        principal: Principal,
        before: dict[str, Any],
        after: dict[str, Any],
        reason: str | None,
    ) -> None:
        changes = {
            key: {"from": before.get(key), "to": value}
            for key, value in after.items()
            if before.get(key) != value
        }
        self.session.add(
            ProductRevision(
                product_id=product.id,
                version=product.version,
                action=action,
                actor=principal.account,
                at=product.updated_at,
                changes=changes,
                reason=reason,
            )
        )

    def history(self, product_id: str) -> list[ProductRevision]:
        product = self.get(product_id)
        return list(
            self.session.scalars(
                select(ProductRevision)
                .where(ProductRevision.product_id == product.id)
                .order_by(ProductRevision.version)
            )
        )

    def search(self, query: ProductQuery) -> tuple[list[Product], str | None]:
        return search_products(self.session, query)

    def lineage(self, product_id: str, direction: lineage.Direction, depth: int) -> LineageGraph:
        return lineage.graph(self.session, self.get(product_id), direction, depth)
