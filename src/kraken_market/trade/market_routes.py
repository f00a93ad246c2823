"""HTTP routes of trade after the grant: a product's chain state, computations
forwarded on payment, quality claims and rulings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from kraken_market.api.deps import CurrentPrincipal, FreshPrincipal, Publisher, SessionDep
from kraken_market.api.responses import errors
from kraken_market.catalog.ids import ID_PATTERN
from kraken_market.catalog.service import ProductService, public
from kraken_market.catalog.vocabulary import Purpose
from kraken_market.db.base import utcnow
from kraken_market.errors import InvalidRequest
from kraken_market.identity.principal import Principal
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.trade import publishers
from kraken_market.trade.chain_state import (
    catalog_differences,
    chain_events,
    chain_state,
    deployment_contracts,
)
from kraken_market.trade.claims import ClaimService, ClaimStatus, rule
from kraken_market.trade.computations import ComputationService
from kraken_market.trade.payments import ComputationPayment, payment
from kraken_market.trade.quote import QuoteService
from kraken_market.trade.records import ComputationJob, ProductPublisher
from kraken_market.trade.routes import buyer

router = APIRouter(tags=["trade"])
UINT256_MAX = 2**256 - 1
Id = Annotated[str, Path(pattern=ID_PATTERN)]
HexId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


@router.get("/products/{product_id}/chain", responses=errors(404, 422))
def product_chain(product_id: Id, request: Request, session: SessionDep) -> dict[str, Any]:
    """What the chain says about a product, as indexed: published (listed) or not, by
    which account and bound DID, availability, prices, stake and quality status
    (unstaked, staked, approved, disputed, slashed), and whether the catalog still
    matches the chain record: ``metadata_matches``, ``policy_matches``,
    ``prices_match``, ``availability_matches``, and ``differs`` naming those that do
    not (empty when all match or the product is not on chain; 'trade sync' applies
    them); ``publishing_announced``: the owner named the account they publish from
    (so a product not yet published is most likely waiting for the indexer); ``events``:
    the indexed events of the product, oldest first, each with its
    block time and transaction (its provenance timeline)."""
    product = public(ProductService(session).get(product_id)).model_dump(mode="json", by_alias=True)
    contracts = deployment_contracts(request.app.state.settings.deployment_file)
    found = chain_state(session, product_id, contracts)
    matches = catalog_differences(found, product)
    state = found.as_json()
    state["metadata_matches"] = matches["metadata"]
    state["policy_matches"] = matches["policy"]
    state["prices_match"] = matches["prices"]
    state["availability_matches"] = matches["availability"]
    state["differs"] = [name for name, same in matches.items() if found.published and not same]
    state["publishing_announced"] = session.get(ProductPublisher, product["id"]) is not None
    state["events"] = chain_events(session, product_id, contracts)
    return state


@router.post(
    "/products/{product_id}/publisher",
    responses=errors(400, 401, 403, 404, 409, 413, 422, 503),
)
def register_publisher(product_id: Id, session: SessionDep, principal: Publisher) -> dict[str, str]:
    """Name the ledger account you will publish this product from (the one bound to
    your DID): only a product on chain under its registered account (or the owner's own)
    is granted to buyers. 'kraken-market trade publish' does this first."""
    row = publishers.register(session, principal, product_id)
    return {"product": row.product_id, "account": row.account, "did": row.did}


class ComputationSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: HexId
    computation: ComputationSpec
    products: Annotated[list[HexId], Field(min_length=1, max_length=16)]
    result_public_key: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    computation: dict[str, Any] = Field(
        description='The computation as you would submit it ({"function": "mean@1", ...}); '
        "a function or parameter the catalogue does not know is a problem of the quote"
    )
    products: Annotated[list[HexId], Field(max_length=16)] = Field(default_factory=list)
    union: HexId | None = Field(
        default=None, description="A Data Union bought as one item (its members are computed over)"
    )
    purpose: Purpose


class QuoteProblem(BaseModel):
    code: str
    message: str
    item: str | None


class QuoteItemPublic(BaseModel):
    item: str
    kind: str
    title: str | None
    price: str | None = Field(description="DATA base units, as the chain prices it now")


class QuoteProductPublic(BaseModel):
    product: str
    title: str | None
    rows: int | None


class QuotePublic(BaseModel):
    payable: bool = Field(description="Nothing found that would make the job fail: safe to pay")
    function: str
    purpose: str
    price: str | None = Field(description="Total in DATA base units; pay at most this")
    items: list[QuoteItemPublic]
    products: list[QuoteProductPublic]
    rows: int | None
    min_cohort: int
    problems: list[QuoteProblem] = Field(description="Each reason the job would be refused")
    warnings: list[QuoteProblem] = Field(description="Reasons the result may be suppressed")


@router.post("/computations/quote", responses=errors(400, 401, 403, 413, 422, 503))
def quote_computation(
    body: QuoteRequest,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(buyer)],
) -> QuotePublic:
    """What a computation would cost and everything that would make it fail or be
    suppressed, before you pay: the function and its parameters against the catalogue
    and the products' schemas, each product's share set, the union, your eligibility
    and the minimum cohort. Nothing is stored or paid; pay only when `payable`."""
    if not body.products and body.union is None:
        raise InvalidRequest("name the products (or a Data Union) to compute over")
    storage = request.app.state.storage.store.storage  # the objects the nodes read
    service = QuoteService(
        session,
        storage,
        request.app.state.forwarder.nodes,
        deployment_contracts(request.app.state.settings.deployment_file),
    )
    quote = service.quote(
        principal, body.computation, body.products, body.purpose.value, utcnow(), body.union
    )
    return QuotePublic.model_validate(quote.as_json())


class ComputationPublic(BaseModel):
    request_id: str
    state: str
    nodes: dict[str, Any]
    attempts: int
    created_at: datetime
    forwarded_at: datetime | None
    payment: ComputationPayment = Field(
        description="the payment as indexed: not_paid, held (until the deadline), paid out, "
        "refunded at once (a node refused the job for a reason the buyer did not cause: "
        "reason, node, transaction) or reclaimed by the buyer after the deadline"
    )


def _computation(session: Session, record: ComputationJob) -> ComputationPublic:
    return ComputationPublic(
        request_id=record.request_id,
        state=record.state,
        nodes=record.nodes,
        attempts=record.attempts,
        created_at=record.created_at,
        forwarded_at=record.forwarded_at,
        payment=payment(session, record.request_id),
    )


@router.post(
    "/computations",
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(400, 401, 403, 404, 409, 413, 422, 503),
)
def submit_computation(
    body: ComputationSubmit,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(buyer)],
) -> ComputationPublic:
    """Hand the backend a computation under the request id you pay (or paid) for; it is
    forwarded to the compute nodes when the payment is on chain."""
    spec = body.computation.model_dump(mode="json", by_alias=True)
    service = ComputationService(session, request.app.state.forwarder)
    record = service.submit(principal, body.request_id, spec, body.products, body.result_public_key)
    return _computation(session, record)


@router.get("/computations/{request_id}", responses=errors(401, 404, 422))
def get_computation(
    request_id: Id, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> ComputationPublic:
    """Your computation: awaiting_payment, forwarding, forwarded or refused, each
    node's answer, and where the payment stands (held, paid out, refunded, reclaimed)."""
    service = ComputationService(session, request.app.state.forwarder)
    return _computation(session, service.get(principal, request_id))


@router.post(
    "/computations/{request_id}/retry", responses=errors(400, 401, 404, 409, 413, 422, 503)
)
def retry_computation(
    request_id: Id, request: Request, session: SessionDep, principal: FreshPrincipal
) -> ComputationPublic:
    """Forward a paid computation again (after a node failed it); nothing is paid twice."""
    service = ComputationService(session, request.app.state.forwarder)
    return _computation(session, service.retry(principal, request_id))


class EvidenceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purchase_id: Annotated[int, Field(ge=1, le=UINT256_MAX)]
    product_id: HexId
    statement: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]


