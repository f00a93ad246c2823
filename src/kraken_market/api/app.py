"""The application factory: one FastAPI app with every domain's router under ``/api/v1``.

``create_app`` takes its collaborators as arguments (settings, engine,
authenticator, identity platform), so tests pass their own instead of
patching. Migrations run before the app accepts a request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine
from starlette.types import Scope

from kraken_market import __version__
from kraken_market.access.stream.routes import router as streams_router
from kraken_market.api.admission import Admission
from kraken_market.api.auth import Authenticator
from kraken_market.api.docs import install_docs
from kraken_market.api.errors import install_error_handlers
from kraken_market.api.guard import RequestGuard
from kraken_market.api.health import router as health_router
from kraken_market.api.limits import RateLimiter
from kraken_market.catalog.routes import router as products_router
from kraken_market.catalog.union_routes import router as unions_router
from kraken_market.companies.routes import router as companies_router
from kraken_market.db.engine import make_engine, make_session_factory
from kraken_market.db.migrate import upgrade
from kraken_market.identity.demo_issuer_routes import router as demo_issuer_router
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.routes import router as identity_router
from kraken_market.identity.session_routes import router as sessions_router
from kraken_market.identity.signin_routes import router as signin_router
from kraken_market.identity.wallet_request_routes import router as wallet_requests_router
from kraken_market.ledger.configured import ConfiguredLedger
from kraken_market.ledger.routes import ChainReader, TokenSource
from kraken_market.ledger.routes import router as ledger_router
from kraken_market.logs import get_logger
from kraken_market.settings import Settings
from kraken_market.storage.routes import router as storage_router
from kraken_market.storage.service import StorageService, storage_from_settings
from kraken_market.trade.claims import Arbiter
from kraken_market.trade.computations import Forwarder
from kraken_market.trade.forwarder import NodeForwarder, nodes_from_chain
from kraken_market.trade.grants import Verifier
from kraken_market.trade.insight_routes import router as insight_router
from kraken_market.trade.market_routes import router as market_router
from kraken_market.trade.routes import router as trade_router
from kraken_market.trade.verifier import arbiter_from_settings, verifier_from_settings
from kraken_market.trade.views import ViewCounter
from kraken_market.web.serving import NoSniff, install_web

if TYPE_CHECKING:  # web3 is imported when the chain is first used (ledger.configured)
    from kraken_market.ledger.broadcast import WalletChain

API_PREFIX = "/api/v1"
log = get_logger("kraken_market.api")

DESCRIPTION = """\
The Kraken Market API: a catalog of data products (files, streams and
analytics-only products), Data Unions and lineage; KCIT company
identification; login with verifiable presentations; the revocation registry;
storage for the ciphertext sellers upload (`POST /uploads`, `PUT /objects/{name}`).

Sign in: `POST /auth/challenge` for a nonce, then `POST /auth/login` with a
presentation (vp+jwt) of your credentials signed by your DID key; send the
session token as `Authorization: Bearer <token>`. Browsers sign in with
OpenID for Verifiable Presentations 1.0 (`POST /auth/requests`, a QR code or
link for the wallet, then `POST /auth/requests/result`); their session lives
in HttpOnly cookies, and writes with it carry `X-Kraken-CSRF: 1`.

Errors are JSON `{"code", "message", "details"}`; `code` is stable.
Amounts are whole base units of the DATA token (0 to 2^256-1): send an integer or
a decimal string, read a decimal string. `GET /ledger/token` tells the token's
symbol and decimals, to show and take amounts in DATA (units / 10^decimals).
"""


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    authenticator: Authenticator | None = None,
    identity: IdentityPlatform | None = None,
    verifier: Verifier | None = None,
    forwarder: Forwarder | None = None,
    arbiter: Arbiter | None = None,
    token: TokenSource | None = None,
    storage: StorageService | None = None,
    chain: ChainReader | None = None,
    wallet_chain: WalletChain | None = None,
) -> FastAPI:
    engine = engine or make_engine(settings.resolved_database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    app = FastAPI(
        title="Kraken Market",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # install_docs: the same pages from packaged assets, no CDN
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_docs(app, docs_url="/docs", redoc_url="/redoc", assets_url="/docs-assets")
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    identity = identity or IdentityPlatform(settings, sessions)
    identity.publish_demo_list()
    app.state.identity = identity
    app.state.authenticator = authenticator or identity
    app.state.verifier = verifier or verifier_from_settings(settings)
    app.state.arbiter = arbiter or arbiter_from_settings(settings)
    app.state.forwarder = forwarder or NodeForwarder(nodes_from_chain(settings))
    reader = ConfiguredLedger(settings)  # connects to the chain on first use
    app.state.token = token or reader
    app.state.chain = chain or reader
    app.state.wallet_chain = wallet_chain or reader  # wallet requests' transactions
    app.state.views = ViewCounter(engine)
    app.state.storage = storage or storage_from_settings(settings)
    install_error_handlers(app)
    app.state.write_limits = RateLimiter(settings.write_rate, settings.write_burst)
    app.state.address_limits = RateLimiter(
        settings.anonymous_write_rate, settings.anonymous_write_burst, what="requests"
    )
    app.state.logins = Admission(settings.max_concurrent_logins, "logins")
    app.state.long_polls = Admission(settings.max_long_polls, "stream readers")
    app.add_middleware(
        RequestGuard, max_body=settings.max_request_bytes, bounds_own_body=_uploads_object
    )
    app.include_router(health_router)
    for router in (
        products_router,
        unions_router,
        companies_router,
        identity_router,
        demo_issuer_router,
        signin_router,
        sessions_router,
        wallet_requests_router,
        trade_router,
        market_router,
        insight_router,
        ledger_router,
        storage_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(streams_router, prefix=API_PREFIX)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Kraken-CSRF"],
        )
    app.add_middleware(NoSniff)
    install_web(app, settings.resolved_web_dir, settings.web_connect_sources)
    return app


def _uploads_object(scope: Scope) -> bool:
    """Object uploads bound their own bodies (``storage.routes``): up to
    ``storage_max_object_bytes``, not the 1 MiB of JSON requests."""
    return scope["method"] == "PUT" and str(scope["path"]).startswith(f"{API_PREFIX}/objects/")


def app_from_settings() -> FastAPI:
    """The app of one API worker process (``api serve --workers N``), from the settings
    of the environment."""
    from kraken_market.logs import configure_logging
    from kraken_market.settings import get_settings

    settings = get_settings()
    configure_logging(settings)
    return create_app(settings)
