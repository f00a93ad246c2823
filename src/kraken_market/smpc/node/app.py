"""The compute node's HTTP API (thin: parse, call the service, shape the answer).

    GET  /healthz                     liveness
    GET  /node                        index, m, t, ledger account, HPKE public key
    GET  /functions                   the function catalogue (ids, parameter schemas)
    POST /jobs                        submit a job (JobRequest) -> 202 and its status
    GET  /jobs/{request_id}           status (state, error, suppressed, commitment, attestation)
    GET  /jobs/{request_id}/result    the encrypted result file (application/octet-stream)
                                      (both to the job's buyer only: ``smpc.job_auth``)
    POST /jobs/{request_id}/prepare   lease this node's MPC port for the job -> {"port"}
    POST /jobs/{request_id}/start     {"ports": [...]}: run it with every node's port
    POST /jobs/{request_id}/release   give the port back (the job waits again)
    POST /jobs/{request_id}/abandon   drop the job if the chain refuses it now
                                      (these four from another registered node only,
                                      signed: ``smpc.node.peers``; ``smpc.node.schedule``)
    POST /keys, POST /keys/release    key custody (``kraken_market.access.node_routes``)

Errors are ``{"code", "message", "details"}`` with the codes of
``smpc.node.errors`` and the SMPC/ledger error trees. Submitting is open to
anyone: a node computes only what the chain shows was paid for and granted.
Every request passes the platform's ``RequestGuard`` first: bodies of at most
``MAX_BODY`` bytes, JSON nested at most 64 levels (this process imports
py-evm: a deep body would crash it), unexpected errors answered as JSON 500s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from kraken_market.access.node_routes import custody_router
from kraken_market.api.docs import install_docs
from kraken_market.api.errors import install_error_handlers
from kraken_market.api.guard import RequestGuard
from kraken_market.smpc import job_auth
from kraken_market.smpc.functions.catalogue import describe
from kraken_market.smpc.node import peers
from kraken_market.smpc.node.jobs import JobRequest
from kraken_market.smpc.node.service import NodeService

MAX_BODY = 1024 * 1024
"""A job names its products, function and parameters: far below this."""


class StartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ports: list[int] = Field(min_length=1, max_length=64)


class EmptyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


def create_app(service: NodeService, *, manage: bool = True) -> FastAPI:
    """The app over ``service``; with ``manage`` the app starts and closes it."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage:
            service.start_service()
        yield
        if manage:
            service.close()

    app = FastAPI(
        title=f"Kraken Market compute node {service.config.index}",
        lifespan=lifespan,
        docs_url=None,  # install_docs: the same pages from packaged assets, no CDN
        redoc_url=None,
    )
    install_docs(app, docs_url="/docs", redoc_url="/redoc", assets_url="/docs-assets")
    install_error_handlers(app)
    app.add_middleware(RequestGuard, max_body=MAX_BODY)
    index = service.config.index

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/node")
    def node() -> dict[str, Any]:
        return service.info()

    @app.get("/functions")
    def functions() -> list[dict[str, object]]:
        return describe()

    @app.post("/jobs", status_code=202)
    def submit(request: JobRequest) -> dict[str, Any]:
        return service.public(service.submit(request).request_id)

    @app.get("/jobs/{request_id}")
    def status(request_id: str, request: Request) -> dict[str, Any]:
        _buyer_only(request, request_id)
        return service.public(request_id)

    @app.post("/jobs/{request_id}/prepare")
    def prepare(request_id: str, request: Request, _: EmptyBody | None = None) -> dict[str, Any]:
        _node_only(request, "prepare", request_id)
        return {"port": service.prepare(request_id)}

    @app.post("/jobs/{request_id}/start")
    def start(request_id: str, body: StartBody, request: Request) -> dict[str, Any]:
        _node_only(request, "start", request_id, peers.ports_text(body.ports))
        return service.start(request_id, body.ports).public(index)

    @app.post("/jobs/{request_id}/release")
    def release(request_id: str, request: Request, _: EmptyBody | None = None) -> dict[str, str]:
        _node_only(request, "release", request_id)
        service.release(request_id)
        return {"state": service.status(request_id).state}

    @app.post("/jobs/{request_id}/abandon")
    def abandon(request_id: str, request: Request, _: EmptyBody | None = None) -> dict[str, str]:
        _node_only(request, "abandon", request_id)
        service.abandon(request_id)
        return {"state": service.status(request_id).state}

    def _node_only(request: Request, action: str, request_id: str, extra: str = "") -> None:
        own = service.chain.account
        service.peers.verify(
            request.headers.get(peers.SIGNATURE_HEADER),
            request.headers.get(peers.TIME_HEADER),
            request.headers.get(peers.NONCE_HEADER),
            lambda at, nonce: peers.statement(action, request_id, own, at, nonce, extra),
        )

    @app.get("/jobs/{request_id}/result")
    def result(request_id: str, request: Request) -> Response:
        _buyer_only(request, request_id)
        record = service.status(request_id)
        headers = {"X-Result-Commitment": record.commitment or ""}
        return Response(
            service.result(request_id), media_type="application/octet-stream", headers=headers
        )

    def _buyer_only(request: Request, request_id: str) -> None:
        headers = request.headers
        service.require_buyer(
            request_id,
            headers.get(job_auth.SIGNATURE_HEADER),
            headers.get(job_auth.TIME_HEADER),
        )

    app.include_router(custody_router(service.custody))
    return app