@router.post(
    "/claims/evidence",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 404, 413, 422, 503),
)
def record_evidence(
    body: EvidenceCreate, session: SessionDep, principal: FreshPrincipal
) -> dict[str, Any]:
    """Store the statement behind a claim; file the claim on chain with the returned
    ``evidence_hash`` (``kraken-market ledger claim``)."""
    record = ClaimService(session).record_evidence(
        principal, body.purchase_id, body.product_id, body.statement
    )
    return {"evidence_hash": record.evidence_hash, "purchase_id": record.purchase_id}


@router.get("/products/{product_id}/claims", responses=errors(401, 403, 404, 422, 503))
def product_claims(
    product_id: Id, session: SessionDep, principal: Publisher
) -> list[dict[str, Any]]:
    """The claims on a product with their evidence and status (its owner, an employee
    who may publish for it, arbiters)."""
    return [
        vars(c) | {"bond": str(c.bond)} for c in ClaimService(session).claims(principal, product_id)
    ]


@router.get("/claims", responses=errors(401, 403, 422))
def all_claims(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[
        ClaimStatus | None, Query(description="open (waiting for a ruling), upheld, rejected")
    ] = None,
) -> list[dict[str, Any]]:
    """Every claim on chain with its evidence and status, oldest first (arbiters and
    admins): the open ones wait for a ruling (``POST /claims/{purchase_id}/ruling``)."""
    return [
        vars(c) | {"bond": str(c.bond)} for c in ClaimService(session).all_claims(principal, status)
    ]


class Ruling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uphold: bool


@router.post("/claims/{purchase_id}/ruling", responses=errors(400, 401, 403, 409, 413, 422, 503))
def rule_claim(
    purchase_id: Annotated[int, Path(ge=1, le=UINT256_MAX)],
    body: Ruling,
    request: Request,
    principal: FreshPrincipal,
) -> dict[str, Any]:
    """The arbiter's ruling: uphold (stake slashed to the claimant, product delisted)
    or reject (the bond goes to the seller)."""
    tx = rule(principal, request.app.state.arbiter, purchase_id, body.uphold)
    return {"purchase_id": purchase_id, "upheld": body.uphold, "transaction": tx}
