"""Stream frames over NATS JetStream: one JetStream stream per product.

Subject ``kraken.streams.<64 hex id>``, stream ``kraken-streams-<64 hex id>``
(another ``prefix`` isolates tenants and tests), file storage, bounded by
count, age, bytes and frame size (discard old). Each frame is published with
``Nats-Msg-Id: <seq>`` (a retried publish is stored once, within the
duplicate window) and ``Nats-Expected-Last-Sequence: <seq - 1>``, so the
stream's own sequence equals the frame's and a reader's ``from_seq`` is a
JetStream start sequence. Subscribers read through pull consumers: durable
(named after the subscriber, resuming where it acknowledged) or ephemeral.

NATS checks no payment: enforcement is cryptographic. Anyone who can reach
the subject gets ciphertext; only a subscriber whose paid time covers an
epoch gets that epoch's key from the compute nodes, so after ``paid_until``
the subscriber SDK stops at the next epoch with ``subscription_expired``
(``subscriber``). Production servers should still restrict publishing on
``kraken.streams.>`` to the sellers (NATS accounts and permissions): a forged
frame cannot pass the subscriber's tag check, but it can disturb the stream.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from kraken_market.access.stream.errors import (
    FrameTooLarge,
    StreamNotFound,
    StreamSequenceConflict,
    StreamTransportUnavailable,
)
from kraken_market.access.stream.messages import parse_header
from kraken_market.access.stream.nats_config import (
    NatsLimits,
    check_name,
    consumer_config,
    stream_config,
)
from kraken_market.access.stream.transport import StreamPosition

__all__ = ["NatsLimits", "NatsTransport"]

WRONG_LAST_SEQUENCE = 10071  # JetStream API error code
RECONNECTS = 2
_UNAVAILABLE = (OSError, nats.errors.Error, TimeoutError)


class NatsTransport:
    """A :class:`~kraken_market.access.stream.transport.StreamTransport` over JetStream;
    connects on first use."""

    def __init__(
        self,
        url: str,
        *,
        limits: NatsLimits | None = None,
        consumer: str | None = None,
        prefix: str = "kraken",
        connect_timeout: float = 2.0,
        fetch_wait: float = 5.0,
        batch: int = 100,
    ) -> None:
        check_name("consumer", consumer)
        check_name("prefix", prefix)
        self.url, self.consumer, self.prefix = url, consumer, prefix
        self.limits = limits or NatsLimits()
        self.connect_timeout, self.fetch_wait, self.batch = connect_timeout, fetch_wait, batch
        self._nc: Client | None = None
        self._ready: set[bytes] = set()

    def subject(self, item: bytes) -> str:
        return f"{self.prefix}.streams.{item.hex()}"

    def stream_name(self, item: bytes) -> str:
        return f"{self.prefix}-streams-{item.hex()}"

    async def _js(self) -> JetStreamContext:
        if self._nc is None or self._nc.is_closed:
            try:
                self._nc = await nats.connect(
                    self.url,
                    connect_timeout=max(1, round(self.connect_timeout)),
                    max_reconnect_attempts=RECONNECTS,  # nats-py: 0 would retry forever
                    reconnect_time_wait=0.25,
                    error_cb=_ignore,
                )
            except _UNAVAILABLE as exc:
                raise StreamTransportUnavailable(
                    f"no NATS server answers at {self.url} ({type(exc).__name__})"
                ) from exc
        return self._nc.jetstream()

    async def _ensure_stream(self, js: JetStreamContext, item: bytes) -> None:
        if item in self._ready:
            return
        config = stream_config(self.stream_name(item), self.subject(item), self.limits)
        try:
            await js.add_stream(config)
        except nats.js.errors.BadRequestError:  # exists with other limits: take ours
            await js.update_stream(config)
        self._ready.add(item)

    async def publish(self, item: bytes, frame: bytes) -> None:
        if len(frame) > self.limits.max_msg_size:
            raise FrameTooLarge(
                f"a frame is at most {self.limits.max_msg_size} bytes",
                details={"bytes": len(frame), "limit": self.limits.max_msg_size},
            )
        header = parse_header(frame)
        js = await self._js()
        try:
            await self._ensure_stream(js, item)
            if header.seq == 1:  # JetStream skips an expected last sequence of 0
                await self._expect_empty(js, item)
            headers = {"Nats-Msg-Id": str(header.seq)}
            if header.seq > 1:
                headers["Nats-Expected-Last-Sequence"] = str(header.seq - 1)
            await js.publish(
                self.subject(item), frame, stream=self.stream_name(item), headers=headers
            )
        except nats.js.errors.APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                raise StreamSequenceConflict(
                    f"frame {header.seq} does not follow the stream's last frame",
                    details={"seq": header.seq},
                ) from exc
            raise StreamTransportUnavailable(f"JetStream refused the frame: {exc}") from exc
        except _UNAVAILABLE as exc:
            raise StreamTransportUnavailable(f"NATS at {self.url}: {type(exc).__name__}") from exc

    async def _expect_empty(self, js: JetStreamContext, item: bytes) -> None:
        info = await js.stream_info(self.stream_name(item))
        if info.state.last_seq != 0:
            raise StreamSequenceConflict(
                "frame 1 cannot follow the stream's existing frames",
                details={"seq": 1, "last_seq": info.state.last_seq},
            )

    async def position(self, item: bytes) -> StreamPosition | None:
        js = await self._js()
        name = self.stream_name(item)
        try:
            info = await js.stream_info(name)
            if info.state.last_seq == 0:
                return None
            try:
                last = await js.get_last_msg(name, self.subject(item))
            except nats.js.errors.NotFoundError:  # aged out: the seq stays known
                return StreamPosition(info.state.last_seq, 0)
        except nats.js.errors.NotFoundError:
            return None
        except _UNAVAILABLE as exc:
            raise StreamTransportUnavailable(f"NATS at {self.url}: {type(exc).__name__}") from exc
        return StreamPosition(info.state.last_seq, parse_header(last.data or b"").epoch)

    async def subscribe(
        self,
        item: bytes,
        *,
        from_seq: int | None = None,
        from_time: float | None = None,
        follow: bool = True,
    ) -> AsyncGenerator[bytes]:
        js = await self._js()
        name = self.stream_name(item)
        try:
            await js.stream_info(name)
            pull = await js.pull_subscribe(
                self.subject(item),
                durable=self.consumer,
                stream=name,
                config=consumer_config(
                    from_seq, from_time, self.limits, durable=self.consumer is not None
                ),
            )
        except nats.js.errors.NotFoundError as exc:
            raise StreamNotFound("nothing has been published on this stream yet") from exc
        except _UNAVAILABLE as exc:
            raise StreamTransportUnavailable(f"NATS at {self.url}: {type(exc).__name__}") from exc
        held: list[Msg] = []  # fetched, not yet acknowledged
        try:
            if not follow and (await pull.consumer_info()).num_pending == 0:
                return
            while True:
                try:
                    held = await pull.fetch(self.batch, timeout=self.fetch_wait)
                except nats.errors.TimeoutError:
                    if not follow:
                        return
                    continue
                except _UNAVAILABLE as exc:
                    raise StreamTransportUnavailable(f"NATS: {type(exc).__name__}") from exc
                while held:
                    yield held[0].data
                    await held.pop(0).ack()  # once the reader asks for more: at least once
                    if not follow and not held and (await pull.consumer_info()).num_pending == 0:
                        return
        finally:
            await self._release(js, name, pull, held)

    async def _release(
        self,
        js: JetStreamContext,
        stream: str,
        pull: JetStreamContext.PullSubscription,
        held: list[Msg],
    ) -> None:
        """Stop pulling. A durable consumer is kept, and what it fetched but the reader
        did not take is handed back (nak: redelivered at once, not after ``ack_wait``);
        an ephemeral consumer is deleted."""
        try:
            if self.consumer is None:
                info = await pull.consumer_info()
                await js.delete_consumer(stream, info.name)
            else:
                for message in held:
                    await message.nak()
            await pull.unsubscribe()
        except (*_UNAVAILABLE, nats.js.errors.Error):
            pass  # the server removes an idle consumer itself (inactive_threshold)

    async def delete(self, item: bytes) -> None:
        """Remove the product's stream and its consumers (a seller retiring a product)."""
        js = await self._js()
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(self.stream_name(item))
        self._ready.discard(item)

    async def close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = None


async def _ignore(_exc: Exception) -> None:
    """Connection errors reach the caller as ``stream_transport_unavailable``; nats-py's
    default callback would only log them a second time."""
