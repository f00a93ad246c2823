"""HTTP routes of trade: grants (the verifier's eligibility check, recorded on chain)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from pydantic import BaseModel, ConfigDict

from kraken_market.api.deps import FreshPrincipal, SessionDep
from kraken_market.api.responses import errors
from kraken_market.catalog.ids import ID_PATTERN
from kraken_market.catalog.vocabulary import Purpose
from kraken_market.db.base import utcnow
from kraken_market.identity.errors import ScopeRequired
from kraken_market.identity.principal import Principal
from kraken_market.trade.grants import GrantService

router = APIRouter(prefix="/products", tags=["trade"])


class GrantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Purpose


class GrantPublic(BaseModel):
    product: str
    buyer: str
    account: str
    purpose: Purpose
    expiry: datetime
    transaction: str


def buyer(principal: FreshPrincipal) -> Principal:
    """A fresh principal allowed to buy for the account it acts as."""
    if not principal.may("buy"):
        raise ScopeRequired(
            f"your attorney credential for {principal.company} does not include 'buy'",
            details={"company": principal.company, "scope": sorted(principal.scope)},
        )
    return principal


@router.post(
    "/{product_id}/grants",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 404, 409, 413, 422, 503),
)
def request_grant(
    product_id: Annotated[str, Path(pattern=ID_PATTERN)],
    body: GrantRequest,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(buyer)],
) -> GrantPublic:
    """Ask the verifier for a grant: your credentials are checked against the product's
    policy (purpose, buyer category, required credentials, region, expiry) and, if
    they meet it, the grant is recorded on chain for your bound account."""
    lifetime = timedelta(seconds=request.app.state.settings.grant_seconds)
    granted = GrantService(session, request.app.state.verifier, lifetime).grant(
        principal, product_id, body.purpose.value, utcnow()
    )
    return GrantPublic(
        product=granted.product,
        buyer=granted.buyer,
        account=granted.account,
        purpose=Purpose(granted.purpose),
        expiry=granted.expiry,
        transaction=granted.transaction,
    )
