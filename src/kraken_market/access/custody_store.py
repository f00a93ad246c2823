"""A compute node's key deposits and releases, in its own SQLite file.

Deposits are stored as received: the share in them is still HPKE-sealed to
this node's key, so the file holds no key material in clear (encryption at
rest is the deposit format itself). Each write is committed before it is
acknowledged (``smpc.node.local_db``, as for the node's jobs): an
acknowledged deposit survives kill -9. Releases are kept as an audit trail
(who received which share, under which purchase), never to decide anything.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kraken_market.access.wire import KeyDeposit, KeyRelease
from kraken_market.smpc.node.local_db import open_local


class CustodyStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_local(
            path,
            "CREATE TABLE IF NOT EXISTS key_deposits (item TEXT NOT NULL, key_id TEXT NOT NULL,"
            " deposit TEXT NOT NULL, depositor TEXT NOT NULL, stored REAL NOT NULL,"
            " PRIMARY KEY (item, key_id))",
            "CREATE TABLE IF NOT EXISTS key_releases (id INTEGER PRIMARY KEY, item TEXT NOT NULL,"
            " key_id TEXT NOT NULL, buyer TEXT NOT NULL, purchase_id TEXT NOT NULL,"
            " buyer_key TEXT NOT NULL, released REAL NOT NULL)",
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def find(self, item: str, key_id: str) -> KeyDeposit | None:
        with self._lock:
            row = self._db.execute(
                "SELECT deposit FROM key_deposits WHERE item = ? AND key_id = ?",
                (item.lower(), key_id),
            ).fetchone()
        return None if row is None else KeyDeposit.model_validate_json(row[0])

    def put(self, deposit: KeyDeposit) -> None:
        """Store ``deposit``, replacing the one for the same item and key id (the caller
        decided under its lock that it may)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO key_deposits VALUES (?, ?, ?, ?, ?)",
                (
                    deposit.item.lower(),
                    deposit.key_id,
                    deposit.model_dump_json(),
                    deposit.depositor,
                    time.time(),
                ),
            )

    def record_release(self, request: KeyRelease) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO key_releases (item, key_id, buyer, purchase_id, buyer_key, released)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    request.item.lower(),
                    request.key_id,
                    request.buyer,
                    str(request.purchase_id),
                    request.buyer_public_key,
                    time.time(),
                ),
            )

    def releases(self, item: str, key_id: str) -> list[tuple[str, int, float]]:
        """``(buyer, purchase id, time)`` of every share this node released for the key."""
        with self._lock:
            rows = self._db.execute(
                "SELECT buyer, purchase_id, released FROM key_releases"
                " WHERE item = ? AND key_id = ? ORDER BY id",
                (item.lower(), key_id),
            ).fetchall()
        return [(str(b), int(p), float(r)) for b, p, r in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM key_deposits").fetchone()[0])
