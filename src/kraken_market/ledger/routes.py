"""HTTP routes of the ledger: what amounts are counted in, and where this
marketplace's contracts are.

Every amount of the API (prices, stakes, bonds, revenue) is a decimal string of
the token's base units, exact for any client; ``/token`` answers what a front end
needs to show and take them in whole tokens: the token's address, its symbol
and the ``decimals()`` its contract reports (amount = base units / 10^decimals).

A buyer's wallet pays the Market contract directly, so a client must know its
address. Processes beside the platform read the deployment file in the data
directory; a client elsewhere (the SDK in a notebook, any directory) asks the API
it logs in to (``/deployment``), and checks on its own chain node that the
contracts are there (``sdk.Marketplace.login``).
"""

from __future__ import annotations

from typing import Protocol

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from kraken_market.api.responses import errors
from kraken_market.ledger.amounts import Token
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import NotDeployed

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


@router.get("/deployment", responses=errors(503))
def deployment(request: Request) -> Deployment:
    """The contracts this marketplace uses: chain id, the block history starts at, and
    the DataToken, Authority, Registry, Market (and development Faucet) addresses.
    503 ``not_deployed`` while there are none (the platform deploys them at its first
    start)."""
    try:
        return Deployment.load(request.app.state.settings.deployment_file)
    except NotDeployed:
        raise NotDeployed(
            "this marketplace has no contracts on chain yet (the platform deploys them at "
            "its first start): try again once it is up"
        ) from None
