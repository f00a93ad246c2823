"""FastAPI dependencies as ``Annotated`` aliases: ``SessionDep``, ``CurrentPrincipal``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from kraken_market.accounts.service import Principal
from kraken_market.db.engine import write_session
from kraken_market.errors import Unauthenticated
from kraken_market.settings import Settings

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False, description="Token from `kraken-market accounts create`")


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session per request; requests that may write take the write lock up front.

    A read session opens its connection lazily inside the (threaded) route, so
    it is made and closed right here; a write session blocks on the write lock,
    so it begins and ends in the thread pool.
    """
    factory = request.app.state.sessions
    if request.method in _READ_METHODS:
        session = factory()
        try:
            yield session
        finally:
            session.close()
        return
    session = await run_in_threadpool(write_session, factory)
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    principal: Principal = request.app.state.authenticator.authenticate(credentials.credentials)
    return principal


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
