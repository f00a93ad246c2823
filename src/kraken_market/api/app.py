"""The application factory: one FastAPI app with every domain's router under ``/api/v1``.

``create_app`` takes its collaborators as arguments (settings, engine,
authenticator), so tests and the identity issue pass their own instead of
patching. Migrations run before the app accepts a request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine

from kraken_market import __version__
from kraken_market.accounts.routes import router as accounts_router
from kraken_market.api.auth import AccessTokenAuthenticator, Authenticator
from kraken_market.api.errors import error_response, install_error_handlers
from kraken_market.api.health import router as health_router
from kraken_market.catalog.routes import router as products_router
from kraken_market.catalog.union_routes import router as unions_router
from kraken_market.db.engine import make_engine, make_session_factory
from kraken_market.db.migrate import upgrade
from kraken_market.logs import get_logger
from kraken_market.settings import Settings

API_PREFIX = "/api/v1"
log = get_logger("kraken_market.api")

DESCRIPTION = """\
The Kraken Market API: a catalog of data products (files, streams and
analytics-only products), Data Unions and lineage.

Errors are JSON `{"code", "message", "details"}`; `code` is stable.
Amounts are whole DATA base units (0 to 2^256-1): send an integer or a decimal
string, read a decimal string.
"""


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    authenticator: Authenticator | None = None,
) -> FastAPI:
    engine = engine or make_engine(settings.resolved_database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    app = FastAPI(
        title="Kraken Market",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.authenticator = authenticator or AccessTokenAuthenticator(sessions)
    install_error_handlers(app)
    _install_middleware(app, settings)
    app.include_router(health_router)
    for router in (products_router, unions_router, accounts_router):
        app.include_router(router, prefix=API_PREFIX)
    return app


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    limit = settings.max_request_bytes

    @app.middleware("http")
    async def guard_and_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return error_response(
                413, "payload_too_large", f"request bodies are limited to {limit} bytes"
            )
        if declared is None and request.method in ("POST", "PUT", "PATCH"):
            body = await request.body()  # chunked upload: measure what arrived
            if len(body) > limit:
                return error_response(
                    413, "payload_too_large", f"request bodies are limited to {limit} bytes"
                )
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["x-request-id"] = request_id
        log.info(
            "request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000, 2),
            request_id=request_id,
        )
        return response
