"""A compute node's configuration, from explicit arguments (``node init`` writes it as
``node.json`` in the node's data directory; ``Settings`` can build it later).

Every node of a deployment lists the same ``parties`` in the same order (node
i's MPC host and base port). A job's MPC port at node i is one of
``base .. base + mpc_port_span - 1`` that the node leases and checks free for
that run (``smpc.node.ports``); the lead node hands all nodes' ports to every
node when it starts the job (``smpc.node.schedule``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from kraken_market.errors import InvalidRequest
from kraken_market.files import write_private
from kraken_market.ports import check_mpc_ports
from kraken_market.smpc.shamir import check_threshold, default_threshold


@dataclass(frozen=True)
class NodeConfig:
    index: int
    data_dir: Path
    parties: tuple[str, ...]
    """``host:base_port`` of every node's MPC endpoint, in node order."""
    storage: str | Path
    """Where the share files are: a directory, or ``s3://bucket[/prefix][?endpoint=URL]``
    (``smpc.storage.open_storage``); kept as a string."""
    chain_url: str
    deployment_file: Path
    t: int | None = None
    host: str = "127.0.0.1"
    port: int = 8800
    mpc_port_span: int = 1000
    ssl: bool = True
    join_timeout: float = 30.0
    job_timeout: float = 900.0
    min_cohort_floor: int = 10
    max_concurrent_jobs: int = 2
    max_queued_jobs: int = 64
    """Jobs waiting here beyond which a submission is answered 503 ``node_busy``."""
    python: str = field(default=sys.executable)

    def __post_init__(self) -> None:
        object.__setattr__(self, "storage", str(self.storage))  # a Path is a directory too
        if not 0 <= self.index < len(self.parties):
            raise ValueError(f"node index {self.index} is not in 0..{len(self.parties) - 1}")
        check_threshold(self.m, self.threshold)
        ranges: dict[str, list[int]] = {}
        for party in self.parties:
            host, _, port = party.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536 - self.mpc_port_span:
                raise ValueError(f"{party!r}: a party is host:base_port with room for the span")
            check_mpc_ports(int(port), self.mpc_port_span, f"party {party}")
            ranges.setdefault(host, []).append(int(port))
        for host, bases in ranges.items():  # nodes sharing a host need disjoint port ranges
            for a, b in pairwise(sorted(bases)):
                if b - a < self.mpc_port_span:
                    raise ValueError(
                        f"MPC port ranges on {host} overlap: bases {a} and {b} are {b - a} "
                        "apart, but each node "
                        f"uses {self.mpc_port_span} ports from its base, so bases on one host "
                        f"must be at least {self.mpc_port_span} apart (e.g. {host}:{a} and "
                        f"{host}:{a + self.mpc_port_span})"
                    )

    @property
    def m(self) -> int:
        return len(self.parties)

    @property
    def threshold(self) -> int:
        return default_threshold(self.m) if self.t is None else self.t

    @property
    def mpc_dir(self) -> Path:
        """MPyC's working directory: ``.config/`` holds this node's TLS files."""
        return self.data_dir / "mpc"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"

    @property
    def database(self) -> Path:
        return self.data_dir / "jobs.sqlite"

    @property
    def hpke_key_file(self) -> Path:
        return self.data_dir / "keys" / "hpke.key"

    @property
    def account_key_file(self) -> Path:
        return self.data_dir / "keys" / "account.key"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("data_dir", "storage", "deployment_file"):
            data[name] = str(data[name])  # node.json: plain strings
        data["parties"] = list(self.parties)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeConfig:
        values = dict(data)
        for name in ("data_dir", "deployment_file"):
            values[name] = Path(values[name])
        values["parties"] = tuple(values["parties"])
        return cls(**values)

    def save(self) -> Path:
        path = self.data_dir / "node.json"
        # 0600: the chain URL may hold a hosted provider's API key (kraken_market.files).
        write_private(path, json.dumps(self.to_json(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, data_dir: Path) -> NodeConfig:
        """The node's configuration; a missing or hand-edited ``node.json`` that breaks a
        rule (ports, threshold) is refused with the rule, as ``node init`` refuses it."""
        path = Path(data_dir) / "node.json"
        try:
            config = cls.from_json(json.loads(path.read_text()))
        except FileNotFoundError:
            raise InvalidRequest(f"no {path}: run 'kraken-market node init' first") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidRequest(f"{path}: {exc}") from exc
        return replace(config, data_dir=Path(data_dir))
