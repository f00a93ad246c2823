"""Admission limits of one API process: how many logins and stream readers (long-polls
and event streams) it serves at once. Beyond the limit a request is answered at once
with 503 ``overloaded`` and a ``Retry-After`` (RFC 9110 §10.2.3), which the SDK waits
for, instead of queueing behind the others until everybody times out.

A login verifies a verifiable presentation (signatures, status lists): CPU work
that, unbounded, starves every other request of the process. A long-poll holds a
connection for up to 25 s, an event stream for minutes: a cap keeps file
descriptors and the thread pool for everyone else. Runs in the API process; the
counts are per process (each API worker admits its own share).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from kraken_market.errors import Overloaded


class Admission:
    def __init__(self, limit: int, what: str, *, retry_after: float = 1.0) -> None:
        self.limit, self.what, self.retry_after = limit, what, retry_after
        self._inside = 0
        self._lock = threading.Lock()
        self.refused = 0

    @property
    def inside(self) -> int:
        return self._inside

    def acquire(self) -> None:
        """Take one of ``limit`` places, or raise :class:`Overloaded`."""
        with self._lock:
            if self._inside >= self.limit:
                self.refused += 1
                raise Overloaded(
                    f"this server is serving {self.limit} {self.what} at once, its limit: "
                    f"retry in {self.retry_after:g} s",
                    retry_after=self.retry_after,
                )
            self._inside += 1

    def release(self) -> None:
        with self._lock:
            self._inside -= 1

    @contextmanager
    def enter(self) -> Iterator[None]:
        """Hold a place for the block (see :meth:`acquire`)."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def place(self) -> Place:
        """A place held until :meth:`Place.release` (once, however often it is called):
        for a response that outlives its route, such as an event stream."""
        self.acquire()
        return Place(self)


class Place:
    def __init__(self, admission: Admission) -> None:
        self._admission: Admission | None = admission

    def release(self) -> None:
        admission, self._admission = self._admission, None
        if admission is not None:
            admission.release()
