"""HTTP routes of Data Unions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from kraken_market.api.deps import Publisher, SessionDep, SettingsDep
from kraken_market.api.responses import READ, WRITE
from kraken_market.catalog.ids import ID_PATTERN
from kraken_market.catalog.schemas import UnionCreate, UnionPage, UnionPublic
from kraken_market.catalog.unions import UnionService
from kraken_market.settings import Settings
from kraken_market.trade.chain_state import deployment_contracts

router = APIRouter(prefix="/unions", tags=["unions"])


def _service(session: SessionDep, settings: Settings) -> UnionService:
    return UnionService(session, deployment_contracts(settings.deployment_file))


UnionIdPath = Annotated[
    str, Path(pattern=ID_PATTERN, description="keccak-256 of sorted member ids")
]


@router.post("", status_code=status.HTTP_201_CREATED, responses=WRITE)
def create_union(
    body: UnionCreate, session: SessionDep, settings: SettingsDep, principal: Publisher
) -> UnionPublic:
    """Propose a union; it becomes active (for sale) when every member's owner has
    consented, here and on chain (``awaiting_chain`` until the chain has it)."""
    service = _service(session, settings)
    return service.public(service.create(principal, body))


@router.get("", responses=READ)
def list_unions(
    session: SessionDep,
    settings: SettingsDep,
    member: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="unions holding this product")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> UnionPage:
    service = _service(session, settings)
    unions, next_cursor = service.list(member.lower() if member else None, limit, cursor)
    on_chain = service.on_chain([u.id for u in unions])
    return UnionPage(
        items=[service.public(u, u.id in on_chain) for u in unions], next_cursor=next_cursor
    )


@router.get("/{union_id}", responses=READ)
def read_union(union_id: UnionIdPath, session: SessionDep, settings: SettingsDep) -> UnionPublic:
    service = _service(session, settings)
    return service.public(service.get(union_id))


@router.post("/{union_id}/reject", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE)
def reject_union(union_id: UnionIdPath, session: SessionDep, principal: Publisher) -> Response:
    """Withdraw a pending union, as owner of one of its members: it is removed and its
    members may be proposed again (a union left unconsented for 30 days is replaced by
    the next proposal of the same members anyway)."""
    UnionService(session).reject(principal, union_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{union_id}/consent", responses=WRITE)
def consent_to_union(
    union_id: UnionIdPath, session: SessionDep, settings: SettingsDep, principal: Publisher
) -> UnionPublic:
    """Consent, as owner of member products, to their joining the union (on chain too:
    the owner's wallet signs ``Registry.consent_union``, see ``kraken-market unions``)."""
    service = _service(session, settings)
    return service.public(service.consent(principal, union_id))
