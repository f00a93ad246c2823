"""HTTP routes of trade: grants (the verifier's eligibility check, recorded on chain),
and the same check asked before buying, recording nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict

from kraken_market.api.deps import CurrentPrincipal, FreshPrincipal, SessionDep
from kraken_market.api.errors import ErrorBody
from kraken_market.api.responses import errors
from kraken_market.catalog.ids import ID_PATTERN
from kraken_market.catalog.vocabulary import Purpose
from kraken_market.db.base import utcnow
from kraken_market.identity.errors import ScopeRequired
from kraken_market.identity.principal import Principal
from kraken_market.trade.chain_state import deployment_contracts
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


class EligibilityPublic(BaseModel):
    product: str
    purpose: Purpose
    eligible: bool
    refusal: ErrorBody | None
    """What buying would be refused with now (``code``, ``message``, ``details``)."""


def _may_buy(principal: Principal) -> None:
    if not principal.may("buy"):
        raise ScopeRequired(
            f"your attorney credential for {principal.company} does not include 'buy'",
            details={"company": principal.company, "scope": sorted(principal.scope)},
        )


def buyer(principal: FreshPrincipal) -> Principal:
    """A fresh principal allowed to buy for the account it acts as."""
    _may_buy(principal)
    return principal


@router.get("/{product_id}/eligibility", responses=errors(401, 404, 422))
def eligibility(
    product_id: Annotated[str, Path(pattern=ID_PATTERN)],
    purpose: Annotated[Purpose, Query(description="what you would buy it for")],
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> EligibilityPublic:
    """Whether you may buy this product (or Data Union) for ``purpose`` now, checked as
    a grant would be (policy, availability, your binding) and, for a product, that it is
    published on chain; nothing is recorded. ``refusal`` is what buying would be refused
    with: search results a buyer can act on, before anything is paid."""
    lifetime = timedelta(seconds=request.app.state.settings.grant_seconds)
    try:
        _may_buy(principal)
        contracts = deployment_contracts(request.app.state.settings.deployment_file)
        refusal = GrantService(session, None, lifetime, contracts).eligibility(
            principal, product_id, purpose.value, utcnow()
        )
    except ScopeRequired as exc:
        refusal = exc
    return EligibilityPublic(
        product=product_id,
        purpose=purpose,
        eligible=refusal is None,
        refusal=None if refusal is None else ErrorBody(**refusal.to_dict()),
    )


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
    contracts = deployment_contracts(request.app.state.settings.deployment_file)
    granted = GrantService(session, request.app.state.verifier, lifetime, contracts).grant(
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
