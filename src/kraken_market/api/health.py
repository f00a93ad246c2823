"""Liveness and readiness probes (outside ``/api/v1``, as orchestrators expect)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from kraken_market.db.migrate import is_current

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


@router.get("/healthz")
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "Not ready"}},
)
def readyz(request: Request) -> Health | JSONResponse:
    """Ready to serve: the database answers and its schema is at the newest migration."""
    engine = request.app.state.engine
    checks: dict[str, str] = {}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["migrations"] = "ok" if is_current(engine) else "behind"
    except SQLAlchemyError as exc:
        checks["database"] = f"unavailable ({type(exc).__name__})"
    if all(v == "ok" for v in checks.values()) and "migrations" in checks:
        return Health(status="ready", checks=checks)
    body = Health(status="not_ready", checks=checks).model_dump()
    return JSONResponse(status_code=503, content=body)
