"""HTTP routes of seller insight and price suggestions, and the view counter that the
catalog's product page calls.

Insight is the owner's alone (403 ``not_owner`` for anyone else); suggestions are
for any signed-in user, since they only aggregate prices the catalog and the
chain already make public.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from kraken_market.api.deps import CurrentPrincipal, FreshPrincipal, SessionDep
from kraken_market.api.responses import errors, json_body
from kraken_market.catalog.ids import ID_PATTERN
from kraken_market.catalog.models import Product
from kraken_market.catalog.service import ProductService
from kraken_market.catalog.vocabulary import AccessMode
from kraken_market.db.base import utcnow
from kraken_market.errors import KrakenError
from kraken_market.identity.principal import Principal
from kraken_market.trade import insight, pricing
from kraken_market.trade.schemas import (
    Bucket,
    Computations,
    Insight,
    InsightBucket,
    Money,
    Period,
    PriceSuggestion,
    Purchases,
    Slice,
    UnionShare,
)
from kraken_market.trade.views import ViewCounter, anonymous_viewer

router = APIRouter(tags=["insight"])

ProductIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="0x + 64 hex digits")]
Day = Annotated[date, Query(ge=date(1970, 1, 1), le=date(9998, 12, 31), description="UTC day")]
Names = Annotated[list[str], Query(max_length=256, description="repeat, or separate with commas")]


def viewer(request: Request) -> Principal | None:
    """Who reads a public page, if they sent a valid session token; else anonymous
    (a stale token does not stop anyone from reading a product)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        principal: Principal = request.app.state.authenticator.authenticate(token.strip())
    except KrakenError:
        return None
    return principal


Viewer = Annotated[Principal | None, Depends(viewer)]


def record_view(request: Request, product: Product, viewer: Principal | None) -> None:
    """Count a read of the product page (once per viewer and day: ``trade.views``),
    unless its owner is reading it."""
    counter: ViewCounter = request.app.state.views
    if viewer is not None:
        if viewer.account != product.owner:
            counter.note(product.id, viewer.did or viewer.account)
        return
    client = request.client.host if request.client is not None else ""
    counter.note(product.id, anonymous_viewer(counter.salt, client))


@router.get(
    "/products/{product_id}/insight",
    response_model=Insight,
    responses=errors(400, 401, 403, 404, 422, 503),
)
def product_insight(
    product_id: ProductIdPath,
    request: Request,
    session: SessionDep,
    principal: FreshPrincipal,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    bucket: Bucket = Bucket.DAY,
) -> Response:
    """Views, purchases, computations and revenue of a product you own, per day, week
    or month (UTC; from/to inclusive, default the last 30 days, 12 weeks or 12
    months), by buyer category and purpose."""
    period = Period.of(start, end, bucket, utcnow().date())
    insight.owned(session, principal, product_id)  # before anything else is done for it
    session.rollback()  # end this read's snapshot: the report must see the flushed views
    request.app.state.views.flush()  # every view counted so far
    return json_body(_public(insight.report(session, principal, product_id, period)))


@router.get("/pricing/suggestion", response_model=PriceSuggestion, responses=errors(400, 401, 422))
def price_suggestion(
    session: SessionDep,
    principal: CurrentPrincipal,
    access_mode: AccessMode,
    tags: Names = [],  # noqa: B006 (FastAPI copies defaults)
    columns: Names = [],  # noqa: B006
) -> Response:
    """A price per unit (access, second, computation) from what comparable products
    sold for, or their listed prices when they sold too little."""
    asked = pricing.Features.parse(tags, columns)
    return json_body(pricing.suggest(session, access_mode, asked, utcnow()))


@router.get(
    "/products/{product_id}/price-suggestion",
    response_model=PriceSuggestion,
    responses=errors(400, 401, 404, 422),
)
def product_price_suggestion(
    product_id: ProductIdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """The price suggestion for a product's mode, tags and columns (itself excluded)."""
    product = ProductService(session).get(product_id)
    mode, asked = AccessMode(product.access_mode), pricing.Features.of(product)
    return json_body(pricing.suggest(session, mode, asked, utcnow(), exclude=product.id))


def _bucket(tally: insight.Tally, start: date, end: date) -> InsightBucket:
    n = {name: len(keys) for name, keys in tally.keys.items()}
    revenue, union = tally.revenue["all"], tally.revenue["union"]

    def slices(parts: dict[str, insight.Part]) -> dict[str, Slice]:
        return {
            name: Slice(purchases=len(part.keys), gross=part.gross, net=part.net)
            for name, part in sorted(parts.items())
        }

    return InsightBucket(
        start=start,
        end=end,
        views=tally.views,
        purchases=Purchases(
            access=n.get("access", 0),
            subscription=n.get("subscription", 0),
            computation=n.get("computation", 0),
            via_union=n.get("via_union", 0),
        ),
        computations=Computations(
            requested=n.get("computation", 0),
            delivered=n.get("delivered", 0),
            reclaimed=n.get("reclaimed", 0),
            refunded=n.get("refunded", 0),
        ),
        revenue=Money(gross=revenue.gross, net=revenue.net),
        union_revenue=Money(gross=union.gross, net=union.net),
        by_category=slices(tally.category),
        by_purpose=slices(tally.purpose),
    )


def _public(report: insight.Report) -> Insight:
    period = report.period
    return Insight(
        product=report.product,
        start=period.start,
        end=period.end,
        bucket=period.bucket,
        totals=_bucket(report.total, period.start, period.end),
        buckets=[
            _bucket(t, s, e)
            for t, s, e in zip(report.buckets, period.starts, period.ends(), strict=True)
        ],
        unions=[
            UnionShare(union=union, weight=m.weights[m.position], total_weight=m.total)
            for union, m in report.unions.items()
        ],
    )
