"""The application factory: one FastAPI app with every domain's router under ``/api/v1``.

``create_app`` takes its collaborators as arguments (settings, engine,
authenticator, identity platform), so tests pass their own instead of
patching. Migrations run before the app accepts a request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import structlog
from fastapi import FastAPI, HTTPException
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kraken_market import __version__
from kraken_market.access.stream.routes import router as streams_router
from kraken_market.api.auth import Authenticator
from kraken_market.api.errors import error_response, install_error_handlers
from kraken_market.api.health import router as health_router
from kraken_market.catalog.routes import router as products_router
from kraken_market.catalog.union_routes import router as unions_router
from kraken_market.companies.routes import router as companies_router
from kraken_market.db.engine import make_engine, make_session_factory
from kraken_market.db.migrate import upgrade
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.routes import router as identity_router
from kraken_market.jsondepth import MAX_DEPTH, too_deep
from kraken_market.logs import get_logger
from kraken_market.settings import Settings
from kraken_market.trade.claims import Arbiter
from kraken_market.trade.computations import Forwarder
from kraken_market.trade.forwarder import NodeForwarder, nodes_from_chain
from kraken_market.trade.grants import Verifier
from kraken_market.trade.insight_routes import router as insight_router
from kraken_market.trade.market_routes import router as market_router
from kraken_market.trade.routes import router as trade_router
from kraken_market.trade.verifier import arbiter_from_settings, verifier_from_settings

API_PREFIX = "/api/v1"
log = get_logger("kraken_market.api")

DESCRIPTION = """\
The Kraken Market API: a catalog of data products (files, streams and
analytics-only products), Data Unions and lineage; KCIT company
identification; login with verifiable presentations; the revocation registry.

Sign in: `POST /auth/challenge` for a nonce, then `POST /auth/login` with a
presentation (vp+jwt) of your credentials signed by your DID key; send the
session token as `Authorization: Bearer <token>`.

Errors are JSON `{"code", "message", "details"}`; `code` is stable.
Amounts are whole DATA base units (0 to 2^256-1): send an integer or a decimal
string, read a decimal string.
"""


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    authenticator: Authenticator | None = None,
    identity: IdentityPlatform | None = None,
    verifier: Verifier | None = None,
    forwarder: Forwarder | None = None,
    arbiter: Arbiter | None = None,
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
    identity = identity or IdentityPlatform(settings, sessions)
    identity.publish_demo_list()
    app.state.identity = identity
    app.state.authenticator = authenticator or identity
    app.state.verifier = verifier or verifier_from_settings(settings)
    app.state.arbiter = arbiter or arbiter_from_settings(settings)
    app.state.forwarder = forwarder or NodeForwarder(nodes_from_chain(settings))
    install_error_handlers(app)
    app.add_middleware(RequestGuard, max_body=settings.max_request_bytes)
    app.include_router(health_router)
    for router in (
        products_router,
        unions_router,
        companies_router,
        identity_router,
        trade_router,
        market_router,
        insight_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(streams_router, prefix=API_PREFIX)
    return app


class RequestGuard:
    """Pure ASGI middleware around the whole app.

    It refuses oversized bodies (413, declared or streamed), gives every request
    an id (``x-request-id``, also bound to every log event of the request), logs
    one event per request, and turns an unexpected exception into a bare 500
    ``internal_error`` (the traceback goes to the log, never to the client).
    Written against ASGI directly rather than with ``@app.middleware("http")``,
    whose per-request wrapping costs more than a fast catalog query.
    """

    def __init__(
        self, app: ASGIApp, max_body: int, redact: Callable[[str], str] | None = None
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.redact = redact or (lambda path: path)  # paths that carry secrets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"")[:64].decode("latin-1") or uuid.uuid4().hex
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        async def answer(code: int, error: str, message: str) -> None:
            await error_response(code, error, message)(scope, receive, send_with_id)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            declared = headers.get(b"content-length")
            try:
                if declared is not None and not declared.isdigit():
                    await answer(400, "bad_request", "Content-Length is not a number")
                elif declared is not None and int(declared) > self.max_body:
                    await answer(413, "payload_too_large", self._too_large)
                elif b"json" in headers.get(b"content-type", b""):
                    body = await self._read(receive)
                    if body is None:
                        await answer(413, "payload_too_large", self._too_large)
                    elif too_deep(body):
                        await answer(400, "json_too_deep", self._too_deep)
                    else:
                        await self.app(scope, self._replay(body, receive), send_with_id)
                else:
                    await self.app(scope, self._counted(receive), send_with_id)
            except Exception:
                log.exception("unexpected_error", path=self.redact(scope["path"]))
                if not response_started:
                    await answer(500, "internal_error", "internal error; it has been logged")
            log.info(
                "request",
                method=scope["method"],
                path=self.redact(scope["path"]),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 2),
            )

    @property
    def _too_large(self) -> str:
        return f"request bodies are limited to {self.max_body} bytes"

    _too_deep = f"JSON bodies may nest at most {MAX_DEPTH} levels"

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body of a JSON request (None beyond ``max_body``). JSON is read
        first and checked for depth (``kraken_market.jsondepth``): a process that has
        imported eth-account or py-evm would otherwise crash on ~100,000 '['."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    def _counted(self, receive: Receive) -> Receive:
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:  # a streamed (chunked) body beyond the limit
                    raise HTTPException(413, self._too_large)
            return message

        return counted_receive
