"""The node's fork server: one child per job, started together without losing any,
their exits reported, killed on demand, and all gone when the node goes."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from kraken_market.smpc.node.forkserver import ForkServer


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not status.exists() or status.read_text().split()[2] != "Z"


def test_children_start_together_report_their_exit_and_can_be_killed(tmp_path: Path) -> None:
    server = ForkServer()
    try:
        # Five at once: each gets its own process (no request waits for the next one).
        children = [
            server.launch([str(tmp_path / "missing.json")], cwd=tmp_path, log=tmp_path / f"{i}.log")
            for i in range(5)
        ]
        assert len({child.pid for child in children}) == 5
        for i, child in enumerate(children):
            assert child.wait(30) == 1  # no such job file: the worker says so and exits
            assert "missing.json" in (tmp_path / f"{i}.log").read_text()
        # A log that cannot be opened fails that process only, and says why on stderr.
        lost = server.launch(["job.json"], cwd=tmp_path, log=tmp_path / "no" / "such.log")
        assert lost.wait(30) == 1
        again = server.launch([str(tmp_path / "x.json")], cwd=tmp_path, log=tmp_path / "x.log")
        assert again.wait(30) == 1 and "x.json" in (tmp_path / "x.log").read_text()
        # A worker that waits (its job file is a pipe nobody writes) is killed on demand.
        fifo = tmp_path / "job.fifo"
        os.mkfifo(fifo)
        waiting = server.launch([str(fifo)], cwd=tmp_path, log=tmp_path / "w.log")
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(0.5)
        assert waiting.poll() is None
        waiting.kill()
        assert waiting.wait(10) == -9
        # When the node goes, the server takes its children with it.
        last = server.launch([str(fifo)], cwd=tmp_path, log=tmp_path / "l.log")
        server_pid = server.pid
    finally:
        server.close()
    deadline = time.monotonic() + 10
    while alive(last.pid) or alive(server_pid):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert last.poll() is not None
