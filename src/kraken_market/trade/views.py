"""Counting product page views for the seller's insight: once per viewer and day, with
no database write per read.

Runs in the API. A read notes (product, day, viewer) in memory; a viewer is the
reader's DID when signed in, else a digest of the client's address under a random
salt that lives in this process's memory only (so the database never holds
anything about anonymous readers, and a loop of anonymous reads from one address
counts once a day, not once per read, whatever headers it sends; readers behind
one address count as one). Pending counts go to
``product_views`` in one transaction at most every ``flush_every`` seconds (in the
request that notes a view then) and before the owner reads the insight, so the
owner sees every view counted so far. What a process had not flushed when it was
killed is lost: views are an estimate, never money. Each API worker counts its own
readers (a viewer reaching two workers may count twice).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from kraken_market.db.base import utcnow
from kraken_market.db.engine import WRITE
from kraken_market.logs import get_logger
from kraken_market.trade.models import ProductView

log = get_logger(__name__)
FLUSH_EVERY = 30.0
MAX_SEEN = 1_000_000
"""Distinct (product, day, viewer) kept per process; beyond it, new views are not
counted until the day changes (bounded memory under a flood)."""


def anonymous_viewer(salt: bytes, client: str) -> str:
    return hashlib.sha256(salt + client.encode()).hexdigest()


class ViewCounter:
    def __init__(
        self,
        engine: Engine,
        *,
        flush_every: float = FLUSH_EVERY,
        max_seen: int = MAX_SEEN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.flush_every, self.max_seen, self.clock = flush_every, max_seen, clock
        self.salt = secrets.token_bytes(32)
        self._seen: set[tuple[str, date, str]] = set()
        self._pending: Counter[tuple[str, date]] = Counter()
        self._last_flush = clock()
        self._day = utcnow().date()
        self._lock = threading.Lock()

    def note(self, product_id: str, viewer: str, day: date | None = None) -> None:
        """One read of ``product_id`` by ``viewer`` (a DID or ``anonymous_viewer``)."""
        today = utcnow().date()
        day = day or today
        key = (product_id, day, viewer)
        with self._lock:
            if today != self._day:  # a new day: yesterday's viewers are not needed
                self._day = today
                self._seen = {seen for seen in self._seen if seen[1] >= today}
            if key in self._seen or len(self._seen) >= self.max_seen:
                due = False
            else:
                self._seen.add(key)
                self._pending[product_id, day] += 1
                due = self.clock() - self._last_flush >= self.flush_every
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the pending counts (one transaction)."""
        with self._lock:
            batch, self._pending = self._pending, Counter()
            self._last_flush = self.clock()
        if not batch:
            return
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        try:
            writer = self.engine.execution_options(**WRITE)
            with writer.connect() as connection, connection.begin():
                for (product_id, day), views in sorted(batch.items()):
                    statement = (
                        dialect.insert(ProductView)
                        .values(product_id=product_id, day=day, views=views)
                        .on_conflict_do_update(
                            index_elements=[ProductView.product_id, ProductView.day],
                            set_={"views": ProductView.views + views},
                        )
                    )
                    connection.execute(statement)
        except OperationalError as exc:  # a busy database: the counts wait for the next flush
            log.warning("views_not_flushed", products=len(batch), error=type(exc.orig).__name__)
            with self._lock:
                self._pending.update(batch)
