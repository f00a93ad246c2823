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

from typing import Annotated, Protocol

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from kraken_market.api.responses import errors
from kraken_market.catalog.fields import Amount
from kraken_market.ledger.amounts import Token
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import NotDeployed
from kraken_market.ledger.model import Node

router = APIRouter(prefix="/ledger", tags=["ledger"])
AccountPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$", description="0x account")]


class TokenSource(Protocol):
    """Where the API reads the token from: a ledger client (``Ledger`` or the lazily
    connected ``ConfiguredLedger``), which caches it."""

    def token(self) -> Token: ...


class ChainReader(TokenSource, Protocol):
    """What the account and admin pages read from the chain through the API (the
    browser does not reach the chain node itself: it may run on another host, and its
    JSON-RPC server answers no cross-origin request)."""

    def balance(self, account: str) -> int: ...

    def nodes(self) -> list[Node]: ...


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


class BalancePublic(BaseModel):
    account: str = Field(description="the account (checksummed)")
    balance: Amount = Field(description="DATA in base units")


class NodePublic(BaseModel):
    account: str = Field(description="the node's ledger account (checksummed)")
    endpoint: str = Field(description="where the node takes jobs")
    hpke_public_key: str = Field(description="the X25519 key shares are sealed to (hex)")
    answering: bool = Field(description="whether the node described itself just now")


def _reader(request: Request) -> ChainReader:
    reader: ChainReader = request.app.state.chain
    return reader


@router.get("/balances/{account}", responses=errors(422, 503))
def balance(account: AccountPath, request: Request) -> BalancePublic:
    """An account's DATA balance on chain, in base units (``/token`` for the decimals)."""
    checksummed = to_checksum_address(account)
    return BalancePublic(account=checksummed, balance=_reader(request).balance(checksummed))


@router.get("/nodes", responses=errors(503))
def nodes(request: Request) -> list[NodePublic]:
    """The compute nodes registered on chain, in registration order, and whether each
    answers now (a node that does not cannot take part in a computation)."""
    registered = _reader(request).nodes()
    infos = _node_infos(request) if registered else []
    answering = {str(info.get("hpke_public_key", "")).lower() for info in infos}
    return [
        NodePublic(
            account=node.account,
            endpoint=node.endpoint,
            hpke_public_key=node.hpke_public_key.hex(),
            answering=node.hpke_public_key.hex() in answering,
        )
        for node in registered
    ]


def _node_infos(request: Request) -> list[dict[str, object]]:
    forwarder = request.app.state.forwarder
    infos: list[dict[str, object]] = forwarder.nodes()
    return infos


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
