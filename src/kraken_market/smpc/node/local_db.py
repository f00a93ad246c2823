"""A compute node's own SQLite files (jobs, key custody): durable before acknowledged.

Autocommit with WAL and ``synchronous=FULL``: each write is on disk when the call
returns, so what a node acknowledged survives kill -9. One connection shared by
the node's threads, serialised by the caller's lock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_local(path: Path, *schema: str) -> sqlite3.Connection:
    """The database at ``path`` (created with its folder), with ``schema`` applied
    (``CREATE TABLE IF NOT EXISTS`` statements)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    for statement in schema:
        db.execute(statement)
    return db
