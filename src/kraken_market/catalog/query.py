"""Searching the catalog: full text, filters, sort orders and cursor pagination."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, select
from sqlalchemy.orm import Session

from kraken_market.catalog.models import Product, ProductTag
from kraken_market.catalog.search import parse_query, relevance, text_index
from kraken_market.catalog.vocabulary import (
    BUYER_CATEGORY_BITS,
    PURPOSE_BITS,
    AccessMode,
    Availability,
    BuyerCategory,
    Purpose,
)
from kraken_market.errors import InvalidRequest
from kraken_market.pagination import (
    SortKey,
    after,
    decode_cursor,
    fingerprint,
    next_cursor,
    order_by,
)


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"
    UPDATED = "updated"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    TITLE = "title"


@dataclass(frozen=True)
class ProductQuery:
    """What a buyer (or a seller looking at their own shelf) is searching for.

    ``price_min``/``price_max`` bound the *list price*: the price of the
    product's access mode (per access, per second of subscription, or per
    computation). Default sort: relevance with a text query, else newest.
    """

    q: str | None = None
    access_mode: AccessMode | None = None
    tags: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    purpose: Purpose | None = None
    buyer_category: BuyerCategory | None = None
    owner: str | None = None
    availability: tuple[Availability, ...] = field(default=(Availability.LISTED,))
    sort: Sort | None = None
    limit: int = 20
    cursor: str | None = None

    def effective_sort(self) -> Sort:
        if self.sort is Sort.RELEVANCE and not self.q:
            raise InvalidRequest(
                "sort=relevance needs a search text q", details={"sort": "relevance"}
            )
        return self.sort or (Sort.RELEVANCE if self.q else Sort.NEWEST)

    def filters_fingerprint(self) -> str:
        data = asdict(self)
        del data["limit"], data["cursor"]
        data["sort"] = self.effective_sort()
        return fingerprint(**data)


def _sort_keys(sort: Sort, score: Any) -> list[SortKey]:
    newest = SortKey(Product.seq, descending=True)
    oldest = SortKey(Product.seq, descending=False)
    match sort:
        case Sort.RELEVANCE:
            return [SortKey(score, descending=True), newest]
        case Sort.NEWEST:
            return [newest]
        case Sort.OLDEST:
            return [oldest]
        case Sort.UPDATED:
            updated = SortKey(
                Product.updated_at, True, str, datetime.isoformat, datetime.fromisoformat
            )
            return [updated, newest]
        case Sort.PRICE_ASC:
            return [SortKey(Product.list_price, descending=False), oldest]
        case Sort.PRICE_DESC:
            return [SortKey(Product.list_price, descending=True), newest]
        case Sort.TITLE:
            return [SortKey(Product.title_key, descending=False, kind=str), oldest]


def _filtered(query: ProductQuery, statement: Select[Any]) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if query.availability:
        conditions.append(Product.availability.in_([a.value for a in query.availability]))
    if query.access_mode is not None:
        conditions.append(Product.access_mode == query.access_mode.value)
    for tag in query.tags:
        conditions.append(
            exists().where(ProductTag.product_seq == Product.seq, ProductTag.tag == tag)
        )
    if query.price_min is not None:
        conditions.append(Product.list_price >= query.price_min)
    if query.price_max is not None:
        conditions.append(Product.list_price <= query.price_max)
    if query.purpose is not None:
        conditions.append(Product.purposes_mask.op("&")(PURPOSE_BITS[query.purpose]) != 0)
    if query.buyer_category is not None:
        bit = BUYER_CATEGORY_BITS[query.buyer_category]
        conditions.append(Product.buyer_categories_mask.op("&")(bit) != 0)
    if query.owner is not None:
        conditions.append(Product.owner == query.owner)
    return statement.where(and_(*conditions)) if conditions else statement


def search_products(session: Session, query: ProductQuery) -> tuple[list[Product], str | None]:
    """One page of products matching ``query`` and the cursor of the next page, if any."""
    bounds = (query.price_min, query.price_max)
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise InvalidRequest(
            "price_min is greater than price_max",
            details={"price_min": str(query.price_min), "price_max": str(query.price_max)},
        )
    sort = query.effective_sort()
    score: Any = None
    statement = select(Product)
    if query.q:
        terms = parse_query(query.q)
        index = text_index(session.get_bind().dialect.name)
        statement = statement.where(index.matches(terms))
        if sort is Sort.RELEVANCE:
            score = relevance(index, terms).label("score")
    keys = _sort_keys(sort, score)
    statement = _filtered(query, statement.add_columns(*(key.column for key in keys)))
    filters = query.filters_fingerprint()
    if query.cursor:
        values = decode_cursor(query.cursor, "products", filters, keys)
        statement = statement.where(after(keys, values))
    statement = statement.order_by(*order_by(keys)).limit(query.limit + 1)
    rows = session.execute(statement).all()
    page = [row[0] for row in rows[: query.limit]]
    if len(rows) <= query.limit:
        return page, None
    return page, next_cursor("products", filters, keys, rows[query.limit - 1][1:])
