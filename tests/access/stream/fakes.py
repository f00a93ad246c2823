"""In-memory collaborators for the stream tests (never shipped in the package).

``MemoryCustody`` stands for the compute nodes on both sides: it keeps each
deposited epoch key and releases it only while the subscriber's paid time
covers the epoch's ``not_before``, as the real custody does. ``MemoryTransport``
is a transport in a list. ``Clock`` is a settable clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from kraken_market.access.stream.errors import EpochKeyDenied, StreamSequenceConflict
from kraken_market.access.stream.messages import StreamMessage, parse_header
from kraken_market.access.stream.transport import StreamPosition
from kraken_market.errors import Conflict


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Deposit:
    item: bytes
    epoch: int
    key: bytes
    not_before: int


@dataclass
class MemoryCustody:
    """``paid_until`` None: every deposited key is released."""

    paid_until: int | None = None
    deposits: list[Deposit] = field(default_factory=list)
    fail_next: bool = False
    fetched: list[int] = field(default_factory=list)

    def deposit(self, item: bytes, epoch: int, key: bytes, not_before: int) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the compute nodes do not answer")
        if any(d.item == item and d.epoch == epoch for d in self.deposits):
            raise Conflict(f"epoch {epoch} already has a key")
        self.deposits.append(Deposit(item, epoch, key, not_before))

    def key_for(self, item: bytes, epoch: int) -> bytes:
        self.fetched.append(epoch)
        for deposit in self.deposits:
            if deposit.item == item and deposit.epoch == epoch:
                if self.paid_until is not None and self.paid_until <= deposit.not_before:
                    raise EpochKeyDenied(f"paid until {self.paid_until}, epoch {epoch} is later")
                return deposit.key
        raise EpochKeyDenied(f"no key for epoch {epoch}")


class MemoryTransport:
    def __init__(self) -> None:
        self.frames: dict[bytes, list[bytes]] = {}
        self.fail_next = False
        self.closed = False
        self._new = asyncio.Event()

    async def publish(self, item: bytes, frame: bytes) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the transport dropped the connection")
        stored = self.frames.setdefault(item, [])
        seq = parse_header(frame).seq
        if stored and seq <= parse_header(stored[-1]).seq:
            raise StreamSequenceConflict(f"{seq} does not follow")
        stored.append(frame)
        self._new.set()

    async def subscribe(
        self,
        item: bytes,
        *,
        from_seq: int | None = None,
        from_time: float | None = None,
        follow: bool = True,
    ) -> AsyncIterator[bytes]:
        index = 0
        while True:
            stored = self.frames.get(item, [])
            while index < len(stored):
                frame = stored[index]
                index += 1
                header = parse_header(frame)
                if from_seq is not None and header.seq < from_seq:
                    continue
                if from_time is not None and header.timestamp_ms < from_time * 1000:
                    continue
                yield frame
            if not follow:
                return
            self._new.clear()
            await self._new.wait()

    async def position(self, item: bytes) -> StreamPosition | None:
        stored = self.frames.get(item)
        if not stored:
            return None
        header = parse_header(stored[-1])
        return StreamPosition(header.seq, header.epoch)

    async def close(self) -> None:
        self.closed = True


@dataclass
class FakePaidTime:
    """``Market.paid_until`` from a dict: account (any case) -> unix seconds."""

    until: dict[str, int] = field(default_factory=dict)

    def paid_until(self, buyer: str, item: bytes | str) -> int:
        return self.until.get(buyer.lower(), 0)


async def drain(messages: AsyncIterator[StreamMessage], into: list[bytes]) -> None:
    """Read every message's payload into ``into`` (what was read before an error stays)."""
    async for message in messages:
        into.append(message.payload)
