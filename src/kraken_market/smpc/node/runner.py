"""Start and supervise one job's MPC process (``smpc.node.worker``) from the node service.

The worker gets its job as a JSON file and MPyC's options on its command line
(``-P host:port`` for every node, ``-I`` its index, ``-T`` the threshold,
``--ssl`` for mutual TLS with the certificates in ``cwd/.config``). Its outcome
is ``outcome.json`` in the job's directory. A process that runs past
``timeout`` is killed and the job fails with ``job_timeout``; one that dies
without an outcome fails with ``worker_crashed`` (its last log lines, which
never hold data, are kept in the job's log).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kraken_market.smpc.node.forkserver import Forked, ForkServer
from kraken_market.smpc.node.worker import WorkerJob


def party_addresses(parties: Sequence[str], ports: Sequence[int]) -> list[str]:
    """``host:port`` of every node for a job: each node's host (``NodeConfig.parties``)
    with the port it leased for the job (``smpc.node.ports``), in node order."""
    if len(ports) != len(parties):
        raise ValueError(f"{len(ports)} ports for {len(parties)} nodes")
    return [
        f"{party.rpartition(':')[0]}:{port}" for party, port in zip(parties, ports, strict=True)
    ]


@dataclass
class Running:
    process: subprocess.Popen[bytes] | Forked
    out_dir: Path
    started: float
    timeout: float


def launch(
    job: WorkerJob,
    parties: Sequence[str],
    *,
    cwd: Path,
    ssl: bool,
    timeout: float,
    python: str = sys.executable,
    module: str = "kraken_market.smpc.node.worker",
    forker: ForkServer | None = None,
) -> Running:
    """Start the job's MPC process: forked by ``forker`` (the node's fork server, no
    imports to pay) or as a new Python running ``module``."""
    out = Path(job.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "outcome.json").unlink(missing_ok=True)
    job_file = out / "job.json"
    job_file.write_text(job.model_dump_json())
    arguments = [str(job_file)]
    for address in parties:
        arguments += ["-P", address]
    arguments += ["-I", str(job.node_index), "-T", str(job.t), "--no-log"]
    if ssl:
        arguments.append("--ssl")
    if forker is not None:
        forked = forker.launch(arguments, cwd=cwd, log=out / "worker.log")
        return Running(forked, out, time.monotonic(), timeout)
    command = [python, "-m", module, *arguments]
    log = (out / "worker.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own module, arguments we built
        command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    log.close()
    return Running(process, out, time.monotonic(), timeout)


def wait(running: Running) -> dict[str, Any]:
    """The worker's outcome: ``{"results": [...]}`` or ``{"error": {"code", "message"}}``."""
    remaining = running.timeout - (time.monotonic() - running.started)
    try:
        running.process.wait(max(0.0, remaining))
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait()
        return {
            "error": {
                "code": "job_timeout",
                "message": f"the computation did not finish within {running.timeout:g} s",
            }
        }
    outcome_file = running.out_dir / "outcome.json"
    if outcome_file.is_file():
        outcome: dict[str, Any] = json.loads(outcome_file.read_text())
        return outcome
    tail = (running.out_dir / "worker.log").read_bytes()[-600:].decode(errors="replace")
    return {
        "error": {
            "code": "worker_crashed",
            "message": f"the MPC process exited with {running.process.returncode}: "
            f"{tail.strip().splitlines()[-1] if tail.strip() else 'no output'}",
        }
    }


def stop(running: Running) -> None:
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()
