"""py-evm's key-value database over one SQLite file, committed block by block.

py-evm keeps all chain data (headers, blocks, receipts, state trie nodes) in a
key-value store behind its ``BaseDB`` interface and ships only an in-memory
one. This store keeps every write of the block being built in one open SQLite
transaction; :meth:`SqliteKeyValue.commit` makes them durable at once (WAL,
``synchronous=FULL``), so after a kill -9 the chain reopens at the last
committed block, never half-written. Hand-written because no maintained
package offers a py-evm database backend (py-evm 0.12 has no LevelDB either).

Reads go through a bounded cache: executing a transaction walks the state
trie from its root, reading the same nodes again and again. The cache holds
what SQLite would answer, uncommitted writes included, and forgets those
writes on rollback.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from eth.db.backends.base import BaseDB

CACHE_ENTRIES = 100_000  # trie nodes are ~100-600 bytes: tens of MB at most


class SqliteKeyValue(BaseDB):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"
        )
        self._lock = threading.RLock()
        self._open = False
        self._cache: dict[bytes, bytes] = {}
        self._written: set[bytes] = set()  # keys written since the last commit

    def __getitem__(self, key: bytes) -> bytes:
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            row = self._db.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
            if row is None:
                raise KeyError(key)
            value: bytes = row[0]
            self._remember(key, value)
            return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        with self._lock:
            self._begin()
            self._db.execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", (key, value))
            self._written.add(key)
            self._remember(key, value)

    def __delitem__(self, key: bytes) -> None:
        with self._lock:
            self._begin()
            self._written.add(key)
            self._cache.pop(key, None)
            if self._db.execute("DELETE FROM kv WHERE k = ?", (key,)).rowcount == 0:
                raise KeyError(key)

    def _exists(self, key: bytes) -> bool:
        with self._lock:
            if key in self._cache:
                return True
            return self._db.execute("SELECT 1 FROM kv WHERE k = ?", (key,)).fetchone() is not None

    def _remember(self, key: bytes, value: bytes) -> None:
        if len(self._cache) >= CACHE_ENTRIES:
            del self._cache[next(iter(self._cache))]  # the oldest entry
        self._cache[key] = value

    def _begin(self) -> None:
        if not self._open:
            self._db.execute("BEGIN IMMEDIATE")
            self._open = True

    def commit(self) -> None:
        """Make every write since the last commit durable."""
        with self._lock:
            if self._open:
                self._db.execute("COMMIT")
                self._open = False
            self._written.clear()

    def rollback(self) -> None:
        """Forget every write since the last commit."""
        with self._lock:
            if self._open:
                self._db.execute("ROLLBACK")
                self._open = False
            for key in self._written:
                self._cache.pop(key, None)
            self._written.clear()

    def is_empty(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM kv LIMIT 1").fetchone() is None

    def close(self) -> None:
        with self._lock:
            self.rollback()
            self._db.close()


class _ReadOnly(BaseDB):
    """The store seen through a read-only SQLite connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def __getitem__(self, key: bytes) -> bytes:
        row = self._db.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        value: bytes = row[0]
        return value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        raise TypeError("the chain store is opened read-only here")

    def __delitem__(self, key: bytes) -> None:
        raise TypeError("the chain store is opened read-only here")

    def _exists(self, key: bytes) -> bool:
        return self._db.execute("SELECT 1 FROM kv WHERE k = ?", (key,)).fetchone() is not None


def canonical_hashes(path: Path, numbers: Iterable[int]) -> dict[int, str | None]:
    """The ``0x`` hashes of blocks ``numbers`` of the chain stored at ``path`` (None: the
    chain has no such block), read without starting the chain: ``up`` compares them
    with what the marketplace database recorded before any process starts. The file
    is opened read-only; nothing is created when it is missing (FileNotFoundError)."""
    from eth.db.header import HeaderDB
    from eth.exceptions import HeaderNotFound
    from eth_typing import BlockNumber

    if not path.is_file():
        raise FileNotFoundError(path)
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        headers = HeaderDB(_ReadOnly(connection))  # type: ignore[arg-type]
        found: dict[int, str | None] = {}
        for number in numbers:
            try:
                block = headers.get_canonical_block_hash(BlockNumber(number))
                found[number] = "0x" + bytes(block).hex()
            except HeaderNotFound:
                found[number] = None
        return found
    finally:
        connection.close()
