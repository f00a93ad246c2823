"""The relay's collaborators inside the API: the chain reader, the clock, the signal.

``create_app`` only mounts the router; everything else is made on the first
request from the app's settings and kept on ``app.state.stream_relay``.
Tests call :func:`configure_relay` with their own chain reader and clock.

``FrameSignal`` wakes long-polling readers when a frame of their product is
stored by this process; waits are sliced (``POLL_SLICE``) so frames stored
by another API process are seen within that time too. It works across
threads and event loops: a waiter registers its own loop and event, and a
writer (a route running in the thread pool) wakes it with
``call_soon_threadsafe``. ``StreamTails`` keeps the newest frames so that
waiting readers share one database read per stream (``tails``);
``CachedPaidTime`` asks the chain for a subscriber's paid time once, not at
every long-poll.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from kraken_market.access.stream.service import PaidTime, Retention
from kraken_market.access.stream.tails import POLL_SLICE, StreamTails
from kraken_market.ledger.configured import ConfiguredLedger
from kraken_market.settings import Settings

__all__ = ["POLL_SLICE", "CachedPaidTime", "FrameSignal", "RelayContext", "relay_context"]

PAID_TIME_TTL = 30.0
"""Seconds a subscriber's paid time, read from the chain, is reused while it covers
now. Paid time only grows (a subscription is extended, never cut), so a cached
value that covers now never lets anyone read more than they paid for; an
extension shows in the page's ``paid_until`` within this time."""
MAX_PAID_TIMES = 100_000
READER_TTL = 10.0
"""Seconds whom a session reads a stream as (its owner, or the account its DID is bound
to) is reused: a long-polling subscriber asks several times a minute."""


class FrameSignal:
    def __init__(self) -> None:
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._lock = threading.Lock()

    def notify(self, product_id: str) -> None:
        """Wake every reader of ``product_id`` (callable from any thread)."""
        with self._lock:
            waiters = list(self._waiters.get(product_id, ()))
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that reader's loop has closed: nobody to wake
                continue

    async def wait(self, product_id: str, timeout: float) -> None:
        """Until a frame of ``product_id`` is stored, or ``timeout`` seconds."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(product_id, set()).add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                readers = self._waiters.get(product_id)
                if readers is not None:
                    readers.discard(waiter)
                    if not readers:
                        del self._waiters[product_id]


class LazyPaidTime:
    """A :class:`PaidTime` reading the configured chain, connected on first use (web3 is
    imported then, not when the API starts). It only reads: its account never signs."""

    def __init__(self, settings: Settings) -> None:
        self.reader = ConfiguredLedger(settings)

    def paid_until(self, buyer: str, item: bytes | str) -> int:
        return self.reader.get().paid_until(buyer, item)


class CachedPaidTime:
    """A :class:`PaidTime` that asks the chain once per subscriber and stream while the
    answer covers now (and at most every ``PAID_TIME_TTL`` seconds); an expired or
    absent subscription is asked again at each read."""

    def __init__(
        self, inner: PaidTime, clock: Callable[[], float], ttl: float = PAID_TIME_TTL
    ) -> None:
        self.inner, self.clock, self.ttl = inner, clock, ttl
        self._known: dict[tuple[str, str], tuple[int, float]] = {}  # -> (until, read at)
        self._lock = threading.Lock()
        self.reads = 0

    def paid_until(self, buyer: str, item: bytes | str) -> int:
        key = (buyer.lower(), item.hex() if isinstance(item, bytes) else item.lower())
        with self._lock:
            until, read_at = self._known.get(key, (0, 0.0))
        if until > self.clock() and time.monotonic() - read_at < self.ttl:
            return until
        until = self.inner.paid_until(buyer, item)
        self.reads += 1
        with self._lock:
            if len(self._known) >= MAX_PAID_TIMES:
                self._known.clear()
            self._known[key] = (until, time.monotonic())
        return until


@dataclass
class RelayContext:
    settings: Settings
    paid: PaidTime
    sessions: sessionmaker[Session]
    clock: Callable[[], float] = time.time
    signal: FrameSignal = field(default_factory=FrameSignal)
    tails: StreamTails = field(init=False)

    def __post_init__(self) -> None:
        self.paid = CachedPaidTime(self.paid, self.clock)
        self.tails = StreamTails(self.sessions, self.retention)
        self._readers: dict[tuple[str, str, str], tuple[str | None, float]] = {}
        self._readers_lock = threading.Lock()

    def reader(self, did: str, account: str, product_id: str) -> tuple[str | None] | None:
        """The cached reader account of a session for a stream ((None,): the owner)."""
        with self._readers_lock:
            known = self._readers.get((did, account, product_id.lower()))
        if known is None or time.monotonic() - known[1] > READER_TTL:
            return None
        return (known[0],)

    def remember_reader(self, did: str, account: str, product_id: str, reader: str | None) -> None:
        with self._readers_lock:
            if len(self._readers) >= MAX_PAID_TIMES:
                self._readers.clear()
            self._readers[(did, account, product_id.lower())] = (reader, time.monotonic())

    @property
    def retention(self) -> Retention:
        return Retention.from_settings(self.settings)


_made = threading.Lock()


def relay_context(app: FastAPI) -> RelayContext:
    """The app's relay context, made from its settings on first use."""
    context: RelayContext | None = getattr(app.state, "stream_relay", None)
    if context is None:
        with _made:
            context = getattr(app.state, "stream_relay", None)
            if context is None:
                settings: Settings = app.state.settings
                context = RelayContext(settings, LazyPaidTime(settings), app.state.sessions)
                app.state.stream_relay = context
    return context


def configure_relay(
    app: FastAPI, *, paid: PaidTime, clock: Callable[[], float] = time.time
) -> RelayContext:
    """Give the app's relay its chain reader and clock (tests, and embedders)."""
    context = RelayContext(app.state.settings, paid, app.state.sessions, clock)
    app.state.stream_relay = context
    return context
