"""The compute node's key custody routes (thin: read, parse, call ``KeyCustody``)::

    POST /keys           deposit a sealed key share (wire.KeyDeposit) -> 201, or 200 if
                         the same deposit was stored before (DepositReceipt)
    POST /keys/release   re-seal this node's share to a buyer (wire.KeyRelease) -> 200
                         (ReleasedShare)

Errors are ``{"code", "message", "details"}`` (``access.errors``). The node app
has no request guard of its own (the marketplace API's ``RequestGuard``), so
these routes read the body themselves: at most 16 KiB (``payload_too_large``)
and JSON nested at most 64 levels, checked before parsing
(``kraken_market.jsondepth``: this process imports py-evm, whose recursion
limit would let a deep body crash it).
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from kraken_market import jsondepth
from kraken_market.access.custody import KeyCustody
from kraken_market.access.errors import PayloadTooLarge
from kraken_market.access.wire import DepositReceipt, KeyDeposit, KeyRelease, ReleasedShare
from kraken_market.errors import InvalidRequest, ValidationFailed

MAX_BODY: Final = 16 * 1024
Body = TypeVar("Body", bound=BaseModel)


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


async def _read(request: Request, model: type[Body]) -> Body:
    declared = request.headers.get("content-length", "0")
    too_large = PayloadTooLarge(f"key custody request bodies are limited to {MAX_BODY} bytes")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise too_large
    try:
        data = jsondepth.loads(bytes(raw))
    except ValueError as exc:
        raise InvalidRequest(f"the body is not JSON ({str(exc)[:100]})") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"loc": ["body", *e["loc"]], "type": e["type"], "message": e["msg"]}
            for e in exc.errors()
        ]
        where = ".".join(str(p) for p in details[0]["loc"])
        raise ValidationFailed(f"{where}: {details[0]['message']}", details=details) from exc


def custody_router(custody: KeyCustody) -> APIRouter:
    """The routes over ``custody`` (mounted by ``smpc.node.app.create_app``)."""
    router = APIRouter(tags=["key custody"])

    @router.post(
        "/keys",
        status_code=201,
        response_model=DepositReceipt,
        openapi_extra=_schema(KeyDeposit),
    )
    async def deposit(request: Request, response: Response) -> DepositReceipt:
        body = await _read(request, KeyDeposit)
        receipt = await run_in_threadpool(custody.deposit, body)
        response.status_code = 201 if receipt.created else 200
        return receipt

    @router.post("/keys/release", response_model=ReleasedShare, openapi_extra=_schema(KeyRelease))
    async def release(request: Request) -> ReleasedShare:
        body = await _read(request, KeyRelease)
        return await run_in_threadpool(custody.release, body)

    return router
