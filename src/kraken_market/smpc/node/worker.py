"""One compute node's MPC process for one job (a child of the node service).

Run as::

    python -m kraken_market.smpc.node.worker JOB.json -P host:port (x m) -I i -T t \\
        [--ssl] --no-log

in a working directory whose ``.config/`` holds this party's TLS certificate
(``party_<i>.crt``/``.key``) and the deployment CA (``mpyc_ca.crt``), where
MPyC 0.11 looks for them. MPyC parses ``sys.argv`` and builds its global
runtime when imported, which is why it lives in this process and never in the
web server. Steps: verify the owner's signed manifest of every product, fetch
this node's share file, check its size and SHA-256 against the manifest and
that it is encrypted to this node's key, decrypt it in memory (nothing is
written to disk), connect to the other nodes (mutual TLS) within
``join_timeout``, evaluate each computation, seal each result share to the
buyer's key (``smpc.results``) and write ``outcome.json``. A peer that drops
out ends the process at once with ``peer_lost``; one that never joins, with
``peer_unreachable``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from kraken_market.errors import KrakenError
from kraken_market.smpc.envelope import open_envelope
from kraken_market.smpc.functions.mpc_base import ShareTable
from kraken_market.smpc.functions.plan import Plan, plan
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey
from kraken_market.smpc.manifest import check_share_file, verify_manifest
from kraken_market.smpc.node.ports import can_listen
from kraken_market.smpc.results import ResultHeader, commitment, seal_result
from kraken_market.smpc.share_format import parse
from kraken_market.smpc.storage import open_storage


class ProductInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    product_id: str
    manifest: str
    owner: str


class WorkerJob(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str
    node_index: int
    m: int
    t: int
    storage: str
    """A directory or an ``s3://`` URL (``smpc.storage.open_storage``)."""
    key_file: str
    products: list[ProductInput]
    computations: list[ComputationSpec]
    result_key: str
    out_dir: str
    join_timeout: float = 30.0
    node_pid: int = 0
    """The node process that started this worker (0: its parent when it starts)."""


class Failed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def load_tables(job: WorkerJob) -> tuple[list[ShareTable], list[tuple[Any, ...]]]:
    """Fetch, check and decrypt this node's share file of every product (in memory)."""
    storage = open_storage(job.storage)
    key = NodeKeyPair(bytes.fromhex(Path(job.key_file).read_text().strip()))
    tables, shapes = [], []
    for product in job.products:
        manifest = verify_manifest(
            storage.read(product.manifest), product.owner, product.product_id
        )
        if (manifest.m, manifest.t) != (job.m, job.t):
            raise Failed(
                "share_set_mismatch",
                f"{product.product_id} is shared for "
                f"m={manifest.m}, t={manifest.t}, not m={job.m}, t={job.t}",
            )
        data = storage.read(manifest.file_for(job.node_index).name)
        check_share_file(manifest, job.node_index, data, key.public_key.fingerprint)
        shares = parse(open_envelope(data, key, product.product_id, job.node_index))
        del data
        tables.append(ShareTable(shares.header.columns, shares.elements))
        shapes.append((shares.header.columns, shares.header.schema, shares.header.rows))
    return tables, shapes


def _lost_peer(mpc: Any) -> int | None:
    """A peer whose connection closed (MPyC unsets its protocol), if any."""
    for peer in mpc.parties:
        protocol = peer.protocol
        if peer.pid != mpc.pid and (
            protocol is None or protocol.transport is None or protocol.transport.is_closing()
        ):
            return int(peer.pid)
    return None


def _peer_lost(pid: int) -> dict[str, Any]:
    return {"error": {"code": "peer_lost", "message": f"node {pid} dropped out of the computation"}}


async def _watch(mpc: Any, out: Path) -> None:
    """End the process as soon as a peer's connection closes mid-computation."""
    while True:
        await asyncio.sleep(0.2)
        lost = _lost_peer(mpc)
        if lost is not None:
            _write(out, _peer_lost(lost))
            os._exit(3)


