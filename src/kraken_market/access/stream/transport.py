"""The one interface every stream transport implements, and the choice by settings.

A transport moves frames (ciphertext with a clear header, ``messages``) from a
publisher to subscribers in sequence order. It never sees a key. Two exist:

- the embedded relay (``relay_client.RelayTransport``), frames stored by the
  marketplace API, which checks the subscriber's paid time on chain at every
  read;
- NATS JetStream (``nats.NatsTransport``), one stream per product; the
  server checks nothing, so paid time is enforced by the epoch keys alone.

Cursors: ``from_seq`` is the first sequence number wanted (inclusive),
``from_time`` the earliest send time (unix seconds). ``follow`` keeps waiting
for new frames; without it the iterator ends once it has caught up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NamedTuple, Protocol

from kraken_market.settings import Settings


class StreamPosition(NamedTuple):
    """The newest frame a transport holds for a product."""

    seq: int
    epoch: int


class StreamTransport(Protocol):
    async def publish(self, item: bytes, frame: bytes) -> None:
        """Append ``frame`` to product ``item``'s stream (its seq must follow the last)."""
        ...

    def subscribe(
        self,
        item: bytes,
        *,
        from_seq: int | None = None,
        from_time: float | None = None,
        follow: bool = True,
    ) -> AsyncIterator[bytes]:
        """The frames of ``item`` from a cursor, oldest first."""
        ...

    async def position(self, item: bytes) -> StreamPosition | None:
        """The newest frame's seq and epoch, or None when the stream holds none."""
        ...

    async def close(self) -> None: ...


def item_bytes(product_id: bytes | str) -> bytes:
    """A product id as the 32 bytes of the ledger (from ``0x`` + 64 hex digits or bytes)."""
    if isinstance(product_id, str):
        text = product_id[2:] if product_id[:2].lower() == "0x" else product_id
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ValueError(f"a product id is 0x + 64 hex digits, not {product_id!r}")
        return raw
    if len(product_id) != 32:
        raise ValueError(f"a product id is 32 bytes, not {len(product_id)}")
    return product_id


def transport_from_settings(
    settings: Settings, *, token: str | None = None, consumer: str | None = None
) -> StreamTransport:
    """The transport ``settings.stream_transport`` names: the relay of the API at
    ``api_url`` (acting with session ``token``), or NATS at ``nats_url`` (with a durable
    consumer named ``consumer`` for a subscriber that resumes)."""
    if settings.stream_transport == "nats":
        from kraken_market.access.stream.nats import NatsLimits, NatsTransport

        return NatsTransport(
            settings.nats_url, limits=NatsLimits.from_settings(settings), consumer=consumer
        )
    import httpx2

    from kraken_market.access.stream.relay_client import RelayTransport

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return RelayTransport(httpx2.AsyncClient(base_url=settings.resolved_api_url, headers=headers))
