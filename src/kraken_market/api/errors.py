"""One mapping from the error tree to HTTP: ``{"code", "message", "details"}``.

Every failure leaves as that JSON with a stable ``code``. An unexpected
exception becomes a bare 500 ``internal_error`` in ``api.guard.RequestGuard``
(logged with its request id, never sent to the client).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from kraken_market.errors import (
    Conflict,
    InvalidRequest,
    KrakenError,
    Overloaded,
    ServiceUnavailable,
    TooManyRequests,
    ValidationFailed,
    validation_details,
)
from kraken_market.logs import get_logger

log = get_logger(__name__)

_HTTP_CODES = {
    # Codes for errors raised by FastAPI/Starlette themselves.
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


ERROR_HEADER = "X-Kraken-Error"
"""Every refusal's ``code`` in a header too: the answer to a HEAD has no body (RFC 9110
§9.3.2), and a client still needs to know why (``MarketClient.object_size``)."""


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"code": code, "message": message, "details": details},
        headers={**(headers or {}), ERROR_HEADER: code},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KrakenError)
    async def _kraken(request: Request, exc: KrakenError) -> JSONResponse:
        if exc.status >= 500 and not isinstance(exc, Overloaded):  # pushback is no failure
            log.error("request_failed", code=exc.code, path=request.url.path)
        response = error_response(exc.status, exc.code, exc.message, exc.details)
        if exc.status == 401:  # RFC 9110 §11.6.1 (RFC 6750 for Bearer): the scheme to use
            scheme = getattr(exc, "scheme", "Bearer")
            if exc.code == "session_invalid" and scheme == "Bearer":
                # RFC 6750 §3.1: an expired token is invalid_token; said in a header, so
                # a client learns it from a HEAD too (whose body is never sent) and renews
                scheme = 'Bearer error="invalid_token"'
            response.headers["WWW-Authenticate"] = scheme
        if isinstance(exc, TooManyRequests | Overloaded):  # RFC 9110 §10.2.3
            response.headers["Retry-After"] = str(math.ceil(exc.retry_after))
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc.errors())
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        message = f"{where}: {first['message']}" if where else str(first["message"])
        return error_response(422, ValidationFailed.code, message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        response = error_response(exc.status_code, code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity_conflict", path=request.url.path)
        return error_response(409, Conflict.code, "the request conflicts with a concurrent change")

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # Input validation should refuse such values first; this keeps a miss a 4xx.
        log.warning("unstorable_value", path=request.url.path, error=type(exc.orig).__name__)
        return error_response(422, InvalidRequest.code, "a value in the request cannot be stored")

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database_unavailable", path=request.url.path, error=type(exc.orig).__name__)
        return error_response(503, ServiceUnavailable.code, "the database is unavailable; retry")

    @app.exception_handler(PoolTimeout)
    async def _database_busy(request: Request, exc: PoolTimeout) -> JSONResponse:
        log.error("database_pool_exhausted", path=request.url.path)
        return error_response(503, ServiceUnavailable.code, "the database is busy; retry")
