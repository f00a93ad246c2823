"""The relay's collaborators inside the API: the chain reader, the clock, the signal.

``create_app`` only mounts the router; everything else is made on the first
request from the app's settings and kept on ``app.state.stream_relay``.
Tests call :func:`configure_relay` with their own chain reader and clock.

``FrameSignal`` wakes long-polling readers when a frame of their product is
stored by this process; waits are sliced (``POLL_SLICE``) so frames stored
by another API process are seen within that time too. It works across
threads and event loops: a waiter registers its own loop and event, and a
writer (a route running in the thread pool) wakes it with
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import FastAPI

from kraken_market.access.stream.service import PaidTime, Retention
from kraken_market.ledger.configured import ConfiguredLedger
from kraken_market.settings import Settings

POLL_SLICE = 1.0
"""Longest a waiting reader goes without looking at the database (seconds)."""


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


@dataclass
class RelayContext:
    settings: Settings
    paid: PaidTime
    clock: Callable[[], float] = time.time
    signal: FrameSignal = field(default_factory=FrameSignal)

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
                context = RelayContext(settings, LazyPaidTime(settings))
                app.state.stream_relay = context
    return context


def configure_relay(
    app: FastAPI, *, paid: PaidTime, clock: Callable[[], float] = time.time
) -> RelayContext:
    """Give the app's relay its chain reader and clock (tests, and embedders)."""
    context = RelayContext(app.state.settings, paid, clock)
    app.state.stream_relay = context
    return context
