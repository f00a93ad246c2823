"""The chain desk's JSON API (thin: parse, call ``depute.desk``, shape)::

GET  /api/account                          the company's ledger account
POST /api/chain/challenge                  a nonce for an employee's presentation
POST /api/products/{id}/publish            publish a company product on chain
POST /api/products/{id}/sync               apply its catalog entry on chain
POST /api/unions/{id}/join                 propose or consent to a union on chain
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from kraken_market.api.responses import errors
from kraken_market.db.engine import write_session
from kraken_market.depute.core import Depute
from kraken_market.depute.deps import DeputeDep, SessionDep
from kraken_market.depute.desk import CompanyAccount, Desk
from kraken_market.depute.routes import challenge_public
from kraken_market.depute.schemas import ChallengePublic
from kraken_market.depute.sessions import Sessions
from kraken_market.errors import InvalidRequest
from kraken_market.types import UINT256_MAX

router = APIRouter(prefix="/api", tags=["chain desk"])
ProductPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$")]
UnionPath = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$")]
DESK_ERRORS = errors(401, 403, 404, 409, 413, 422, 503)


class PublishBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presentation: str = Field(min_length=1, max_length=65_536, description="a vp+jwt")
    stake: Annotated[str, Field(pattern=r"^[0-9]{1,78}$")] | None = Field(
        default=None, description="DATA base units; default: the catalog's stake"
    )
    wait: float = Field(default=30.0, ge=0, le=120, description="seconds to wait for the listing")


class ManifestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presentation: str = Field(min_length=1, max_length=65_536, description="a vp+jwt")
    manifest: dict[str, Any] = Field(description="the unsigned share manifest (smpc.manifest)")


class DepositBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presentation: str = Field(min_length=1, max_length=65_536, description="a vp+jwt")
    deposit: dict[str, Any] = Field(description="the key deposit to sign (access.wire)")


class JoinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presentation: str = Field(min_length=1, max_length=65_536, description="a vp+jwt")
    wait: float = Field(default=30.0, ge=0, le=120, description="seconds to wait for it active")


class SyncBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    presentation: str = Field(min_length=1, max_length=65_536, description="a vp+jwt")


def company_account(request: Request) -> CompanyAccount:
    account: CompanyAccount = request.app.state.company_account
    return account


async def at_desk(
    request: Request, depute: Depute, action: Callable[[Desk], dict[str, Any]]
) -> dict[str, Any]:
    """``action`` on the company's desk, in the thread pool (it waits for the chain),
    with a database session that takes the write lock (it uses up a nonce)."""
    account = company_account(request)

    def run() -> dict[str, Any]:
        with write_session(depute.sessions) as session:
            return action(Desk(depute, session, account))

    return await run_in_threadpool(run)


@router.get("/account", responses=errors(503))
def account(request: Request, depute: DeputeDep) -> dict[str, Any]:
    """The company's own ledger account: its products' owner on chain."""
    return {"company": depute.company, "account": company_account(request).account().address}


@router.post("/chain/challenge")
def chain_challenge(depute: DeputeDep, session: SessionDep) -> ChallengePublic:
    """A nonce for an employee's presentation to this tool (to ask for a chain action)."""
    return challenge_public(Sessions(depute, session).employee_challenge())


@router.post("/products/{product_id}/publish", responses=DESK_ERRORS)
async def publish(
    product_id: ProductPath, body: PublishBody, request: Request, depute: DeputeDep
) -> dict[str, Any]:
    """Publish the company's product from the company's account (its stake from the
    company's DATA), for an employee authorised to publish."""
    stake = None if body.stake is None else int(body.stake)
    if stake is not None and stake > UINT256_MAX:
        raise InvalidRequest("a stake is at most 2^256-1 DATA base units")
    product = product_id.lower()
    return await at_desk(
        request, depute, lambda desk: desk.publish(body.presentation, product, stake, body.wait)
    )


@router.post("/products/{product_id}/sync", responses=DESK_ERRORS)
async def sync(
    product_id: ProductPath, body: SyncBody, request: Request, depute: DeputeDep
) -> dict[str, Any]:
    """Apply the catalog's availability, prices, metadata and policy on chain."""
    product = product_id.lower()
    return await at_desk(request, depute, lambda desk: desk.sync(body.presentation, product))


@router.post("/products/{product_id}/manifest", responses=DESK_ERRORS)
async def manifest(
    product_id: ProductPath, body: ManifestBody, request: Request, depute: DeputeDep
) -> dict[str, Any]:
    """Sign the share manifest of a company product with the company's key."""
    product = product_id.lower()
    return await at_desk(
        request,
        depute,
        lambda desk: desk.sign_manifest(body.presentation, product, body.manifest),
    )


@router.post("/products/{product_id}/deposit", responses=DESK_ERRORS)
async def deposit(
    product_id: ProductPath, body: DepositBody, request: Request, depute: DeputeDep
) -> dict[str, Any]:
    """Sign a key deposit of a company product with the company's account."""
    product = product_id.lower()
    return await at_desk(
        request, depute, lambda desk: desk.sign_deposit(body.presentation, product, body.deposit)
    )


@router.post("/unions/{union_id}/join", responses=DESK_ERRORS)
async def join_union(
    union_id: UnionPath, body: JoinBody, request: Request, depute: DeputeDep
) -> dict[str, Any]:
    """Propose or consent to a Data Union on chain from the company's account (a member
    is the company's product), for an employee authorised to publish."""
    union = union_id.lower()
    return await at_desk(
        request, depute, lambda desk: desk.join_union(body.presentation, union, body.wait)
    )
