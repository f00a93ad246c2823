"""Searching the catalog: full text, filters, sort orders and cursor pagination."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, literal_column, select
from sqlalchemy.orm import Session

from kraken_market.catalog.models import Product, ProductTag
from kraken_market.catalog.search import (
    FIELDS,
    LEVELS,
    Level,
    parse_query,
    score_of,
    text_index,
)
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
from kraken_market.types import UINT256_MAX


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


def _utc_time(text: str) -> datetime:
    """A cursor's time: must carry a zone and exist in UTC (else ValueError/OverflowError)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a cursor time has a zone")
    return moment.astimezone(UTC)


def _sort_keys(sort: Sort) -> list[SortKey]:
    newest = SortKey(Product.seq, descending=True)
    oldest = SortKey(Product.seq, descending=False)
    match sort:
        case Sort.RELEVANCE:  # read level by level (_by_relevance); the cursor holds both
            best = score_of(LEVELS[0])
            return [SortKey(literal_column("score"), descending=True, maximum=best), newest]
        case Sort.NEWEST:
            return [newest]
        case Sort.OLDEST:
            return [oldest]
        case Sort.UPDATED:
            updated = SortKey(Product.updated_at, True, str, datetime.isoformat, _utc_time)
            return [updated, newest]
        case Sort.PRICE_ASC:
            return [SortKey(Product.list_price, descending=False, maximum=UINT256_MAX), oldest]
        case Sort.PRICE_DESC:
            return [SortKey(Product.list_price, descending=True, maximum=UINT256_MAX), newest]
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
            details={"price_min": str(bounds[0]), "price_max": str(bounds[1])},
        )
    sort = query.effective_sort()
    keys = _sort_keys(sort)
    filters = query.filters_fingerprint()
    position = decode_cursor(query.cursor, "products", filters, keys) if query.cursor else None
    if sort is Sort.RELEVANCE:
        return _by_relevance(session, query, keys, filters, position)
    statement = select(Product, *(key.column for key in keys))
    if query.q:
        index = text_index(session.get_bind().dialect.name)
        statement = statement.where(index.matches(parse_query(query.q)))
    statement = _filtered(query, statement)
    if position is not None:
        statement = statement.where(after(keys, position))
    statement = statement.order_by(*order_by(keys)).limit(query.limit + 1)
    rows = session.execute(statement).all()
    page = [row[0] for row in rows[: query.limit]]
    if len(rows) <= query.limit:
        return page, None
    return page, next_cursor("products", filters, keys, rows[query.limit - 1][1:])


def _by_relevance(
    session: Session,
    query: ProductQuery,
    keys: list[SortKey],
    filters: str,
    position: list[Any] | None,
) -> tuple[list[Product], str | None]:
    """Relevance order, read one score level at a time (best first, newest first within).

    Each level is an indexed query limited to what the page still needs, so a
    common word costs a few small queries instead of scoring and sorting every
    match. ``position`` is the (score, seq) of the last row already served.
    """
    assert query.q is not None
    terms = parse_query(query.q)
    index = text_index(session.get_bind().dialect.name)
    wanted = query.limit + 1
    rows: list[tuple[Product, int]] = []
    fields_with_matches: dict[str, bool] = {}

    def possible(level: Level) -> bool:
        # A level needing all words in a field no product has them in is empty:
        # one cheap probe per field saves scanning the index level after level.
        for name, hit in zip(FIELDS, level, strict=True):
            if hit and name not in fields_with_matches:
                fields_with_matches[name] = index.field_has_match(session, terms, name)
            if hit and not fields_with_matches[name]:
                return False
        return True

    for level in LEVELS:
        score = score_of(level)
        if (position is not None and score > position[0]) or not possible(level):
            continue
        statement, seq = index.at_level(terms, level)
        statement = _filtered(query, statement)
        if position is not None and score == position[0]:
            statement = statement.where(seq < position[1])
        statement = statement.order_by(seq.desc()).limit(wanted - len(rows))
        rows += [(product, score) for product in session.scalars(statement)]
        if len(rows) >= wanted:
            break
    page = [product for product, _ in rows[: query.limit]]
    if len(rows) <= query.limit:
        return page, None
    last, score = rows[query.limit - 1]
    return page, next_cursor("products", filters, keys, [score, last.seq])
