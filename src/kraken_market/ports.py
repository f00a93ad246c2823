"""Which ports the compute nodes' MPC may listen on: out of the kernel's ephemeral range.

Used by the settings (``up``'s ``node_mpc_base_port``) and by each node's
configuration (``smpc.config``); imports nothing heavy, as every process reads
its settings at start.
"""

from __future__ import annotations

from pathlib import Path

EPHEMERAL_DEFAULT = (32768, 60999)


def ephemeral_ports(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> tuple[int, int]:
    """The kernel's range of ports for outgoing connections (Linux; its default
    elsewhere). A listening port inside it may be taken at any moment by some
    client socket of this machine (the platform's own idle connections to the
    chain sit there), so MPC ports must stay out of it."""
    try:
        low, high = (int(part) for part in path.read_text().split())
    except (OSError, ValueError):
        return EPHEMERAL_DEFAULT
    return low, high


def check_mpc_ports(base: int, span: int, what: str) -> None:
    """Refuse MPC ports ``base .. base+span-1`` that meet the ephemeral range."""
    low, high = ephemeral_ports()
    if base <= high and base + span - 1 >= low:
        raise ValueError(
            f"{what}: MPC ports {base}-{base + span - 1} fall in this machine's ephemeral "
            f"port range {low}-{high}, where client connections take ports at any time: "
            f"choose ports below {low} (or above {high})"
        )
