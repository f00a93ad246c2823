"""The newest frames of each stream, read once per API process for all its readers.

With every long-poll reading the database on its own, 200 subscribers meant 200
queries a second while idle and a burst of 200 reads at each new frame, with
second-long tails for every other request. Here each API process keeps, per
stream that someone reads, the frames after a known sequence number (up to
``MAX_FRAMES``): a reader whose cursor is in that window is answered from
memory, and waiting costs nothing. One refresh per stream reads the frames
stored since (``seq >`` the newest known; sequence numbers only grow, one
insert after the other), at once when this process stored a frame, else at
most every ``POLL_SLICE`` while someone waits, so frames stored by another API
worker are seen too. A cursor older than the window is read from the
database, as before. Runs in the API process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kraken_market.access.stream.models import StreamFrame
from kraken_market.access.stream.service import Retention

MAX_FRAMES = 512
"""Frames kept per stream in each API process (a window, not the retention)."""
MAX_STREAMS = 2048
POLL_SLICE = 1.0
"""Longest a waiting reader goes without the database being looked at (seconds): how
soon a frame stored by another API worker reaches this one's readers."""


@dataclass(frozen=True)
class TailFrame:
    seq: int
    sent_at_ms: int
    stored_at: datetime
    frame: bytes


@dataclass
class Tail:
    base: int | None = None
    """Every stored frame with a sequence number above ``base`` is in ``frames`` (None:
    not read yet)."""
    frames: deque[TailFrame] = field(default_factory=lambda: deque(maxlen=MAX_FRAMES))
    checked: float = 0.0
    stored: int = 0
    """Frames this process stored (counted, so that none stored during a read is missed)."""
    read: int = -1
    """``stored`` as it was when the last read began."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def newest(self) -> int:
        return self.frames[-1].seq if self.frames else (self.base or -1)


class StreamTails:
    def __init__(self, sessions: sessionmaker[Session], retention: Retention) -> None:
        self.sessions, self.retention = sessions, retention
        self._tails: dict[str, Tail] = {}
        self._lock = threading.Lock()
        self.reads = 0  # database reads made for tails (the benchmark shows them)

    def stored(self, product_id: str) -> None:
        """This process stored a frame of ``product_id``: read it at the next look."""
        tail = self._tails.get(product_id.lower())
        if tail is not None:
            tail.stored += 1

    def frames(
        self,
        product_id: str,
        *,
        after: int,
        since_ms: int | None,
        until_ms: int | None,
        limit: int,
        now: datetime,
        refresh: bool = True,
    ) -> list[tuple[int, bytes]] | None:
        """Up to ``limit`` (seq, frame) after ``after`` from memory, as
        ``StreamRelay.frames`` would answer; None when the window does not reach back
        to ``after`` (read the database). It may read the database (call it in the
        thread pool), unless ``refresh`` is False: then None if a read is due."""
        tail = self._tail(product_id)
        if refresh:
            self.refresh(tail, product_id)
        elif _due(tail) or tail.lock.locked():  # a read is due, or under way
            return None
        window = list(tail.frames)  # first: a refresh may drop old frames meanwhile,
        if tail.base is None or after < tail.base:  # and raises base before it drops any
            return None
        cutoff = now - timedelta(seconds=self.retention.seconds)
        kept = tail.newest - self.retention.messages  # as StreamRelay prunes
        rows = []
        for item in window:
            if item.seq <= after or item.seq <= kept or item.stored_at < cutoff:
                continue
            if since_ms is not None and item.sent_at_ms < since_ms:
                continue
            if until_ms is not None and item.sent_at_ms > until_ms:
                continue
            rows.append((item.seq, item.frame))
            if len(rows) == limit:
                break
        return rows

    def _tail(self, product_id: str) -> Tail:
        key = product_id.lower()
        with self._lock:
            tail = self._tails.get(key)
            if tail is None:
                while len(self._tails) >= MAX_STREAMS:  # forget the oldest-made
                    self._tails.pop(next(iter(self._tails)))
                tail = self._tails[key] = Tail()
            return tail

    def refresh(self, tail: Tail, product_id: str) -> None:
        """Read the frames stored since the newest known, if due: one reader reads, the
        others wait for it and then find the frames in memory (single flight)."""
        if not _due(tail):
            return
        with tail.lock:
            if not _due(tail):
                return
            target = tail.stored  # what this read covers; a frame stored meanwhile is due
            tail.checked = time.monotonic()
            first = tail.base is None
            columns = (StreamFrame.seq, StreamFrame.sent_at_ms, StreamFrame.stored_at)
            query = select(*columns, StreamFrame.frame).where(
                StreamFrame.product_id == product_id.lower()
            )
            if first:  # the newest MAX_FRAMES: older ones stay in the database
                query = query.order_by(StreamFrame.seq.desc()).limit(MAX_FRAMES)
            else:
                query = query.where(StreamFrame.seq > tail.newest).order_by(StreamFrame.seq)
            with self.sessions() as session:
                rows = list(session.execute(query))
            self.reads += 1
            if first:
                rows.reverse()
                # all of the stream, or its newest MAX_FRAMES (then older ones are not here)
                tail.base = rows[0][0] - 1 if len(rows) == MAX_FRAMES else -1
            for seq, sent_at_ms, stored_at, frame in rows:
                if len(tail.frames) == MAX_FRAMES:
                    tail.base = tail.frames[0].seq  # the oldest leaves the window
                tail.frames.append(TailFrame(seq, sent_at_ms, _aware(stored_at), frame))
            tail.read = target


def _due(tail: Tail) -> bool:
    return tail.read != tail.stored or time.monotonic() - tail.checked >= POLL_SLICE


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive UTC datetimes back; compare them as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
