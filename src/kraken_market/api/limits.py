"""Write limits of the API: a token bucket per identity, or per client address for
requests without a session, answered with 429 ``rate_limited`` and ``Retry-After``.

Runs in the API process. Reads are never limited here (they cost no write); a write
takes one token from its caller's bucket, which holds ``burst`` tokens and refills
at ``rate`` per second. So a person can create a few dozen products at once but not
flood a victim's lineage with hundreds, nor grow a product's history by hundreds of
edits a second. Buckets live in memory, per API worker (each worker limits what it
serves); the oldest are forgotten beyond ``max_keys``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from kraken_market.errors import TooManyRequests

MAX_KEYS = 100_000


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        what: str = "writes",
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.what = rate, burst, what
        self.max_keys, self.clock = max_keys, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def wait_for(self, key: str) -> float:
        """Take a token for ``key``: 0 if it may go on now, else the seconds until it may
        (nothing is taken then)."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait

    def check(self, key: str) -> None:
        """Raise :class:`TooManyRequests` if ``key`` is over its limit."""
        wait = self.wait_for(key)
        if wait > 0:
            seconds = math.ceil(wait)
            raise TooManyRequests(
                f"too many {self.what}: at most {self.burst} at once, then {self.rate:g} per "
                f"second; retry in {seconds} s",
                retry_after=seconds,
            )
