"""Hosts of their own for the compute nodes, on one machine: Linux network namespaces.

Each "host" is a network namespace (``ip netns``) with its own address on a bridge in
the machine's namespace, where the chain runs: the nodes reach each other and the
chain only over that bridge, as separate machines reach each other over a network.
Cutting a host's link (its veth's end on the bridge, down) is what a pulled cable or
a partitioned data centre does: packets vanish, no connection is reset.

Needs root (CI runs as root). Names carry a random tag, so runs side by side never
collide, and everything is removed afterwards (deleting a namespace deletes its end
of the veth, which deletes the other end).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.conftest import IN_CI


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr.strip()}"


@dataclass(frozen=True)
class Hosts:
    tag: str
    gateway: str
    """The machine's own address on the bridge (the chain listens there)."""
    addresses: list[str]
    """Each host's address, in node order."""

    def namespace(self, i: int) -> str:
        return f"kkn{self.tag}{i}"

    def link(self, i: int) -> str:
        """The bridge's end of host i's cable."""
        return f"kkv{self.tag}{i}"

    def run_in(self, i: int, command: list[str]) -> list[str]:
        """``command`` as host i runs it."""
        return ["ip", "netns", "exec", self.namespace(i), *command]

    def computing(self, i: int, mpc_base: int, peers: int) -> bool:
        """Host i holds established MPC connections to ``peers`` other hosts (ports
        ``mpc_base`` .. ``mpc_base`` + 999): the parties joined, the computation runs."""
        listed = subprocess.run(
            ["ip", "netns", "exec", self.namespace(i), "ss", "-Htn", "state", "established"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        others = set()
        for line in listed.splitlines():
            local, remote = line.split()[-2:]
            (_, here_port), (there, there_port) = (a.rsplit(":", 1) for a in (local, remote))
            if mpc_base <= int(here_port) < mpc_base + 1000 or (
                mpc_base <= int(there_port) < mpc_base + 1000
            ):
                others.add(there)
        return len(others - {self.addresses[i]}) >= peers

    def cut(self, i: int) -> None:
        ip("link", "set", self.link(i), "down")

    def mend(self, i: int) -> None:
        ip("link", "set", self.link(i), "up")


def _usable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the 'ip' command (iproute2) is missing"
    return None


@contextmanager
def separate_hosts(count: int) -> Iterator[Hosts]:
    """``count`` hosts on a fresh bridge with a /24 of its own."""
    reason = _usable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true runs the separate-hosts test: {reason}")
        pytest.skip(reason)
    tag = secrets.token_hex(2)
    subnet = f"10.{200 + secrets.randbelow(50)}.{secrets.randbelow(256)}"
    hosts = Hosts(tag, f"{subnet}.1", [f"{subnet}.{10 + i}" for i in range(count)])
    bridge = f"kkb{tag}"
    try:
        ip("link", "add", bridge, "type", "bridge")
        ip("addr", "add", f"{hosts.gateway}/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        for i, address in enumerate(hosts.addresses):
            ns, outer, inner = hosts.namespace(i), hosts.link(i), f"kkp{tag}{i}"
            ip("netns", "add", ns)
            ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            ip("link", "set", inner, "netns", ns)
            ip("link", "set", outer, "master", bridge)
            ip("link", "set", outer, "up")
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", inner)
            ip("-n", ns, "link", "set", inner, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        yield hosts
    finally:
        for i in range(count):
            subprocess.run(["ip", "netns", "del", hosts.namespace(i)], capture_output=True)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
