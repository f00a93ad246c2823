"""HTTP routes of the ledger: what amounts are counted in.

Every amount of the API (prices, stakes, bonds, revenue) is a decimal string of
the token's base units, exact for any client; this answers what a front end
needs to show and take them in whole tokens: the token's address, its symbol
and the ``decimals()`` its contract reports (amount = base units / 10^decimals).
"""

from __future__ import annotations

from typing import Protocol

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from kraken_market.api.responses import errors
from kraken_market.ledger.amounts import Token

router = APIRouter(prefix="/ledger", tags=["ledger"])


class TokenSource(Protocol):
    """Where the API reads the token from: a ledger client (``Ledger`` or the lazily
    connected ``ConfiguredLedger``), which caches it."""

    def token(self) -> Token: ...


class TokenPublic(BaseModel):
    address: str = Field(description="the ERC-20 contract (checksummed)")
    symbol: str = Field(examples=["DATA"])
    decimals: int = Field(description="base units per token = 10^decimals", examples=[18])


@router.get("/token", responses=errors(503))
def token(request: Request) -> TokenPublic:
    """The token every amount of this API is counted in. Amounts are base units: show
    ``units / 10^decimals`` with the symbol, and send ``tokens * 10^decimals`` (exact:
    decimal strings, never floats). 503 ``not_deployed`` / ``chain_unavailable`` while
    the API has no chain to read it from."""
    source: TokenSource = request.app.state.token
    return TokenPublic(**source.token().as_json())
