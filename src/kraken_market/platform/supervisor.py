"""A small supervisor for the local platform's processes.

Each child runs in its own process group, so a Ctrl-C in the terminal reaches
``up`` alone and ``up`` decides the order of shutdown: the reverse of the
start order (the Depute tool and the nodes stop before the API, the chain
last, so nothing loses a peer while it is still working). Stopping a child is
SIGTERM, a grace period, then SIGKILL. Its stdout and stderr go to
``logs/<name>.log`` (appended: a restart keeps the history), which is what
an error names when a child dies.

Once the platform is up, a child that dies (a crash, a kill) is restarted
alone, after a pause that doubles with each exit, and reported; the others go
on (the API, the nodes and the indexer each retry a peer that is away for a
moment). A child that exits :data:`RESTARTS` times within
:data:`RESTART_WINDOW` seconds is not restarted again: ``up`` stops, naming its
log. While the platform starts, any exit stops ``up`` at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx2

from kraken_market.platform.errors import ProcessFailed, ProcessNotReady, StopRequested

SETTLE_SECONDS = 2.0
"""A child without a probe (the indexer) is ready once it has run this long."""
POLL_SECONDS = 0.1
RESTARTS = 5
RESTART_WINDOW = 120.0
FIRST_PAUSE = 0.5


@dataclass
class Child:
    name: str
    argv: list[str]
    ready_url: str | None
    log: Path
    process: subprocess.Popen[bytes]
    started: float
    ready: bool = False
    exits: list[float] = field(default_factory=list)
    """When it exited before (monotonic), for the restart limit."""

    def tail(self, lines: int = 12) -> list[str]:
        """The end of the child's log: usually the reason it died."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]


class Supervisor:
    def __init__(
        self,
        logs_dir: Path,
        stop: threading.Event,
        *,
        grace: float = 10.0,
        probe_timeout: float = 1.0,
        on_ready: Callable[[Child], None] | None = None,
    ) -> None:
        self.logs_dir = logs_dir
        self.on_ready = on_ready
        self.stop_requested = stop
        self.grace = grace
        self.probe_timeout = probe_timeout
        self.children: list[Child] = []

    def start(
        self, name: str, argv: list[str], ready_url: str | None, env: dict[str, str] | None = None
    ) -> Child:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log = self.logs_dir / f"{name}.log"
        with log.open("ab") as handle:
            handle.write(f"--- {datetime.now(UTC).isoformat()} {' '.join(argv)}\n".encode())
            handle.flush()
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                argv,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                process_group=0,
            )
        child = Child(name, argv, ready_url, log, process, time.monotonic())
        self.children.append(child)
        return child

    def check(self) -> None:
        """Raise :class:`ProcessFailed` for the first child that has exited."""
        for child in self.children:
            status = child.process.poll()
            if status is not None:
                raise ProcessFailed(
                    f"{child.name} exited with status {status}; its log: {child.log}",
                    details={"name": child.name, "status": status, "log": str(child.log)},
                )

    def wait_ready(self, timeout: float, names: Iterable[str] | None = None) -> None:
        """Wait until each child (of ``names``; default all) answers its probe, all at
        once: their start-up times overlap instead of adding up."""
        wanted = None if names is None else set(names)
        pending = [c for c in self.children if not c.ready and (wanted is None or c.name in wanted)]
        deadline = time.monotonic() + timeout
        with httpx2.Client(timeout=self.probe_timeout) as http:
            while pending:
                self.check()
                if self.stop_requested.is_set():
                    raise StopRequested("stop requested while starting")
                for child in list(pending):
                    if self._answers(http, child):
                        child.ready = True
                        pending.remove(child)
                        if self.on_ready is not None:
                            self.on_ready(child)
                if pending and time.monotonic() > deadline:
                    late = ", ".join(f"{c.name} ({c.log})" for c in pending)
                    raise ProcessNotReady(
                        f"not ready after {timeout:.0f} s: {late}",
                        details={"names": [c.name for c in pending]},
                    )
                if pending:
                    time.sleep(POLL_SECONDS)

    def _answers(self, http: httpx2.Client, child: Child) -> bool:
        if child.ready_url is None:
            return time.monotonic() - child.started >= SETTLE_SECONDS
        try:
            return http.get(child.ready_url).status_code == 200
        except httpx2.HTTPError:
            return False

    def watch(
        self,
        interval: float = 0.5,
        on_restart: Callable[[Child, Child, int], None] | None = None,
    ) -> None:
        """Until a stop is requested. A child that exits is restarted (then
        ``on_restart(old, new, status)``); one that keeps exiting raises ProcessFailed."""
        while not self.stop_requested.wait(interval):
            for position, child in enumerate(self.children):
                status = child.process.poll()
                if status is None:
                    continue
                now = time.monotonic()
                exits = [t for t in child.exits if t > now - RESTART_WINDOW] + [now]
                if len(exits) >= RESTARTS:
                    raise ProcessFailed(
                        f"{child.name} exited {len(exits)} times in {RESTART_WINDOW:.0f} s "
                        f"(last status {status}); its log: {child.log}",
                        details={"name": child.name, "status": status, "log": str(child.log)},
                    )
                if self.stop_requested.wait(FIRST_PAUSE * 2 ** (len(exits) - 1)):
                    return
                self.children.remove(child)
                fresh = self.start(child.name, child.argv, child.ready_url)
                self.children.remove(fresh)
                self.children.insert(position, fresh)  # the shutdown order stays
                fresh.exits, fresh.ready = exits, True
                if on_restart is not None:
                    on_restart(child, fresh, status)

    def stop(self) -> None:
        """Stop every child, newest first; each gets ``grace`` seconds after SIGTERM."""
        for child in reversed(self.children):
            process = child.process
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(self.grace)
                except subprocess.TimeoutExpired:
                    # The whole group: a node's per-job MPC processes go with it.
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
