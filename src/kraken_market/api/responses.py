"""OpenAPI descriptions of the error answers, so clients (and schemathesis) know them."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from kraken_market.api.errors import ErrorBody

_TEXT = {
    400: "Malformed request (e.g. a cursor this API did not issue)",
    401: "No valid bearer token",
    403: "Not allowed for this account (e.g. not the product's owner, not a platform admin)",
    404: "No such product, union or company",
    409: (
        "Conflicts with the current state (retired product, lineage cycle, existing union "
        "or company, a company status change not allowed from its status)"
    ),
    410: "Gone: the sign-in request expired or was answered already",
    413: "Request body too large",
    415: "The body is not of the media type this route takes",
    422: "Invalid input; details list every problem",
    429: "Too many writes; wait the Retry-After seconds (the SDK does)",
    503: "A service this needs is unavailable (chain, verifier, status list); retry later",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": _TEXT[s]} for s in statuses}


READ = errors(400, 404, 422)
WRITE = errors(400, 401, 403, 404, 409, 413, 422, 429)


def json_body(model: BaseModel, status: int = 200) -> Response:
    """Serialise an already-validated model once, in pydantic-core, skipping FastAPI's
    re-validation and second encoding pass (declare ``response_model`` on the route)."""
    return Response(model.model_dump_json(by_alias=True), status, media_type="application/json")
