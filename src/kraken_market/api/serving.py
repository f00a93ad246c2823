"""Serving the API with several worker processes, one listening socket each.

uvicorn's own ``--workers`` shares one listening socket between the workers. Whichever
worker wakes first accepts a burst of connections (asyncio accepts up to a hundred
at a time), so keep-alive clients that connect together mostly land on one worker
and the others idle; and that socket is made without naming TCP, so asyncio leaves
Nagle's algorithm on and every keep-alive response waits ~40 ms for a delayed ACK
(both measured with ``bench/load.py``). Here each worker binds its own socket to the
same port with ``SO_REUSEPORT`` (Linux, BSD): the kernel spreads new connections
over the workers by their addresses, and the sockets are TCP sockets, so asyncio
turns Nagle off. The parent restarts a worker that dies (``RESTARTS`` within
``RESTART_WINDOW`` seconds end the server) and stops them all on SIGINT/SIGTERM.

Runs in the API's parent process (``api serve --workers N``) and its workers
(``python -m kraken_market.api.serving HOST PORT``).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

RESTARTS, RESTART_WINDOW = 5, 120.0


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` alongside the other workers' sockets."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def port_free(host: str, port: int) -> bool:
    """No other program listens there (a reuse-port group is only this server's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def serve_workers(host: str, port: int, count: int, say: Callable[[str], None]) -> int:
    """Run ``count`` workers until a signal; the exit code."""
    command = [sys.executable, "-m", "kraken_market.api.serving", host, str(port)]
    workers = [subprocess.Popen(command) for _ in range(count)]  # noqa: S603 - our module
    stopping = False
    restarts: list[float] = []

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        time.sleep(0.2)
        for i, worker in enumerate(workers):
            if worker.poll() is None or stopping:
                continue
            restarts = [t for t in restarts if time.monotonic() - t < RESTART_WINDOW]
            if len(restarts) >= RESTARTS:
                say(f"API workers exited {RESTARTS} times within {RESTART_WINDOW:g} s: stopping")
                stopping, code = True, 1
                break
            say(f"API worker {worker.pid} exited with {worker.returncode}: starting another")
            restarts.append(time.monotonic())
            workers[i] = subprocess.Popen(command)  # noqa: S603 - our module
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
    return code


def main() -> None:
    """One worker: the app from the environment's settings on its own reuse-port socket."""
    import uvicorn

    host, port = sys.argv[1], int(sys.argv[2])
    sock = reuse_port_socket(host, port)
    config = uvicorn.Config(
        "kraken_market.api.app:app_from_settings",
        factory=True,
        log_config=None,
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
