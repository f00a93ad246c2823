"""HTTP routes of products: parse, call :class:`ProductService`, shape the answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy.orm import Session

from kraken_market.api.deps import Publisher, SessionDep, SettingsDep
from kraken_market.api.responses import READ, WRITE, json_body
from kraken_market.catalog.fields import Amount, Tag
from kraken_market.catalog.ids import ID_PATTERN
from kraken_market.catalog.lineage import Direction
from kraken_market.catalog.models import Product
from kraken_market.catalog.query import ProductQuery, Sort
from kraken_market.catalog.schemas import (
    Change,
    LineageGraph,
    ProductCreate,
    ProductPage,
    ProductPublic,
    ProductUpdate,
    RetireRequest,
    RevisionPublic,
)
from kraken_market.catalog.service import ProductService, public
from kraken_market.catalog.vocabulary import AccessMode, Availability, BuyerCategory, Purpose
from kraken_market.settings import Settings
from kraken_market.trade.chain_state import chain_stakes, deployment_contracts
from kraken_market.trade.insight_routes import Viewer, record_view

router = APIRouter(prefix="/products", tags=["products"])

ProductIdPath = Annotated[
    str, Path(pattern=ID_PATTERN, description="0x + 64 hex digits", examples=["0x" + "ab" * 32])
]


def shown(session: Session, settings: Settings, products: Sequence[Product]) -> list[ProductPublic]:
    """The API view of ``products``, each with the stake the chain holds once published
    there (one query of the indexed events for them all)."""
    contracts = deployment_contracts(settings.deployment_file)
    stakes = chain_stakes(session, [p.id for p in products], contracts)
    return [public(p, stakes.get(p.id)) for p in products]


@router.post("", status_code=status.HTTP_201_CREATED, responses=WRITE)
def create_product(body: ProductCreate, session: SessionDep, principal: Publisher) -> ProductPublic:
    """Describe a new data product; it is listed at once and owned by the caller."""
    return public(ProductService(session).create(principal, body))


@router.get("", response_model=ProductPage, responses=READ)
def search_products(
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[
        str | None, Query(max_length=200, description="words, all required; w* = prefix")
    ] = None,
    mode: AccessMode | None = None,
    tag: Annotated[list[Tag], Query(max_length=32, description="repeat: all tags required")] = [],  # noqa: B006
    price_min: Annotated[Amount | None, Query(description="list price >= (base units)")] = None,
    price_max: Annotated[Amount | None, Query(description="list price <=")] = None,
    purpose: Purpose | None = None,
    buyer_category: BuyerCategory | None = None,
    owner: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    availability: Annotated[list[Availability], Query()] = [Availability.LISTED],  # noqa: B006
    sort: Sort | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """Search listed products by text and filters; follow ``next_cursor`` for more."""
    query = ProductQuery(
        q=q,
        access_mode=mode,
        tags=tuple(tag),
        price_min=price_min,
        price_max=price_max,
        purpose=purpose,
        buyer_category=buyer_category,
        owner=owner,
        availability=tuple(dict.fromkeys(availability)),
        sort=sort,
        limit=limit or settings.page_size_default,
        cursor=cursor,
    )
    products, next_cursor = ProductService(session).search(query)
    page = ProductPage(items=shown(session, settings, products), next_cursor=next_cursor)
    return json_body(page)


@router.get("/{product_id}", response_model=ProductPublic, responses=READ)
def read_product(
    product_id: ProductIdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Viewer,
) -> Response:
    """One product; the read counts as a view in its owner's insight (once per viewer
    and day, not the owner's own)."""
    product = ProductService(session).get(product_id)
    record_view(request, product, viewer)
    return json_body(shown(session, settings, [product])[0])


@router.patch("/{product_id}", responses=WRITE)
def update_product(
    product_id: ProductIdPath,
    body: ProductUpdate,
    session: SessionDep,
    settings: SettingsDep,
    principal: Publisher,
) -> ProductPublic:
    """Change title, description, tags, prices, policy, availability, parents or links."""
    product = ProductService(session).update(principal, product_id, body)
    return shown(session, settings, [product])[0]


@router.post("/{product_id}/retire", responses=WRITE)
def retire_product(
    product_id: ProductIdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: Publisher,
    body: RetireRequest | None = None,
) -> ProductPublic:
    """Retire the product for good (it stays readable, with its history)."""
    reason = body.reason if body else None
    product = ProductService(session).retire(principal, product_id, reason)
    return shown(session, settings, [product])[0]


@router.get("/{product_id}/history", responses=READ)
def product_history(product_id: ProductIdPath, session: SessionDep) -> list[RevisionPublic]:
    """Every change to the product, oldest first: who, when, and each field's before/after."""
    return [
        RevisionPublic(
            version=r.version,
            action=r.action,
            actor=r.actor,
            at=r.at,
            changes={k: Change.model_validate(v) for k, v in r.changes.items()},
            reason=r.reason,
        )
        for r in ProductService(session).history(product_id)
    ]


@router.get("/{product_id}/lineage", responses=READ)
def product_lineage(
    product_id: ProductIdPath,
    session: SessionDep,
    direction: Direction = Direction.BOTH,
    depth: Annotated[int, Query(ge=1, le=64)] = 16,
) -> LineageGraph:
    """The product's ancestors (what it was derived from) and descendants, as a graph."""
    return ProductService(session).lineage(product_id, direction, depth)
