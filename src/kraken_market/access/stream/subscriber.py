"""The buyer's side of a stream: frames from the transport, keys from the custody,
plaintext messages out, and a clear stop when the paid time ends.

For each frame, in order: the header is parsed and must name the subscribed
product; its sequence number must come after the last accepted one and its
epoch must not go back (``messages.SequenceGuard``); the epoch's key is
fetched once (``EpochKeySource``, from a worker thread) and the frame must
authenticate under it. Any failure raises its own error (``frame_*``) and
stops the iteration: a subscriber never yields a message it could not verify.

The subscription stops with :class:`~kraken_market.access.stream.errors.
SubscriptionExpired` when

- the key custody refuses an epoch's key (the compute nodes release a key only
  to buyers whose paid time on chain covers that epoch): the only check on
  NATS, effective at the next epoch boundary;
- the relay refuses to deliver (it checks ``paid_until`` at every read);
- a frame is stamped after ``paid_until()`` (when the caller passes it): an
  honest client stops at once even inside an epoch whose key it holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from kraken_market.access.stream.epochs import EpochKeySource
from kraken_market.access.stream.errors import (
    EpochKeyDenied,
    FrameWrongProduct,
    PaymentRequired,
    SubscriptionExpired,
    SubscriptionRequired,
)
from kraken_market.access.stream.messages import (
    FrameHeader,
    SequenceGuard,
    StreamMessage,
    open_frame,
    parse_header,
)
from kraken_market.access.stream.transport import StreamTransport, item_bytes

KEYS_KEPT = 4
"""Epoch keys cached (the current one and a few before it; rotation moves forward only)."""


class StreamSubscriber:
    """Reads one stream product's messages. ``paid_until`` returns the subscriber's paid
    time on chain (unix seconds), e.g. ``lambda: ledger.paid_until(me, product)``."""

    def __init__(
        self,
        transport: StreamTransport,
        keys: EpochKeySource,
        product_id: bytes | str,
        *,
        paid_until: Callable[[], int] | None = None,
    ) -> None:
        self.transport = transport
        self.keys = keys
        self.item = item_bytes(product_id)
        self.paid_until = paid_until
        self._keys: dict[int, bytes] = {}
        self._paid: int | None = None

    async def messages(
        self,
        *,
        from_seq: int | None = None,
        from_time: float | None = None,
        follow: bool = True,
    ) -> AsyncIterator[StreamMessage]:
        """The stream's messages from a cursor (see ``transport``), verified and decrypted."""
        guard = SequenceGuard(after_seq=(from_seq or 1) - 1)
        since_ms = None if from_time is None else int(from_time * 1000)
        frames = self.transport.subscribe(
            self.item, from_seq=from_seq, from_time=from_time, follow=follow
        )
        try:
            async for frame in frames:
                header = parse_header(frame)
                _check_product(header, self.item)
                if since_ms is not None and header.timestamp_ms < since_ms:
                    continue  # a transport that starts by arrival time may send a little more
                guard.check(header)
                await self._check_paid(header)
                message = open_frame(frame, await self._key(header))
                guard.advance(header)
                yield message
        finally:
            await _close(frames)

    async def _check_paid(self, header: FrameHeader) -> None:
        if self.paid_until is None:
            return
        if self._paid is None or header.timestamp_ms > self._paid * 1000:
            self._paid = await asyncio.to_thread(self.paid_until)  # may have been extended
        if header.timestamp_ms > self._paid * 1000:
            raise SubscriptionExpired(
                f"your paid time ended at {self._paid}; frame {header.seq} is later",
                details={"paid_until": self._paid, "seq": header.seq},
            )

    async def _key(self, header: FrameHeader) -> bytes:
        key = self._keys.get(header.epoch)
        if key is not None:
            return key
        try:
            key = await asyncio.to_thread(self.keys.key_for, self.item, header.epoch)
        except (SubscriptionExpired, SubscriptionRequired):
            raise  # already says why the subscription stops
        except (EpochKeyDenied, PaymentRequired) as exc:
            raise _ended(exc, header) from exc
        self._keys[header.epoch] = key
        for old in sorted(self._keys)[:-KEYS_KEPT]:
            del self._keys[old]
        return key

    async def close(self) -> None:
        await self.transport.close()


def _ended(exc: EpochKeyDenied | PaymentRequired, header: FrameHeader) -> SubscriptionExpired:
    """The custody's refusal (``not_paid``, ``epoch_key_denied``...) as the stop."""
    code = exc.code
    return SubscriptionExpired(
        f"the key custody refuses the key of epoch {header.epoch} ({code}): "
        "your paid time does not cover it; the subscription stops here",
        details={"epoch": header.epoch, "seq": header.seq, "cause": code},
    )


def _check_product(header: FrameHeader, item: bytes) -> None:
    if header.product != item:
        raise FrameWrongProduct(
            "the transport delivered a frame of another product",
            details={"expected": "0x" + item.hex(), "found": "0x" + header.product.hex()},
        )


async def _close(frames: AsyncIterator[bytes]) -> None:
    closer = getattr(frames, "aclose", None)
    if closer is not None:
        await closer()
