"""HTTP routes of the embedded stream relay: the owner appends frames, paying
subscribers read them after a cursor (long-poll). Thin over ``service``.

Reads hold no database connection while they wait, and waiting readers share
the process's view of each stream's newest frames (``tails``): a new frame is
read from the database once, for all of them. Each API worker holds at most
``max_long_polls`` long-polls at once (then 503 ``overloaded``, Retry-After).
"""

from __future__ import annotations

import base64
import json
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from kraken_market.access.stream.errors import RelayDisabled, SubscriptionExpired
from kraken_market.access.stream.messages import FIELD_MAX
from kraken_market.access.stream.relay import POLL_SLICE, RelayContext, relay_context
from kraken_market.access.stream.service import (
    Position,
    StreamRelay,
    paid_until,
    reader_account,
)
from kraken_market.api.admission import Place
from kraken_market.api.deps import CurrentPrincipal, Publisher, SessionDep
from kraken_market.api.errors import ErrorBody
from kraken_market.api.responses import errors
from kraken_market.catalog.ids import ID_PATTERN
from kraken_market.identity.principal import Principal

router = APIRouter(prefix="/streams", tags=["streams"])

ProductIdPath = Annotated[
    str, Path(pattern=ID_PATTERN, description="0x + 64 hex digits", examples=["0x" + "ab" * 32])
]
_PAYMENT: dict[int | str, dict[str, Any]] = {
    402: {"model": ErrorBody, "description": "No paid time on chain covers now"}
}
WRITE_ANSWERS: dict[int | str, dict[str, Any]] = errors(400, 401, 403, 404, 409, 413, 422)
READ_ANSWERS: dict[int | str, dict[str, Any]] = {**errors(400, 401, 404, 409, 422, 503), **_PAYMENT}
MAX_WAIT = 25.0
MAX_FOLLOW = 300.0
"""Longest an event stream lasts before the reader reconnects (its session and paid time
are checked again then)."""
FOLLOW_BATCH = 200
HEARTBEAT = 15.0


class FrameAccepted(BaseModel):
    product: str
    seq: int
    epoch: int
    timestamp_ms: int


class FramePage(BaseModel):
    frames: list[str] = Field(description="Frames (base64), oldest first")
    last_seq: int = Field(description="Cursor: pass it as 'after' for the next page")
    paid_until: int | None = Field(description="Your paid time (unix s); null for the owner")


class StreamStatus(BaseModel):
    product: str
    first_seq: int | None
    last_seq: int | None
    last_epoch: int | None
    frames: int
    paid_until: int | None
    retention_messages: int
    retention_seconds: int
    max_frame_bytes: int


def _enabled(request: Request) -> RelayContext:
    context = relay_context(request.app)
    if context.settings.stream_transport != "relay":
        raise RelayDisabled("this marketplace carries streams over NATS, not its relay")
    return context


def _instant(context: RelayContext) -> datetime:
    return datetime.fromtimestamp(context.clock(), UTC)


@router.post("/{product_id}/messages", status_code=status.HTTP_201_CREATED, responses=WRITE_ANSWERS)
def publish_frame(
    product_id: ProductIdPath,
    frame: Annotated[bytes, Body(media_type="application/octet-stream")],
    request: Request,
    session: SessionDep,
    principal: Publisher,
) -> FrameAccepted:
    """Append one frame (the product's owner): ciphertext with its clear header, made by
    the stream SDK. Its sequence number must follow the last stored one."""
    context = _enabled(request)
    relay = StreamRelay(session, context.retention)
    header = relay.append(principal, product_id, frame, _instant(context))
    context.tails.stored(product_id)
    context.signal.notify(product_id.lower())
    return FrameAccepted(
        product=product_id.lower(),
        seq=header.seq,
        epoch=header.epoch,
        timestamp_ms=header.timestamp_ms,
    )


