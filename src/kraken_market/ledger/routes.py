"""HTTP routes of the ledger: where this marketplace's contracts are.

A buyer's wallet pays the Market contract directly, so a client must know its
address. Processes beside the platform read the deployment file in the data
directory; a client elsewhere (the SDK in a notebook, any directory) asks the API
it logs in to, and checks on its own chain node that the contracts are there
(``sdk.Marketplace.login``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from kraken_market.api.responses import errors
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import NotDeployed

router = APIRouter(prefix="/ledger", tags=["ledger"])


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
