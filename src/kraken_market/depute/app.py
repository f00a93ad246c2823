"""The Depute tool's application: JSON API under ``/api`` and HTML pages, for one company.

Errors leave the API as the marketplace's JSON ``{"code", "message", "details"}``
(``api.errors``) and the pages as an HTML page showing the same code. At
start-up the revocation list is published if anything is pending (the list
must be at the registry before the marketplace can check any credential).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kraken_market import __version__
from kraken_market.api.docs import install_docs
from kraken_market.api.errors import error_response, install_error_handlers
from kraken_market.api.guard import RequestGuard
from kraken_market.depute import desk_routes, invitation_routes, pages, routes, signin
from kraken_market.depute.core import Depute
from kraken_market.depute.cors import WalletCors
from kraken_market.depute.desk import CompanyAccount
from kraken_market.errors import KrakenError
from kraken_market.logs import get_logger

log = get_logger("kraken_market.depute")
MAX_BODY = 256 * 1024


def _install_page_errors(app: FastAPI) -> None:
    """Replace the API's KrakenError handler: JSON under /api, an HTML page elsewhere."""

    @app.exception_handler(KrakenError)
    async def _kraken(request: Request, exc: KrakenError) -> Response:
        if exc.status >= 500:
            log.error("request_failed", code=exc.code, path=request.url.path)
        if not request.url.path.startswith("/api/"):
            return pages.error_page(request, exc)
        response = error_response(exc.status, exc.code, exc.message, exc.details)
        if exc.status == 401:  # RFC 6750
            response.headers["WWW-Authenticate"] = "Bearer"
        return response


_SECRET = re.compile(r"(/invitations/)[^/]+")


def redact_invitation(path: str) -> str:
    """An invitation link's secret is a bearer credential: keep it out of the logs."""
    return _SECRET.sub(r"\1…", path)


def create_depute_app(depute: Depute) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        publication = await run_in_threadpool(depute.publisher.publish, force=True)
        log.info("depute_started", company=depute.company, publication=publication.status)
        if depute.config.chain_url is not None:
            try:
                await run_in_threadpool(account.bind)
            except KrakenError as exc:  # the first chain request binds it then
                log.warning("company_account_not_bound", code=exc.code, error=exc.message)
        yield

    app = FastAPI(
        title=f"Kraken Market Depute tool ({depute.company})",
        version=__version__,
        description="Authorise employees to act for the company: AttorneyCredentials, "
        "invitations, revocation. Errors are JSON {code, message, details}.",
        docs_url=None,  # install_docs: the same pages from packaged assets, no CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    install_docs(app, docs_url="/api/docs", redoc_url="/api/redoc", assets_url="/api/docs-assets")
    app.state.depute = depute
    account = CompanyAccount(depute)
    app.state.company_account = account
    install_error_handlers(app)
    _install_page_errors(app)
    app.add_middleware(RequestGuard, max_body=MAX_BODY, redact=redact_invitation)
    # Outermost, so that a preflight is answered before any guard reads the request.
    app.add_middleware(WalletCors, origins=depute.config.wallet_origins)
    routers = (routes.router, invitation_routes.router, desk_routes.router, signin.router)
    for router in (*routers, pages.router, pages.forms):
        app.include_router(router)
    return app