async def _reader(request: Request, principal: Principal, product_id: str) -> int | None:
    """The reader's paid time (None for the owner), which must cover now."""
    return (await _reader_and_time(request, principal, product_id))[1]


async def _reader_and_time(
    request: Request, principal: Principal, product_id: str
) -> tuple[str | None, int | None]:
    """The account the reader reads as and its paid time (None, None: the owner)."""
    context = _enabled(request)
    known = context.reader(principal.did, principal.account, product_id)
    if known is None:
        sessions = request.app.state.sessions
        account = await run_in_threadpool(_account, sessions, principal, product_id)
        context.remember_reader(principal.did, principal.account, product_id, account)
    else:
        account = known[0]
    if account is None:
        return None, None
    until = await run_in_threadpool(paid_until, context.paid, account, product_id, context.clock())
    return account, until


def _account(sessions: sessionmaker[Session], principal: Principal, product_id: str) -> str | None:
    with sessions() as session:
        return reader_account(session, principal, product_id)


@router.get("/{product_id}/messages", responses=READ_ANSWERS)
async def read_frames(
    product_id: ProductIdPath,
    request: Request,
    principal: CurrentPrincipal,
    after: Annotated[int, Query(ge=0, le=FIELD_MAX, description="Frames after this seq")] = 0,
    since: Annotated[int | None, Query(ge=0, le=FIELD_MAX, description="Unix ms")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT, description="Long-poll seconds")] = 0,
) -> FramePage:
    """Frames after a cursor, for the owner or a subscriber whose paid time on chain
    covers now; waits up to ``wait`` seconds for the first one. Frames sent after your
    paid time are not served: the next read answers 402 ``subscription_expired``."""
    until = await _reader(request, principal, product_id)
    context = relay_context(request.app)
    window = wait if until is None else min(wait, until - context.clock())
    deadline = time.monotonic() + window
    until_ms = None if until is None else until * 1000
    with request.app.state.long_polls.enter() if window > 0 else nullcontext():
        while True:
            rows = await run_in_threadpool(
                _frames, request.app.state.sessions, context, product_id, after, since,
                until_ms, limit,
            )  # fmt: skip
            remaining = deadline - time.monotonic()
            if rows or remaining <= 0:
                break
            await context.signal.wait(product_id.lower(), min(remaining, POLL_SLICE))
    return FramePage(
        frames=[base64.b64encode(frame).decode("ascii") for _, frame in rows],
        last_seq=rows[-1][0] if rows else after,
        paid_until=until,
    )


