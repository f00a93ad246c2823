"""Run computations on m local MPC processes, without chain or HTTP: tests, benchmarks.

The same worker as a compute node's (``smpc.node.worker``): each process
verifies the manifests, fetches and decrypts its share files, computes with the
others and seals its result shares to the buyer. The node service adds the
chain checks, the job queue and the attestations around exactly this.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kraken_market.errors import KrakenError
from kraken_market.smpc.buyer import ComputationResult, combine_results
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.node import runner
from kraken_market.smpc.node.worker import ProductInput, WorkerJob
from kraken_market.smpc.results import open_result


class LocalRunFailed(KrakenError):
    code = "local_run_failed"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def failure(outcomes: Sequence[dict[str, Any]]) -> tuple[int, dict[str, Any]] | None:
    """The node and error that say why a run failed, if it did. A node that found the
    cause (a regression's collinear design, say) ends its process, and a slower peer
    may then report only that it left (``peer_lost``): the cause is named first."""
    failed = [(i, outcome["error"]) for i, outcome in enumerate(outcomes) if "error" in outcome]
    if not failed:
        return None
    return min(failed, key=lambda f: bool(f[1]["code"] == "peer_lost"))


def run_local(
    work_dir: Path,
    storage: Path,
    node_keys: Sequence[NodeKeyPair],
    products: Sequence[ProductInput],
    computations: Sequence[ComputationSpec],
    buyer_key: NodeKeyPair,
    *,
    t: int = 1,
    request_id: str = "0x" + "00" * 31 + "01",
    ssl_dirs: Sequence[Path] | None = None,
    timeout: float = 300.0,
) -> tuple[list[ComputationResult], list[dict[str, Any]]]:
    """The results of ``computations`` (recombined from all m nodes) and each node's outcome."""
    m = len(node_keys)
    parties = [f"127.0.0.1:{port}" for port in free_ports(m)]
    running = []
    for i, key in enumerate(node_keys):
        node_dir = Path(work_dir) / f"node-{i}"
        node_dir.mkdir(parents=True, exist_ok=True)
        key_file = node_dir / "hpke.key"
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key.private_bytes.hex())
        job = WorkerJob(
            request_id=request_id,
            node_index=i,
            m=m,
            t=t,
            storage=str(storage),
            key_file=str(key_file),
            products=list(products),
            computations=list(computations),
            result_key=buyer_key.public_key.raw.hex(),
            out_dir=str(node_dir / "job"),
        )
        cwd = ssl_dirs[i] if ssl_dirs else node_dir
        running.append(runner.launch(job, parties, cwd=cwd, ssl=bool(ssl_dirs), timeout=timeout))
    try:
        outcomes = [runner.wait(r) for r in running]
    finally:
        for r in running:
            runner.stop(r)
    cause = failure(outcomes)
    if cause is not None:
        i, error = cause
        raise LocalRunFailed(f"node {i}: {error['code']}: {error['message']}", details=outcomes[i])
    results = []
    for number, spec in enumerate(computations):
        shares = {}
        for i, (r, outcome) in enumerate(zip(running, outcomes, strict=True)):
            sealed = (r.out_dir / outcome["results"][number]["file"]).read_bytes()
            shares[i] = open_result(sealed, buyer_key, request_id, i)
        results.append(combine_results(spec, shares, t))
    return results, outcomes
