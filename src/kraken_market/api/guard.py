"""The request guard of every HTTP server of the platform built on FastAPI: the
marketplace API, the compute nodes and the Depute tool (the chain's JSON-RPC
server guards its one route itself, ``ledger.chain.rpc_server``).

No single request may crash a process or hold its memory: every body is
bounded (413 ``payload_too_large``, declared or streamed), and every body that
a route could parse as JSON is checked for nesting depth before anything parses
it (400 ``json_too_deep``; ``kraken_market.jsondepth``: these processes import
eth-account or py-evm, which raise the recursion limit far above what the C
stack holds). Which bodies FastAPI parses as JSON depends on a Content-Type it
reads case-insensitively, or on none at all, so the guard does not try to guess
from it: it checks every body except the types no route parses as JSON
(``OPAQUE_TYPES``: binary frames and files, HTML forms), whose random bytes
would otherwise look nested; and a request with several Content-Type headers is
refused, since the guard and a parser could read different ones. Routes that
take large binary bodies (object uploads, ``storage.routes``) are named by
``bounds_own_body``: their opaque bodies pass uncounted, and the route streams
them to disk under its own limit.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import structlog
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kraken_market.api.errors import error_response
from kraken_market.jsondepth import MAX_DEPTH, too_deep
from kraken_market.logs import get_logger

log = get_logger(__name__)
OPAQUE_TYPES = frozenset(
    {"application/octet-stream", "multipart/form-data", "application/x-www-form-urlencoded"}
)


def media_type(content_type: bytes) -> str:
    """``application/json`` of ``Application/JSON; charset=utf-8``."""
    return content_type.split(b";", 1)[0].strip().lower().decode("latin-1")


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
        self,
        app: ASGIApp,
        max_body: int,
        redact: Callable[[str], str] | None = None,
        bounds_own_body: Callable[[Scope], bool] | None = None,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.redact = redact or (lambda path: path)  # paths that carry secrets
        # Routes that take large opaque bodies (object uploads) and bound them themselves,
        # with their own limit and error code: the guard does not count their bytes.
        self.bounds_own_body = bounds_own_body or (lambda scope: False)

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
            types = [value for name, value in scope["headers"] if name == b"content-type"]
            try:
                if len(types) > 1:  # which one a parser reads is not ours to guess
                    await answer(400, "bad_request", "send one Content-Type header, not several")
                elif declared is not None and not declared.isdigit():
                    await answer(400, "bad_request", "Content-Length is not a number")
                elif media_type(
                    headers.get(b"content-type", b"")
                ) in OPAQUE_TYPES and self.bounds_own_body(scope):
                    await self.app(scope, receive, send_with_id)
                elif declared is not None and (len(declared) > 18 or int(declared) > self.max_body):
                    await answer(413, "payload_too_large", self._too_large)
                elif media_type(headers.get(b"content-type", b"")) not in OPAQUE_TYPES:
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
        """The whole body (None beyond ``max_body``), read before any route sees it
        so that its depth is checked first: a process that has imported eth-account
        or py-evm would otherwise crash on ~100,000 '['."""
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