@router.get(
    "/{product_id}/events",
    responses=READ_ANSWERS,
    response_class=StreamingResponse,
    summary="Follow a stream's frames (Server-Sent Events)",
)
async def follow_frames(
    product_id: ProductIdPath,
    request: Request,
    principal: CurrentPrincipal,
    after: Annotated[int, Query(ge=0, le=FIELD_MAX, description="Frames after this seq")] = 0,
    since: Annotated[int | None, Query(ge=0, le=FIELD_MAX, description="Unix ms")] = None,
    seconds: Annotated[
        float, Query(gt=0, le=MAX_FOLLOW, description="Seconds before the stream ends")
    ] = MAX_FOLLOW,
) -> StreamingResponse:
    """Frames after a cursor as they are stored, over one connection: Server-Sent Events
    (WHATWG HTML, "Server-sent events"), each ``id: <seq>`` and ``data: <base64
    frame>``. Cheaper than long-polling for the server and the reader: a new frame is
    written to every open stream, with no request to parse or authenticate. The
    stream ends after ``seconds`` (reconnect with ``after`` = the last id), or with an
    ``expired`` event (``data``: the error as JSON) once your paid time is over and
    the chain shows no more. Who may read: as ``GET .../messages``."""
    account, until = await _reader_and_time(request, principal, product_id)
    context = relay_context(request.app)
    place = request.app.state.long_polls.place()
    stream = _events(context, request, product_id, account, until, after, since, seconds, place)
    weakref.finalize(stream, place.release)  # even if the stream is never started
    return StreamingResponse(
        stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


async def _events(
    context: RelayContext,
    request: Request,
    product_id: str,
    account: str | None,
    until: int | None,
    after: int,
    since: int | None,
    seconds: float,
    place: Place,
) -> AsyncIterator[str]:
    sessions, key = request.app.state.sessions, product_id.lower()
    ends, cursor, quiet = time.monotonic() + seconds, after, time.monotonic()
    try:
        yield "retry: 2000\n\n"  # how long a client waits before it reconnects (ms)
        while (remaining := ends - time.monotonic()) > 0:
            if account is not None and until is not None and context.clock() >= until:
                until = await run_in_threadpool(context.paid.paid_until, account, product_id)
                if until <= context.clock():
                    ended = SubscriptionExpired(
                        f"your paid time for this stream ended at {until}",
                        details={"account": account, "paid_until": until},
                    )
                    body = {"code": ended.code, "message": ended.message, "details": ended.details}
                    yield f"event: expired\ndata: {json.dumps(body)}\n\n"
                    return
            until_ms = None if until is None else until * 1000
            now = _instant(context)
            rows = context.tails.frames(
                key, after=cursor, since_ms=since, until_ms=until_ms, limit=FOLLOW_BATCH,
                now=now, refresh=False,
            )  # fmt: skip
            if rows is None:  # a read of the database is due: in the thread pool
                rows = await run_in_threadpool(
                    _frames, sessions, context, key, cursor, since, until_ms, FOLLOW_BATCH
                )
            if rows:
                cursor, quiet = rows[-1][0], time.monotonic()
                yield "".join(
                    f"id: {seq}\ndata: {base64.b64encode(frame).decode('ascii')}\n\n"
                    for seq, frame in rows
                )
                continue
            if time.monotonic() - quiet > HEARTBEAT:  # keeps proxies from closing it
                quiet = time.monotonic()
                yield ": keep-alive\n\n"
            await context.signal.wait(key, min(remaining, POLL_SLICE))
    finally:
        place.release()


def _frames(
    sessions: sessionmaker[Session],
    context: RelayContext,
    product_id: str,
    after: int,
    since: int | None,
    until_ms: int | None,
    limit: int,
) -> list[tuple[int, bytes]]:
    now = _instant(context)
    cached = context.tails.frames(
        product_id, after=after, since_ms=since, until_ms=until_ms, limit=limit, now=now
    )
    if cached is not None:
        return cached
    with sessions() as session:  # a cursor older than the frames this process keeps
        return StreamRelay(session, context.retention).frames(
            product_id,
            after=after,
            since_ms=since,
            until_ms=until_ms,
            limit=limit,
            now=_instant(context),
        )


@router.get("/{product_id}", responses=READ_ANSWERS)
async def stream_status(
    product_id: ProductIdPath, request: Request, principal: CurrentPrincipal
) -> StreamStatus:
    """Where the stream is (newest seq and epoch: a restarted publisher continues after
    them) and your paid time; for the owner or a subscriber whose paid time covers now."""
    until = await _reader(request, principal, product_id)
    context = relay_context(request.app)
    position = await run_in_threadpool(_position, request.app.state.sessions, context, product_id)
    retention = context.retention
    return StreamStatus(
        product=product_id.lower(),
        first_seq=position.first_seq,
        last_seq=position.last_seq,
        last_epoch=position.last_epoch,
        frames=position.frames,
        paid_until=until,
        retention_messages=retention.messages,
        retention_seconds=retention.seconds,
        max_frame_bytes=retention.max_frame_bytes,
    )


def _position(sessions: sessionmaker[Session], context: RelayContext, product_id: str) -> Position:
    with sessions() as session:
        return StreamRelay(session, context.retention).position(product_id)
