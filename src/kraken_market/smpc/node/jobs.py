"""Jobs a compute node accepted: the submission model and a small SQLite store.

States: ``queued`` -> ``starting`` (this node holds an MPC port for it,
announced as ``port``, and waits for the lead node's start) -> ``running`` ->
``delivered`` (the result file is ready; ``suppressed`` says whether it holds a
result or only "too few rows") or ``failed`` (``error`` has a code and a
message). ``attestation`` is ``pending``, ``attested`` (with the
transaction), ``not_needed`` (enough other nodes attested first and the
payment was released) or ``failed``. ``refund`` says how the buyer's money came
back when the job failed for a reason the buyer did not cause
(``smpc.node.refusal``: ``refunded`` with the transaction, or ``not_refunded``
with why). Every change is committed before it is
acknowledged (SQLite, WAL, synchronous=FULL), so a restarted node serves what
it delivered and resumes what was queued.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.node.errors import JobNotFound
from kraken_market.smpc.node.local_db import open_local
from kraken_market.smpc.node.worker import ProductInput

RequestId = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
State = Literal["queued", "starting", "running", "delivered", "failed"]
MAX_PRODUCTS = 32


class JobRequest(BaseModel):
    """A job submission (from the marketplace backend, or the buyer directly for now)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: RequestId
    computation: ComputationSpec
    products: Annotated[list[ProductInput], Field(min_length=1, max_length=MAX_PRODUCTS)]
    result_public_key: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
    """The buyer's X25519 result key, hex; its SHA-256 is on chain in the request."""

    @property
    def key(self) -> str:
        return self.request_id.lower()


@dataclass(frozen=True)
class JobRecord:
    request_id: str
    request: dict[str, Any]
    state: State
    created: float
    updated: float
    error: dict[str, str] | None = None
    suppressed: bool | None = None
    commitment: str | None = None
    attestation: str | None = None
    attest_tx: str | None = None
    timings: dict[str, Any] = field(default_factory=dict)
    port: int | None = None
    """This node's MPC port for the job's current run (announced to the peers)."""
    refund: dict[str, Any] | None = None
    """How the held payment went back to the buyer after a refusal (``smpc.node.refusal``)."""

    def public(self, node_index: int, queue: dict[str, Any] | None = None) -> dict[str, Any]:
        """The status as the API shows it (no paths, nothing about the data); ``queue``:
        the job's place in the lead node's queue while it waits."""
        data = asdict(self)
        data["node_index"] = node_index
        data["function"] = self.request["computation"]["function"]
        data["queue"] = queue
        del data["request"]
        return data


_COLUMNS = (
    "request_id",
    "request",
    "state",
    "created",
    "updated",
    "error",
    "suppressed",
    "commitment",
    "attestation",
    "attest_tx",
    "timings",
    "port",
    "refund",
)
_JSON = {"request", "error", "timings", "refund"}
_SELECT = ", ".join(_COLUMNS)


class JobStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_local(
            path,
            "CREATE TABLE IF NOT EXISTS jobs (request_id TEXT PRIMARY KEY, request TEXT NOT NULL,"
            " state TEXT NOT NULL, created REAL, updated REAL, error TEXT, suppressed INTEGER,"
            " commitment TEXT, attestation TEXT, attest_tx TEXT, timings TEXT, port INTEGER,"
            " refund TEXT)",
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "port" not in columns:  # a node's job store from before ports were leased
            self._db.execute("ALTER TABLE jobs ADD COLUMN port INTEGER")
        if "refund" not in columns:  # from before nodes refunded refused jobs
            self._db.execute("ALTER TABLE jobs ADD COLUMN refund TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, record: JobRecord) -> JobRecord:
        values = [getattr(record, name) for name in _COLUMNS]
        values = [
            json.dumps(v) if n in _JSON and v is not None else v
            for n, v in zip(_COLUMNS, values, strict=True)
        ]
        marks = ", ".join("?" for _ in _COLUMNS)
        with self._lock:
            names = ", ".join(_COLUMNS)
            self._db.execute(
                f"INSERT OR REPLACE INTO jobs ({names}) VALUES ({marks})",  # noqa: S608
                values,
            )
        return record

    def update(self, request_id: str, **changes: Any) -> JobRecord:
        return self.put(replace(self.get(request_id), updated=time.time(), **changes))

    def find(self, request_id: str) -> JobRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_SELECT} FROM jobs WHERE request_id = ?",  # noqa: S608
                (request_id.lower(),),
            ).fetchone()
        return None if row is None else _record(row)

    def get(self, request_id: str) -> JobRecord:
        record = self.find(request_id)
        if record is None:
            raise JobNotFound(f"this node has no job {request_id}")
        return record

    def with_state(self, *states: State) -> list[JobRecord]:
        marks = ", ".join("?" for _ in states)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_SELECT} FROM jobs WHERE state IN ({marks}) ORDER BY created",  # noqa: S608
                states,
            ).fetchall()
        return [_record(row) for row in rows]

    def all(self) -> list[JobRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_SELECT} FROM jobs ORDER BY created").fetchall()  # noqa: S608
        return [_record(row) for row in rows]


def _record(row: tuple[Any, ...]) -> JobRecord:
    data = dict(zip(_COLUMNS, row, strict=True))
    for name in _JSON:
        if data[name] is not None:
            data[name] = json.loads(data[name])
    if data["suppressed"] is not None:
        data["suppressed"] = bool(data["suppressed"])
    data["timings"] = data["timings"] or {}
    return JobRecord(**data)
