"""``kraken-market chain serve``: the embedded durable chain over Ethereum JSON-RPC.

Requests (single or batch, JSON-RPC 2.0) are dispatched to eth-tester through
web3's ``EthereumTesterProvider`` together with its own request/result
middleware, then encoded in the Ethereum wire format (quantities and byte
strings as ``0x`` hex). A lock serialises access to the chain; a transaction
is answered only after its block is committed to disk (eth-tester mines it on
arrival, ``DurableBackend`` commits every mined block), so an acknowledged
transaction survives a kill -9. Malformed requests get JSON-RPC error objects
(-32700 parse error, including non-UTF-8; -32600 invalid request, including
bodies over 4 MiB and JSON nested deeper than 64 levels; -32601 unknown
method; -32000 execution error), never a crash.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_tester import EthereumTester
from eth_tester.exceptions import TransactionFailed
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from web3 import EthereumTesterProvider, Web3

from kraken_market.jsondepth import MAX_DEPTH, too_deep
from kraken_market.ledger.chain.embedded import DurableBackend
from kraken_market.logs import get_logger

log = get_logger(__name__)
MAX_BATCH = 100
ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string), Solidity's and Vyper's revert
MAX_BODY = 4 * 1024 * 1024  # far above any contract deployment; bounds memory per request


def wire(value: Any) -> Any:
    """Python values from eth-tester in JSON-RPC wire format (hex quantities and data)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [wire(item) for item in value]
    return str(value)


def revert_data(exc: BaseException) -> str | None:
    """The revert output (ABI-encoded ``Error(string)``) of a reverted call, hex.

    web3 reads a revert's reason from the error's ``data``, as geth sends it;
    eth-tester keeps the raw output as the bytes argument of its
    ``TransactionFailed``, somewhere in the exception chain.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TransactionFailed) and seen.args and isinstance(seen.args[0], bytes):
            return "0x" + seen.args[0].hex()
        seen = seen.__cause__ or seen.__context__
    marker = "execution reverted: "
    message = str(exc)
    if marker in message:
        reason = message.split(marker, 1)[1]
        return "0x" + (ERROR_SELECTOR + abi_encode(["string"], [reason])).hex()
    return None


def _error(id_: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "error": {"code": code, "message": message}}


class ChainNode:
    """One durable chain answering JSON-RPC calls, one at a time."""

    def __init__(self, backend: DurableBackend) -> None:
        self.backend = backend
        provider = EthereumTesterProvider(EthereumTester(backend))
        w3 = Web3(provider, middleware=[])
        self._request = provider.request_func(w3, w3.middleware_onion)
        self._lock = threading.Lock()

    def handle(self, call: Any) -> dict[str, Any]:
        if not isinstance(call, dict) or call.get("jsonrpc") != "2.0":
            return _error(None, -32600, "invalid request: expected a JSON-RPC 2.0 object")
        id_, method, params = call.get("id"), call.get("method"), call.get("params", [])
        if not isinstance(method, str) or not isinstance(params, list):
            return _error(id_, -32600, "invalid request: method must be a string, params a list")
        try:
            with self._lock:
                response = self._request(method, params)
        except Exception as exc:  # eth-tester raises many types for bad calls and reverts
            message = str(exc) or type(exc).__name__
            log.info("rpc_call_failed", method=method, error=type(exc).__name__)
            data = revert_data(exc)
            if data is not None:  # as geth answers a revert: code 3, the revert data
                error = {"code": 3, "message": message[:500], "data": data}
                return {"jsonrpc": "2.0", "id": id_, "error": error}
            return _error(id_, -32000, message[:500])
        if "error" in response:
            error = dict(response["error"])
            return {"jsonrpc": "2.0", "id": id_, "error": error}
        return {"jsonrpc": "2.0", "id": id_, "result": wire(response.get("result"))}

    def close(self) -> None:
        with self._lock:
            self.backend.close()


def create_rpc_app(node: ChainNode) -> Starlette:
    async def rpc(request: Request) -> Response:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                return JSONResponse(
                    _error(None, -32600, f"requests are limited to {MAX_BODY} bytes")
                )
        if too_deep(raw):  # see kraken_market.jsondepth: this process imports py-evm
            return JSONResponse(_error(None, -32600, f"JSON nested deeper than {MAX_DEPTH}"))
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON or not UTF-8
            return JSONResponse(_error(None, -32700, "parse error: the body is not JSON"))
        if isinstance(body, list):
            if not body or len(body) > MAX_BATCH:
                return JSONResponse(_error(None, -32600, f"a batch holds 1 to {MAX_BATCH} calls"))
            answers = [await run_in_threadpool(node.handle, call) for call in body]
            return JSONResponse(answers)
        return JSONResponse(await run_in_threadpool(node.handle, body))

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        node.close()

    routes = [Route("/", rpc, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    return Starlette(routes=routes, lifespan=lifespan)
