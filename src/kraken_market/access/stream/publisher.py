"""The seller's side of a stream: encrypt each message under the current epoch key
and hand the frame to the transport.

``StreamPublisher.publish`` rotates the epoch when the schedule says so; a new
epoch's key is deposited with the custody before the first message under it
is sent. On its first message (and after any failed send) the publisher reads
the transport's newest frame and continues after it: the next sequence number
and a new epoch, with a new key. That is what keeps AES-GCM nonces unique
(``messages``): a (key, seq) pair that may have left the process is never
used for another plaintext, not after a crash, not after a timeout whose
frame may or may not have been stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from kraken_market.access.stream.epochs import EpochKeyCustody, EpochRotation, EpochSchedule
from kraken_market.access.stream.messages import FrameHeader, seal
from kraken_market.access.stream.transport import StreamTransport, item_bytes


class StreamPublisher:
    """Publishes plaintext messages of one stream product.

    ``custody`` is called from a worker thread (it talks to the compute nodes);
    ``clock`` gives unix seconds (tests pass their own).
    """

    def __init__(
        self,
        transport: StreamTransport,
        custody: EpochKeyCustody,
        product_id: bytes | str,
        *,
        schedule: EpochSchedule | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.item = item_bytes(product_id)
        self.clock = clock
        self.rotation = EpochRotation(self.item, custody, schedule or EpochSchedule(), clock=clock)
        self.next_seq: int | None = None
        self._lock = asyncio.Lock()

    async def publish(self, message: bytes) -> FrameHeader:
        """Encrypt and send ``message``; its header (epoch, seq, timestamp) once sent."""
        async with self._lock:
            if self.next_seq is None:
                await self._resume()
            assert self.next_seq is not None
            now = self.clock()
            if self.rotation.due(now):
                await asyncio.to_thread(self.rotation.rotate, now)
            epoch = self.rotation.epoch
            assert epoch is not None
            header = FrameHeader(self.item, epoch.number, self.next_seq, int(now * 1000))
            frame = seal(header, epoch.key, message)
            # The (key, seq) pair is spent from here on, whether or not the send succeeds.
            epoch.messages += 1
            self.next_seq += 1
            try:
                await self.transport.publish(self.item, frame)
            except BaseException:
                self.rotation.retire()
                self.next_seq = None
                raise
            return header

    async def _resume(self) -> None:
        """Continue after the transport's newest frame, in a new epoch."""
        position = await self.transport.position(self.item)
        self.rotation.retire()
        if position is None:
            self.next_seq = 1
        else:
            self.next_seq = position.seq + 1
            self.rotation.skip_to(position.epoch + 1)

    async def close(self) -> None:
        await self.transport.close()
