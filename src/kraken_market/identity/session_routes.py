"""HTTP routes of a person's own sessions (``/auth/sessions``): where they are signed
in, and signing out one of them. Thin over ``identity.service.AuthService``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from kraken_market.api.deps import CurrentPrincipal, SessionDep
from kraken_market.api.responses import errors
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.service import AuthService

router = APIRouter(tags=["identity"])
SessionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


class SessionSummary(BaseModel):
    id: str
    acting_as: str = Field(description="your DID, or the company you act for")
    company: str | None
    roles: list[str]
    credentials: list[str] = Field(description="the types of the credentials it was opened with")
    created_at: datetime
    expires_at: datetime = Field(description="until when its current token works")
    refresh_expires_at: datetime = Field(description="until when it can be renewed")
    current: bool = Field(description="the session of this request")


def _auth(request: Request, session: Session) -> AuthService:
    platform: IdentityPlatform = request.app.state.identity
    return platform.auth(session)


@router.get("/auth/sessions", responses=errors(401))
def my_sessions(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> list[SessionSummary]:
    """Your sessions that still work or can be renewed, newest first."""
    rows = _auth(request, session).sessions_of(principal.did)
    return [
        SessionSummary(
            id=row.id,
            acting_as=row.company or row.did,
            company=row.company,
            roles=row.roles,
            credentials=sorted({str(c.get("type")) for c in row.credentials}),
            created_at=row.created_at,
            expires_at=row.expires_at,
            refresh_expires_at=row.refresh_expires_at,
            current=row.id == principal.session,
        )
        for row in rows
    ]


@router.delete(
    "/auth/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 422),
)
def end_session(
    session_id: SessionId, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Sign one of your sessions out (a device you no longer use)."""
    _auth(request, session).end_own(principal.did, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
