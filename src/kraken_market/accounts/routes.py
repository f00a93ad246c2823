"""HTTP routes of accounts."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from kraken_market.api.deps import CurrentPrincipal
from kraken_market.api.responses import errors

router = APIRouter(prefix="/accounts", tags=["accounts"])


class AccountPublic(BaseModel):
    account: str
    name: str


@router.get("/me", responses=errors(401))
def who_am_i(principal: CurrentPrincipal) -> AccountPublic:
    """The account the bearer token belongs to (use it as ``owner`` in searches)."""
    return AccountPublic(account=principal.account, name=principal.name)
