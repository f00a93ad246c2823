"""The MPC port of each job at this node: leased, checked free, announced to the peers.

MPyC has party *i* listen on the port its ``-P`` option names for *i* and
connect out to the others', so each node picks only its own port and the job's
lead node hands the full list to every node at the job's start
(``smpc.node.schedule``). A port is leased to one job at a time out of
``base .. base + span - 1`` (the node's party address in ``NodeConfig.parties``
and ``mpc_port_span``), chosen at random among the free ones and checked by
binding it as MPyC will (IPv4 and IPv6 wildcard) before it is announced; a job
that runs again (after a failure) gets a new lease, so a port some other program
took is not tried twice. Runs in the compute node.
"""

from __future__ import annotations

import random
import socket
import threading

from kraken_market.errors import ServiceUnavailable


class NoFreePort(ServiceUnavailable):
    code = "no_free_port"


def can_listen(port: int) -> bool:
    """Whether MPyC could listen on ``port`` now (it binds every interface)."""
    try:
        for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):  # noqa: S104 - as MPyC will
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind((host, port))
    except OSError:
        return False
    return True


class PortLeases:
    def __init__(self, base: int, span: int, *, tries: int = 64) -> None:
        self.base, self.span, self.tries = base, span, tries
        self._leased: dict[str, int] = {}
        self._lock = threading.Lock()
        self._random = random.SystemRandom()

    def lease(self, job: str) -> int:
        """The port of ``job`` (the same while it holds its lease)."""
        with self._lock:
            if job in self._leased:
                return self._leased[job]
            taken = set(self._leased.values())
            for _ in range(self.tries):
                port = self.base + self._random.randrange(self.span)
                if port not in taken and can_listen(port):
                    self._leased[job] = port
                    return port
                taken.add(port)
        raise NoFreePort(
            f"no free MPC port found in {self.base}-{self.base + self.span - 1} after "
            f"{self.tries} tries: another program holds them, or the span is too small"
        )

    def release(self, job: str) -> None:
        with self._lock:
            self._leased.pop(job, None)

    def held(self) -> dict[str, int]:
        with self._lock:
            return dict(self._leased)
