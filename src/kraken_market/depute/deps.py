"""FastAPI dependencies of the Depute tool as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from kraken_market.db.engine import write_session
from kraken_market.depute.core import Depute
from kraken_market.depute.models import WebSession
from kraken_market.depute.sessions import Sessions
from kraken_market.identity.errors import SessionInvalid

COOKIE = "depute_session"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_depute(request: Request) -> Depute:
    depute: Depute = request.app.state.depute
    return depute


DeputeDep = Annotated[Depute, Depends(get_depute)]


def get_session(request: Request, depute: DeputeDep) -> Iterator[Session]:
    """One database session per request; a writing one takes SQLite's write lock."""
    factory = depute.sessions
    session = factory() if request.method in _READ_METHODS else write_session(factory)
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def set_session_cookie(response: Response, depute: Depute, token: str) -> None:
    """The representative's session for the pages: HttpOnly, SameSite=Strict."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(depute.config.session_lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=depute.config.audience.startswith("https://"),
    )


def session_token(request: Request) -> str | None:
    """The bearer token (API) or else the session cookie (pages)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(COOKIE)


def representative_of(request: Request, depute: Depute) -> WebSession | None:
    """The logged-in representative, or None. Every such action first retries a
    pending publication of the revocation list (see ``depute.publication``).

    Reads with a session of its own, closed before publishing: the request's
    session may hold SQLite's write lock, which the publisher needs too.
    """
    token = session_token(request)
    if token is None:
        return None
    with depute.sessions() as session:
        row = Sessions(depute, session).authenticate(token)
    depute.publisher.publish(force=False)
    return row


def get_representative(request: Request, depute: DeputeDep) -> WebSession:
    row = representative_of(request, depute)
    if row is None:
        raise SessionInvalid(
            "log in first: POST /api/auth/login, then send 'Authorization: Bearer <token>'"
        )
    return row


Representative = Annotated[WebSession, Depends(get_representative)]
