"""HTTP routes of the platform's ciphertext storage: parse, call :class:`StorageService`.

``PUT /objects/{name}`` streams its body to a staged copy in blocks of 1 MiB,
each handed to the thread pool (hashing, checking and writing are blocking
work); the request guard lets these bodies through uncounted
(``api.guard.RequestGuard.bounds_own_body``) because the service bounds them with
``storage_max_object_bytes`` and its own code. No database connection is held
while the bytes arrive: the owner check runs first, on a session closed at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from kraken_market.api.deps import CurrentPrincipal, Publisher
from kraken_market.api.guard import media_type
from kraken_market.api.responses import READ, WRITE, errors
from kraken_market.identity.principal import Principal
from kraken_market.storage.errors import ObjectIncomplete, UnsupportedMediaType
from kraken_market.storage.formats import ObjectKind
from kraken_market.storage.service import (
    READ_BLOCK,
    Placement,
    StorageService,
    StoredObject,
    UploadTarget,
)

router = APIRouter(tags=["storage"])
API_PREFIX = "/api/v1"  # where create_app mounts this router: upload targets name its paths

ObjectName = Annotated[
    str,
    Path(
        max_length=1024,
        description="<product id>/… ending .kshare, .jws or .kdata",
        examples=["0x" + "ab" * 32 + "/data.kdata"],
    ),
]
UPLOADS = {**WRITE, **errors(415)}


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=1024, description="<product id>/… ending .kshare, .jws or .kdata")
    size: int = Field(ge=1, description="bytes")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the bytes, hex")


class UploadTargetPublic(BaseModel):
    name: str
    state: Literal["upload", "stored"] = Field(
        description="'stored': these bytes are stored already, nothing to send"
    )
    method: Literal["PUT"] | None = None
    url: str | None = Field(
        default=None, description="an API path (send the session), or a presigned URL (do not)"
    )
    headers: dict[str, str] | None = None
    credentials: Literal["session", "none"] | None = None
    expires_at: datetime | None = None
    complete_url: str | None = Field(
        default=None, description="POST {name, size, sha256} here once the PUT succeeded"
    )
    upload_id: str | None = None


class StoredObjectPublic(BaseModel):
    name: str = Field(description="the object's storage name: what a product's link names")
    kind: ObjectKind
    size: int
    sha256: str
    created: bool = Field(description="false: the same bytes were stored already")


def _storage(request: Request) -> StorageService:
    service: StorageService = request.app.state.storage
    return service


def _place(request: Request, principal: Principal, name: str) -> Placement:
    """The owner check on a read session of its own, closed before any body is read (a
    long upload must hold neither a connection nor SQLite's write lock)."""
    session: Session = request.app.state.sessions()
    try:
        return _storage(request).place(session, principal, name)
    finally:
        session.close()


def _stored(stored: StoredObject, response: Response) -> StoredObjectPublic:
    response.status_code = status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK
    return StoredObjectPublic(
        name=stored.name,
        kind=stored.kind,
        size=stored.size,
        sha256=stored.sha256,
        created=stored.created,
    )


@router.post("/uploads", responses=WRITE)
def upload_target(
    body: UploadRequest, request: Request, principal: Publisher
) -> UploadTargetPublic:
    """Where to send an object's bytes: the API's own ``PUT /objects/{name}`` (with your
    session) or, with S3 storage, a presigned URL (then ``complete_url``). ``stored``:
    these bytes are stored already (an idempotent re-upload)."""
    placement = _place(request, principal, body.name)
    target: UploadTarget = _storage(request).target(placement, body.size, body.sha256)
    answer = UploadTargetPublic.model_validate(target, from_attributes=True)
    if target.state == "upload" and target.credentials == "session":
        answer.url = f"{API_PREFIX}/objects/{target.name}"
    if target.upload_id is not None:
        answer.complete_url = f"{API_PREFIX}/uploads/{target.upload_id}/complete"
    return answer


OCTETS = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


@router.put(
    "/objects/{name:path}",
    status_code=status.HTTP_201_CREATED,
    responses={**UPLOADS, 200: {"model": StoredObjectPublic, "description": "stored already"}},
    openapi_extra={"requestBody": {"required": True, "content": OCTETS}},
)
async def put_object(
    name: ObjectName, request: Request, response: Response, principal: Publisher
) -> StoredObjectPublic:
    """Upload an encrypted object (``application/octet-stream``): checked as it arrives,
    stored only whole and valid, never over other bytes. 201: stored; 200: the same
    bytes were there already."""
    if media_type(request.headers.get("content-type", "").encode("latin-1")) != (
        "application/octet-stream"
    ):
        raise UnsupportedMediaType("send the object as Content-Type: application/octet-stream")
    declared = request.headers.get("content-length")
    placement = await run_in_threadpool(_place, request, principal, name)
    service = _storage(request)
    receiver = await run_in_threadpool(
        service.receive, placement, int(declared) if declared else None
    )
    try:
        block = bytearray()
        try:
            async for chunk in request.stream():
                block += chunk
                if len(block) >= READ_BLOCK:
                    await run_in_threadpool(receiver.write, bytes(block))
                    block.clear()
        except ClientDisconnect as exc:
            raise ObjectIncomplete("the upload was cut off: send the whole object") from exc
        if block:
            await run_in_threadpool(receiver.write, bytes(block))
        stored = await run_in_threadpool(receiver.finish)
    finally:
        await run_in_threadpool(receiver.discard)
    return _stored(stored, response)


@router.post(
    "/uploads/{upload_id}/complete",
    responses={**WRITE, 201: {"model": StoredObjectPublic, "description": "stored now"}},
)
def complete_upload(
    upload_id: Annotated[str, Path(max_length=64)],
    body: UploadRequest,
    request: Request,
    response: Response,
    principal: Publisher,
) -> StoredObjectPublic:
    """After a PUT to a presigned URL: check the object (format, size, SHA-256; a
    manifest's signer and share files) and store it under its name. Until then the
    product cannot link it: nothing is under its name."""
    placement = _place(request, principal, body.name)
    stored = _storage(request).complete(placement, upload_id, body.size, body.sha256)
    return _stored(stored, response)


def _readable(request: Request, principal: Principal, name: str, purchase: int | None) -> int:
    session: Session = request.app.state.sessions()
    try:
        return _storage(request).readable(session, principal, name, purchase)
    finally:
        session.close()


Purchase = Annotated[int | None, Query(ge=1, description="your purchase id (buyers)")]
READS = {**READ, **errors(401, 403, 409)}


@router.get(
    "/objects/{name:path}",
    response_class=StreamingResponse,
    responses={**READS, 200: {"content": OCTETS, "description": "the object's bytes"}},
)
def get_object(
    name: ObjectName, request: Request, principal: CurrentPrincipal, purchase: Purchase = None
) -> Response:
    """An object's bytes, to the product's owner, or (a batch product's data file) to the
    buyer of ``purchase``, which the chain must record for the account bound to your DID."""
    size = _readable(request, principal, name, purchase)
    store = _storage(request).store

    def blocks() -> Iterator[bytes]:
        with store.open(name) as source:
            while block := source.read(READ_BLOCK):
                yield block

    headers = {"Content-Length": str(size)}
    return StreamingResponse(blocks(), headers=headers, media_type="application/octet-stream")


@router.head(
    "/objects/{name:path}",
    responses={**READS, 200: {"content": OCTETS, "description": "Content-Length: its size"}},
)
def object_size(
    name: ObjectName, request: Request, principal: CurrentPrincipal, purchase: Purchase = None
) -> Response:
    """Whether an object is there and its size (``Content-Length``), for whoever may read it."""
    size = _readable(request, principal, name, purchase)
    headers = {"Content-Length": str(size)}
    return Response(status_code=200, headers=headers, media_type="application/octet-stream")
