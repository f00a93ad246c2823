"""FastAPI dependencies as ``Annotated`` aliases: ``SessionDep``, ``CurrentPrincipal``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from kraken_market.api.cookies import CSRF_HEADER, SESSION_COOKIE
from kraken_market.db.engine import write_session
from kraken_market.errors import KrakenError, Unauthenticated
from kraken_market.identity.errors import CsrfHeaderMissing, ScopeRequired
from kraken_market.identity.principal import Principal
from kraken_market.settings import Settings

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(
    auto_error=False,
    description="Session token from `POST /api/v1/auth/login` (`kraken-market login`)",
)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; one for a request that may write takes the write lock
    when it first touches the database (after authentication). Runs in the thread
    pool, so closing (a rollback on the connection) never blocks the event loop."""
    factory = request.app.state.sessions
    session = factory() if request.method in _READ_METHODS else write_session(factory)
    try:
        yield session
    finally:
        session.close()


def session_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The session token of a request: the Bearer header (CLI, SDK), else the session
    cookie of the web apps, which a write must confirm with ``X-Kraken-CSRF: 1``
    (``api.cookies``: another site's page cannot send that header)."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        return None
    if request.method not in _READ_METHODS and request.headers.get(CSRF_HEADER) != "1":
        raise CsrfHeaderMissing(
            f"a write with the session cookie needs the header '{CSRF_HEADER}: 1'",
            details={"header": CSRF_HEADER},
        )
    return cookie


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    writes = request.method not in _READ_METHODS
    try:
        token = session_token(request, credentials)
        if token is None:
            raise Unauthenticated(
                "you are not logged in: run 'kraken-market login' (or send 'Authorization: "
                "Bearer <token>' from POST /api/v1/auth/login)"
            )
        principal: Principal = request.app.state.authenticator.authenticate(token)
    except KrakenError:
        if writes:  # a write without a valid session counts against its address
            limit_address(request)
        raise
    if writes:  # a bucket per identity (api.limits)
        request.app.state.write_limits.check(principal.did or principal.account)
    return principal


def limit_address(request: Request) -> None:
    """Writes that need no session (login, status lists, a company's signed requests)
    are limited per client address: 429 with Retry-After (``api.limits``)."""
    client = request.client.host if request.client is not None else ""
    request.app.state.address_limits.check(client)


AddressLimited = Depends(limit_address)


def get_fresh_principal(
    request: Request, principal: Annotated[Principal, Depends(get_principal)]
) -> Principal:
    """The principal, after re-checking every credential behind its session (publish,
    buy, grant, rule): a credential revoked a moment ago is refused now."""
    request.app.state.authenticator.recheck(principal)
    return principal


def get_publisher(principal: Annotated[Principal, Depends(get_fresh_principal)]) -> Principal:
    """A fresh principal allowed to publish for the account it acts as (an employee
    needs 'publish' in the scope of their attorney credential). Seller-side reads of a
    company's products (claims, insight) take it too: an employee who may only buy
    for the company reads none of them, and a revoked one is refused at once."""
    if not principal.may("publish"):
        raise ScopeRequired(
            f"your attorney credential for {principal.company} does not include 'publish'",
            details={"company": principal.company, "scope": sorted(principal.scope)},
        )
    return principal


BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
FreshPrincipal = Annotated[Principal, Depends(get_fresh_principal)]
"""For sensitive actions: credentials re-checked for revocation on this request."""
Publisher = Annotated[Principal, Depends(get_publisher)]
"""Publishing and changing products and unions: fresh, and within an attorney's scope."""