async def compute(
    mpc: Any, job: WorkerJob, tables: list[ShareTable], plans: list[Plan], timings: dict[str, float]
) -> list[dict[str, Any]]:
    from kraken_market.smpc.functions.evaluate import evaluate

    out = Path(job.out_dir)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(mpc.start(), job.join_timeout)
    except TimeoutError:
        raise Failed(
            "peer_unreachable", f"not every node joined within {job.join_timeout:g} s"
        ) from None
    timings["join"] = time.perf_counter() - started
    (out / "joined").touch()  # progress for the node's status (and tests)
    watchdog = asyncio.ensure_future(_watch(mpc, out))
    buyer = NodePublicKey(bytes.fromhex(job.result_key))
    results = []
    for number, item in enumerate(plans):
        evaluation = await evaluate(mpc, item, tables)
        share = evaluation.share
        header = ResultHeader(
            job.request_id,
            job.node_index,
            job.m,
            job.t,
            item.spec.model_dump(mode="json", by_alias=True),
            item.spec.digest().hex(),
            tuple(item.names),
            item.outputs,
            share is None,
            0 if share is None else share.size,
        )
        sealed = seal_result(header, share, buyer)
        name = f"result-{number}.kres"
        (out / name).write_bytes(sealed)
        results.append(
            {
                "file": name,
                "suppressed": share is None,
                "commitment": commitment(sealed).hex(),
                "seconds": evaluation.seconds,
                "comparisons": evaluation.comparisons,
            }
        )
    watchdog.cancel()
    await mpc.shutdown()
    return results


def _write(out: Path, data: dict[str, Any]) -> None:
    partial = out / "outcome.json.partial"
    partial.write_text(json.dumps(data))
    partial.replace(out / "outcome.json")


def _exit_with_node(out: Path, node: int) -> None:
    """End this MPC party when its node process is gone (killed with kill -9: nothing
    stopped the child), so that no orphan keeps the job's ports or its peers waiting
    when the node comes back and the job is run again."""

    def watch() -> None:
        while os.getppid() == node:
            time.sleep(0.5)
        try:  # the node's job folder may be gone already: exit all the same
            _write(out, {"error": {"code": "node_gone", "message": "the node process ended"}})
        finally:
            os._exit(4)

    threading.Thread(target=watch, name="node-watch", daemon=True).start()


def _wait_for_port(job: WorkerJob, arguments: list[str], seconds: float = 10.0) -> None:
    """Wait until this party's MPC port can be listened on. The node checked it free
    when it leased it (``smpc.node.ports``), but a socket of a run that just ended may
    still hold it for a moment; MPyC would fail at once instead."""
    parties = [arguments[i + 1] for i, arg in enumerate(arguments[:-1]) if arg == "-P"]
    if len(parties) <= job.node_index:
        return
    port = int(parties[job.node_index].rpartition(":")[2])
    deadline = time.monotonic() + seconds
    while not can_listen(port) and time.monotonic() < deadline:
        time.sleep(0.2)  # past the deadline MPyC reports it


def main() -> None:
    job = WorkerJob.model_validate_json(Path(sys.argv[1]).read_text())
    # The node's pid from the job, not getppid(): a node killed while this process was
    # still starting has already left it to init.
    _exit_with_node(Path(job.out_dir), job.node_pid or os.getppid())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from mpyc.runtime import mpc  # type: ignore[import-untyped]  # parses -P/-I/-T/--ssl

    _wait_for_port(job, sys.argv)
    out = Path(job.out_dir)
    timings: dict[str, float] = {}
    try:
        started = time.perf_counter()
        tables, shapes = load_tables(job)
        plans = [plan(spec, shapes) for spec in job.computations]
        timings["fetch_decrypt"] = time.perf_counter() - started
        if mpc.pid != job.node_index or mpc.threshold != job.t or len(mpc.parties) != job.m:
            raise Failed("worker_misconfigured", "MPyC options do not match the job")
        results = mpc.run(compute(mpc, job, tables, plans, timings))
    except Failed as exc:
        _write(out, {"error": {"code": exc.code, "message": exc.message}, "timings": timings})
        os._exit(1)
    except KrakenError as exc:
        _write(out, {"error": {"code": exc.code, "message": exc.message}, "timings": timings})
        os._exit(1)
    except Exception as exc:  # a bug or MPyC failure: reported, never silent
        # Every peer gone before the watchdog's next look: MPyC stops its loop ("Event
        # loop stopped before Future completed"). Before the join no peer is connected.
        lost = _lost_peer(mpc) if "join" in timings else None
        if lost is not None:
            _write(out, _peer_lost(lost))
            os._exit(3)
        message = f"{type(exc).__name__}: {exc}"[:500]
        _write(out, {"error": {"code": "computation_failed", "message": message}})
        os._exit(1)
    _write(out, {"results": results, "timings": timings})
    os._exit(0)


if __name__ == "__main__":
    main()
