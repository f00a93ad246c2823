"""The compute nodes on separate hosts: three network namespaces with addresses of their
own (``tests/smpc/netns.py``), the chain on the bridge between them, mutual TLS
between the nodes, a paid job across them; then one host's link cut in the middle of a
job: the job fails cleanly on every node, the buyer's payment stays held (nothing paid
out, nothing lost), and once the link is back the buyer submits the same request
again and gets the result, paid once. (This found that web3 asked no read again after
a connection failure: the cut host's node failed its next jobs, ``ledger.client``.)

Accounts: 0 admin, 2 verifier, 4-6 nodes, 7 buyer, 8 seller (tests/smpc/market_setup.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.ledger.client import connect, dev_account
from kraken_market.ledger.model import PaymentStatus
from kraken_market.smpc.client import AnalyticsClient
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey
from kraken_market.smpc.node.authorise import LedgerChain
from kraken_market.smpc.node.jobs import JobRequest
from kraken_market.smpc.node.worker import ProductInput
from tests import served
from tests.cli.test_cli import free_port
from tests.smpc.market_setup import BUYER, PRICE, SELLER, Market, deploy_market, share, table
from tests.smpc.netns import Hosts, separate_hosts
from tests.smpc.test_node_e2e import cli

ROOT = Path(__file__).resolve().parents[2]
NODE_PORT = 8800
MPC_BASE = 20_000
"""The same ports on every host: they are different machines."""
JOB_TIMEOUT = 25
"""Seconds a job may take before a node gives up on it: a cut link resets nothing, so
the time-out is what ends a computation whose peer went silent."""
SUM = ComputationSpec(function="sum@1", columns=["income"])
SLOW = ComputationSpec(
    function="quantiles@1", columns=["age", "income"], params={"q": [0.1, 0.25, 0.5, 0.75, 0.9]}
)
"""Many secure comparisons: still computing when the link is cut (a sum would be done)."""


@dataclass
class Spread:
    hosts: Hosts
    market: Market
    dirs: list[Path]
    endpoints: list[str]
    data: pd.DataFrame
    product: ProductInput | None = None
    nodes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    clients: list[AnalyticsClient] = field(default_factory=list)

    def start(self, i: int) -> subprocess.Popen[bytes]:
        """Node i's own process on its own host."""
        command = [sys.executable, "-m", "kraken_market.cli.node", "serve"]
        command += ["--data-dir", str(self.dirs[i])]
        with (self.dirs[i] / "serve.log").open("ab") as log:
            process = subprocess.Popen(
                self.hosts.run_in(i, command), cwd=ROOT, stdout=log, stderr=log, env=os.environ
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                served.get(f"{self.endpoints[i]}/healthz", timeout=1).raise_for_status()
                return process
            except httpx2.HTTPError:
                assert process.poll() is None, (self.dirs[i] / "serve.log").read_text()
                assert time.monotonic() < deadline, "a node did not start on its host"
                time.sleep(0.1)

    def client(self) -> AnalyticsClient:
        self.clients.append(AnalyticsClient(self.endpoints, buyer=dev_account(BUYER)))
        return self.clients[-1]

    def request(self, spec: ComputationSpec) -> tuple[JobRequest, NodeKeyPair]:
        assert self.product is not None
        key = NodeKeyPair.generate()
        rid = self.market.pay(spec, [self.product.product_id], key.public_key)
        job = JobRequest(
            request_id=rid,
            computation=spec,
            products=[self.product],
            result_public_key=key.public_key.raw.hex(),
        )
        return job, key

    def logs(self) -> str:
        return "\n".join(
            f"--- node {i}\n" + (d / "serve.log").read_text()[-3000:]
            for i, d in enumerate(self.dirs)
        )


def chain_on(hosts: Hosts, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The chain on the bridge's address, where every host reaches it."""
    port = free_port()
    env = {**os.environ, "KRAKEN_DATA_DIR": str(data_dir), "KRAKEN_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "kraken_market", "chain", "serve"]
    command += ["--host", hosts.gateway, "--port", str(port)]
    with (data_dir / "chain.log").open("wb") as log:  # the child keeps its own copy
        process = subprocess.Popen(command, env=env, stderr=log)
    url = f"http://{hosts.gateway}:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            served.get(f"{url}/healthz", timeout=1).raise_for_status()
            return process, url
        except httpx2.HTTPError:
            assert process.poll() is None, (data_dir / "chain.log").read_text()
            assert time.monotonic() < deadline, "chain serve did not start"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def spread(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spread]:
    root = tmp_path_factory.mktemp("hosts")
    with separate_hosts(3) as hosts:
        chain, url = chain_on(hosts, root)
        try:
            market = Market(connect(url), deploy_market(connect(url)))
            market.deployment.save(root / "deployment.json")
            cli("certs", "--out", str(root / "certs"))
            parties = ",".join(f"{a}:{MPC_BASE}" for a in hosts.addresses)
            endpoints = [f"http://{a}:{NODE_PORT}" for a in hosts.addresses]
            dirs = [root / f"node-{i}" for i in range(3)]
            for i, address in enumerate(hosts.addresses):
                cli(
                    *("init", "--index", str(i), "--data-dir", str(dirs[i])),
                    *("--parties", parties, "--certs", str(root / "certs")),
                    *("--storage", str(root / "store"), "--chain-url", url),
                    *("--deployment", str(root / "deployment.json")),
                    *("--host", address, "--port", str(NODE_PORT)),
                    *("--join-timeout", "4", "--job-timeout", str(JOB_TIMEOUT)),
                    *("--dev-account", str(4 + i)),
                )
                cli(
                    "register",
                    "--data-dir",
                    str(dirs[i]),
                    "--endpoint",
                    endpoints[i],
                    "--dev-account",
                    "0",
                )
            spread = Spread(hosts, market, dirs, endpoints, table(40))
            try:
                spread.nodes = [spread.start(i) for i in range(3)]
                with AnalyticsClient(endpoints) as nodes:
                    infos = [nodes.info(i) for i in range(3)]
                keys = [NodePublicKey(bytes.fromhex(n["hpke_public_key"])) for n in infos]
                product = market.publish()
                market.grant(product)
                spread.product = share(
                    spread.data, product, keys, root / "store", Ed25519PrivateKey.generate(), root
                )
                yield spread
            finally:
                for client in spread.clients:
                    client.close()
                for process in spread.nodes:
                    process.terminate()
                    process.wait(20)
        finally:
            chain.terminate()
            chain.wait(20)


def test_a_job_runs_across_three_hosts(spread: Spread) -> None:
    client = spread.client()
    job, key = spread.request(SUM)
    client.submit(job)
    statuses = client.wait(job.request_id, timeout=120)
    assert {s["state"] for s in statuses.values()} == {"delivered"}, (statuses, spread.logs())
    result = client.result(
        job.request_id, SUM, key, t=1, chain=LedgerChain(spread.market.as_(BUYER))
    )
    assert result.table is not None
    assert abs(result.table.loc["sum", "income"] - spread.data.income.sum()) < 1e-6
    for i, endpoint in enumerate(spread.endpoints):  # each node on its own address
        assert served.get(f"{endpoint}/node").json()["index"] == i


def test_a_host_cut_off_mid_job_fails_it_cleanly_and_the_buyer_retries(spread: Spread) -> None:
    buyer, seller = spread.market.as_(BUYER), spread.market.as_(SELLER)
    client = spread.client()
    job, key = spread.request(SLOW)
    paid_by_buyer, held_for_seller = buyer.balance(), seller.balance()
    client.submit(job)
    deadline = time.monotonic() + 60
    while not spread.hosts.computing(2, MPC_BASE, peers=2):  # cut while it computes
        assert time.monotonic() < deadline, client.status(job.request_id)
        time.sleep(0.01)
    assert client.job(2, job.request_id)["state"] == "running"
    spread.hosts.cut(2)
    try:
        reachable = AnalyticsClient(spread.endpoints[:2], buyer=dev_account(BUYER))
        spread.clients.append(reachable)
        deadline = time.monotonic() + JOB_TIMEOUT + 60
        while {s["state"] for s in reachable.status(job.request_id).values()} != {"failed"}:
            assert time.monotonic() < deadline, (reachable.status(job.request_id), spread.logs())
            time.sleep(0.5)
        failed = reachable.status(job.request_id)
        # Only a time-out ends a job whose peer went silent; a node whose own time-out
        # comes later may first see the timed-out node's worker leave (``peer_lost``).
        codes = [s["error"]["code"] for s in failed.values()]
        assert "job_timeout" in codes and set(codes) <= {"job_timeout", "peer_lost"}, failed
        assert all(s["refund"] is None for s in failed.values()), failed  # retryable
        record = buyer.computation(job.request_id)
        assert record is not None and record.status == PaymentStatus.HELD  # nothing paid out
        assert seller.balance() == held_for_seller and buyer.balance() == paid_by_buyer
    finally:
        spread.hosts.mend(2)
    deadline = time.monotonic() + JOB_TIMEOUT + 60
    while client.job(2, job.request_id)["state"] not in ("failed", "delivered"):  # gives up too
        assert time.monotonic() < deadline, (client.status(job.request_id), spread.logs())
        time.sleep(0.5)
    client.submit(job)  # the same request, again: no second payment
    statuses = client.wait(job.request_id, timeout=180)
    assert {s["state"] for s in statuses.values()} == {"delivered"}, (statuses, spread.logs())
    result = client.result(
        job.request_id, SLOW, key, t=1, chain=LedgerChain(spread.market.as_(BUYER))
    )
    assert result.table is not None
    expected = spread.data[["age", "income"]].quantile([0.1, 0.25, 0.5, 0.75, 0.9])
    assert np.allclose(result.table.to_numpy(), expected.to_numpy(), atol=1e-3), result.table
    record = buyer.computation(job.request_id)
    assert record is not None and record.status == PaymentStatus.PAID
    assert buyer.balance() == paid_by_buyer  # paid once, before the cut
    assert seller.balance() - held_for_seller == PRICE * (10_000 - 250) // 10_000
