"""The SDK's side of the embedded relay: a :class:`StreamTransport` over the API.

The HTTP client is injected (an ``httpx2.AsyncClient`` with the session's
bearer token and the API's base URL; tests pass one bound to the app in
process). Following a stream reads its Server-Sent Events
(``GET /api/v1/streams/{id}/events``, parsed by httpx2's ``sse``), reconnecting
after the last id when the server ends the stream; with ``events=False`` (and
for a read that does not follow) it long-polls ``GET .../messages`` instead:
httpx2's in-process ASGI transport hands a response over only once it is
complete, which an event stream never is. Error answers are raised as the
stream's own errors when the code is one of them (``subscription_expired``
...), else as :class:`~kraken_market.client.ApiError` with the server's code;
a 503 with ``Retry-After`` (the API's limit of readers) is waited out.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
from typing import Any, NoReturn

import httpx2

from kraken_market.access.stream import errors as stream_errors
from kraken_market.access.stream.transport import StreamPosition
from kraken_market.client import (
    PUSHBACK_RETRIES,
    ApiError,
    ApiUnreachable,
    error_fields,
    retry_after,
)
from kraken_market.errors import KrakenError

HEARTBEAT_GRACE = 60.0
"""Seconds without a byte after which an event stream counts as lost (the relay sends a
keep-alive comment every 15 s)."""
MAX_EVENT = 8 * 1024 * 1024
RECONNECTS = 5
"""Times in a row a dropped event stream is reconnected before the reader is told."""
_KNOWN: dict[str, type[KrakenError]] = {
    cls.code: cls
    for cls in (getattr(stream_errors, name) for name in stream_errors.__all__)
    if isinstance(cls, type) and issubclass(cls, KrakenError)
}


class RelayTransport:
    """Frames over the marketplace API's relay. ``wait`` is each long-poll's length
    (seconds, at most 25), ``batch`` the most frames per answer, ``events`` whether
    following uses the event stream."""

    def __init__(
        self,
        http: httpx2.AsyncClient,
        *,
        wait: float = 20.0,
        batch: int = 100,
        events: bool = True,
    ) -> None:
        self.http = http
        self.wait = min(wait, 25.0)
        self.batch = batch
        self.events = events

    @staticmethod
    def _path(item: bytes) -> str:
        return f"/api/v1/streams/0x{item.hex()}"

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        for _attempt in range(PUSHBACK_RETRIES):
            try:
                response = await self.http.request(method, path, **kwargs)
            except httpx2.HTTPError as exc:
                raise ApiUnreachable(
                    f"cannot reach the relay at {self.http.base_url} ({type(exc).__name__})"
                ) from exc
            wait = retry_after(response)
            if wait is None:
                break
            await asyncio.sleep(wait)  # the relay pushed back: as told
        if response.is_success:
            return response.json()
        _raise(response)

    async def publish(self, item: bytes, frame: bytes) -> None:
        await self._call(
            "POST",
            self._path(item) + "/messages",
            content=frame,
            headers={"Content-Type": "application/octet-stream"},
        )

    async def position(self, item: bytes) -> StreamPosition | None:
        status = await self._call("GET", self._path(item))
        if status["last_seq"] is None:
            return None
        return StreamPosition(int(status["last_seq"]), int(status["last_epoch"]))

    async def subscribe(
        self,
        item: bytes,
        *,
        from_seq: int | None = None,
        from_time: float | None = None,
        follow: bool = True,
    ) -> AsyncGenerator[bytes]:
        params: dict[str, Any] = {"after": max((from_seq or 1) - 1, 0), "limit": self.batch}
        if from_time is not None:
            params["since"] = max(int(from_time * 1000), 0)
        if follow and self.events:
            del params["limit"]
            async for frame in self._follow(item, params):
                yield frame
            return
        while True:
            params["wait"] = self.wait if follow else 0
            page = await self._call(
                "GET",
                self._path(item) + "/messages",
                params=params,
                timeout=self.wait + 10.0,
            )
            for frame in page["frames"]:
                yield base64.b64decode(frame)
            params["after"] = page["last_seq"]
            if not page["frames"] and not follow:
                return

    async def _follow(self, item: bytes, params: dict[str, Any]) -> AsyncGenerator[bytes]:
        """The stream's event stream, reconnected after the last id whenever it ends."""
        path = self._path(item) + "/events"
        timeout = httpx2.Timeout(10.0, read=HEARTBEAT_GRACE)  # the server beats every 15 s
        dropped = 0
        while True:
            try:
                async with self.http.sse(
                    path, params=params, timeout=timeout, max_event_size=MAX_EVENT
                ) as source:
                    response = source.response
                    if not response.is_success:
                        await response.aread()
                        wait = retry_after(response)
                        if wait is not None:  # the API's limit of readers: as told
                            await asyncio.sleep(wait)
                            continue
                        _raise(response)
                    async for event in source:
                        if event.event == "expired":
                            body = event.json()
                            assert isinstance(body, dict)
                            raise stream_errors.SubscriptionExpired(
                                str(body["message"]), details=body.get("details")
                            )
                        if event.data:
                            yield base64.b64decode(event.data)
                            params["after"] = int(event.id)
                            params.pop("since", None)  # the cursor says it all now
            except httpx2.HTTPError as exc:  # a restarted worker: again, after the last id
                dropped += 1
                if dropped > RECONNECTS:
                    raise ApiUnreachable(
                        f"cannot reach the relay at {self.http.base_url} ({type(exc).__name__})"
                    ) from exc
                await asyncio.sleep(min(2.0 * dropped, 10.0))
                continue
            dropped = 0

    async def close(self) -> None:
        await self.http.aclose()


def _raise(response: httpx2.Response) -> NoReturn:
    code, message, details = error_fields(response)
    known = _KNOWN.get(code)
    if known is not None:
        raise known(message, details=details)
    raise ApiError(response.status_code, code, message, details)
