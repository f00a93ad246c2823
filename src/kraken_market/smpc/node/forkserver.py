"""A compute node's maker of MPC processes: started once, it forks one child per job.

Each job's MPC party is its own process (MPyC builds one global runtime from
``sys.argv`` when ``mpyc.runtime`` is imported). Starting it as a new Python
costs ~0.4 s of CPU in imports (numpy, cryptography, MPyC, the functions),
three times per job (one per node): under load, on a small machine, about
two fifths of all the CPU a computation takes. This server imports all of it
except ``mpyc.runtime`` once, then forks a child per job that only sets
``sys.argv``, imports the runtime (milliseconds) and runs the worker
(``smpc.node.worker.main``): the same process as before, without the imports.
Single-threaded, so forking it is safe; BLAS libraries are held to one thread
(``OPENBLAS_NUM_THREADS`` and friends), whose thread pools do not survive a fork.

Protocol, one JSON object per line: the node writes ``{"argv", "cwd", "log"}``;
the server answers ``{"started": pid}`` in order, and ``{"exited": pid, "code": rc}``
whenever a child ends. When the node goes away (its end of the pipe closes) the
server kills its children and exits; a child's worker watches the server as its
parent (``WorkerJob.node_pid``). Runs on the compute node: the server process
(``python -m kraken_market.smpc.node.forkserver``) and, in the node service,
:class:`ForkServer`, which hands out :class:`Forked` handles shaped like
``subprocess.Popen``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ONE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
START_TIMEOUT = 30.0
"""Seconds the server may take to fork a process before the job fails."""
PRELOAD = (
    "numpy",
    "kraken_market.smpc.node.worker",
    "kraken_market.smpc.functions.evaluate",
    "mpyc.numpy",
    "mpyc.finfields",
    "mpyc.thresha",
    "mpyc.asyncoro",
    "mpyc.sectypes",
    "mpyc.mpctools",
    "mpyc.secgroups",
    "mpyc.random",
    "mpyc.statistics",
    "mpyc.seclists",
    "mpyc.secpols",
)


# -- in the server process ---------------------------------------------------------------


def _child(request: dict[str, Any], protocol: int) -> None:
    """In the forked child: become the job's worker (never returns)."""
    code = 1
    try:
        os.close(protocol)  # the server's answers are not this process's to write
        try:
            log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:  # said on stderr, which is the node's log
            os.write(2, f"cannot open the MPC process's log: {exc}\n".encode())
            os._exit(1)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.chdir(request["cwd"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(number, signal.SIG_DFL)
        sys.argv = list(request["argv"])
        from kraken_market.smpc.node.worker import main

        main()  # ends the process itself (os._exit)
        code = 0
    except BaseException as exc:  # reported in the job's log, then exit
        print(f"the MPC process could not start: {type(exc).__name__}: {exc}", flush=True)
    finally:
        os._exit(code)


def serve() -> None:
    import importlib

    # The answers go to a private copy of the pipe; whatever else writes to stdout (a
    # library's log line) lands on stderr, the node's log, and never in the protocol.
    protocol = os.dup(1)
    os.dup2(2, 1)
    out = os.fdopen(protocol, "w")
    sys.argv = [sys.argv[0], "--no-log"]  # MPyC configures logging from argv on import
    for name in PRELOAD:
        importlib.import_module(name)
    assert "mpyc.runtime" not in sys.modules  # it would hold this server's argv
    children: set[int] = set()

    def say(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    fd, pending = sys.stdin.fileno(), b""  # raw reads: a buffered reader would hide lines
    while True:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:  # the node is gone: so are its computations
                for pid in children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                os._exit(0)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                pid = os.fork()
                if pid == 0:
                    _child(json.loads(line), protocol)
                children.add(pid)
                say({"started": pid})
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            children.discard(pid)
            say({"exited": pid, "code": os.waitstatus_to_exitcode(status)})


# -- in the node service -----------------------------------------------------------------


class Forked:
    """A forked MPC process, as much of ``subprocess.Popen`` as the runner uses."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid
        self.returncode: int | None = None
        self.done = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self.done.wait(timeout):
            raise subprocess.TimeoutExpired(f"MPC process {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def ended(self, code: int) -> None:
        self.returncode = code
        self.done.set()


class ForkServer:
    def __init__(self, python: str = sys.executable) -> None:
        self._python = python
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._started: list[int] = []
        self._started_ready = threading.Condition()
        self._children: dict[int, Forked] = {}
        self._early: dict[int, int] = {}  # exits read before their start was handed out

    @property
    def pid(self) -> int:
        """The server's process id (started if need be): its children's parent."""
        with self._lock:
            return self._ensure().pid

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._end_all()  # a server that died took its children with it
        self._process = subprocess.Popen(  # noqa: S603 - our own module
            [self._python, "-m", "kraken_market.smpc.node.forkserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, **ONE_THREAD},
        )
        self._reader = threading.Thread(
            target=self._read, args=(self._process,), name="forkserver", daemon=True
        )
        self._reader.start()
        return self._process

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                message = json.loads(line)
            except ValueError:  # not an answer: never expected, never fatal
                continue
            if "started" in message:
                with self._started_ready:
                    self._started.append(int(message["started"]))
                    self._started_ready.notify_all()
            else:
                pid, code = int(message["exited"]), int(message["code"])
                with self._started_ready:
                    child = self._children.pop(pid, None)
                    if child is None:
                        self._early[pid] = code
                if child is not None:
                    child.ended(code)
        process.stdout.close()
        if process is self._process:  # it ended: so did its children (they watch it)
            self._end_all()
        with self._started_ready:
            self._started_ready.notify_all()

    def launch(self, argv: Sequence[str], *, cwd: Path, log: Path) -> Forked:
        """Fork a child running the worker with ``argv`` (``sys.argv``: job file first)."""
        with self._lock:
            process = self._ensure()
            assert process.stdin is not None
            request = {"argv": ["worker", *argv], "cwd": str(cwd), "log": str(log)}
            process.stdin.write((json.dumps(request) + "\n").encode())
            process.stdin.flush()
            deadline = time.monotonic() + START_TIMEOUT
            with self._started_ready:
                while not self._started:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the node's fork server did not start the process")
                    self._started_ready.wait(1.0)
                pid = self._started.pop(0)
                child = Forked(self, pid)
                early = self._early.pop(pid, None)
                if early is None:
                    self._children[pid] = child
            if early is not None:
                child.ended(early)
            return child

    def _end_all(self) -> None:
        with self._started_ready:
            children, self._children = list(self._children.values()), {}
            self._started.clear()
        for child in children:
            child.ended(-signal.SIGKILL)

    def close(self) -> None:
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                assert self._process.stdin is not None
                self._process.stdin.close()  # the server kills its children and exits
                try:
                    self._process.wait(10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
            if self._process is not None:
                if self._reader is not None:
                    self._reader.join(10)  # every exit read
                assert self._process.stdout is not None
                self._process.stdout.close()
            self._end_all()


if __name__ == "__main__":
    serve()
