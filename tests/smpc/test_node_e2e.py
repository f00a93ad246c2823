"""End to end: a chain serve process, three compute node processes (mutual TLS), an owner's
shares, a verifier's grant, a buyer's paid requests, results recombined and checked.

Accounts: 0 admin, 2 verifier, 4-6 nodes, 7 buyer, 8 seller (tests/smpc/market_setup.py).
"""

from __future__ import annotations

import os
import random
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
from typer.testing import CliRunner

from kraken_market.files import write_private
from kraken_market.ledger.client import connect, dev_account
from kraken_market.ledger.model import PaymentStatus
from kraken_market.smpc import fixedpoint, job_auth, shamir
from kraken_market.smpc.client import AnalyticsClient
from kraken_market.smpc.envelope import open_envelope
from kraken_market.smpc.errors import ResultSharesInvalid
from kraken_market.smpc.field import FieldArray, add
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey
from kraken_market.smpc.manifest import verify_manifest
from kraken_market.smpc.node.authorise import LedgerChain
from kraken_market.smpc.node.jobs import JobRequest
from kraken_market.smpc.node.worker import ProductInput
from kraken_market.smpc.results import open_result
from kraken_market.smpc.share_format import parse
from kraken_market.smpc.storage import LocalDirectory
from tests import served
from tests.cli.test_cli import free_port
from tests.ledger.conftest import chain_serve  # noqa: F401 - the fixture
from tests.smpc.market_setup import (
    BUYER,
    PRICE,
    SELLER,
    Market,
    deploy_market,
    share,
    table,
)

ROOT = Path(__file__).resolve().parents[2]
STD = ComputationSpec(
    function="std@1", columns=["age", "income"], filter={"column": "sex", "op": "==", "value": "f"}
)
SUM = ComputationSpec(function="sum@1", columns=["income"])
runner = CliRunner()


@dataclass
class Platform:
    market: Market
    nodes: list[subprocess.Popen[bytes]]
    dirs: list[Path]
    endpoints: list[str]
    store: Path
    data: pd.DataFrame
    product: ProductInput
    keys: list[NodeKeyPair]
    clients: list[AnalyticsClient] = field(default_factory=list)

    def start(self, i: int) -> None:
        command = [
            sys.executable,
            "-m",
            "kraken_market.cli.node",
            "serve",
            "--data-dir",
            str(self.dirs[i]),
        ]
        with (self.dirs[i] / "serve.log").open("ab") as log:
            self.nodes[i] = subprocess.Popen(command, cwd=ROOT, stderr=log, stdout=log)
        deadline = time.monotonic() + 60
        while True:
            try:
                served.get(f"{self.endpoints[i]}/healthz", timeout=1).raise_for_status()
                return
            except httpx2.HTTPError:
                assert self.nodes[i].poll() is None, (self.dirs[i] / "serve.log").read_text()
                assert time.monotonic() < deadline
                time.sleep(0.1)

    def client(self) -> AnalyticsClient:
        self.clients.append(AnalyticsClient(self.endpoints, buyer=dev_account(BUYER)))
        return self.clients[-1]

    def request(self, spec: ComputationSpec) -> tuple[JobRequest, NodeKeyPair]:
        key = NodeKeyPair.generate()
        rid = self.market.pay(spec, [self.product.product_id], key.public_key)
        job = JobRequest(
            request_id=rid,
            computation=spec,
            products=[self.product],
            result_public_key=key.public_key.raw.hex(),
        )
        return job, key


def cli(*args: str) -> str:
    from kraken_market.cli.node import app

    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return str(result.stdout)


@pytest.fixture(scope="module")
def platform(chain_serve: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:  # noqa: F811
    root = tmp_path_factory.mktemp("platform")
    market = Market(connect(chain_serve), deploy_market(connect(chain_serve)))
    market.deployment.save(root / "deployment.json")
    cli("certs", "--out", str(root / "certs"))
    base = random.randrange(20000, 29000, 1000)  # below the kernel's ephemeral ports
    parties = ",".join(f"127.0.0.1:{base + 1000 * i}" for i in range(3))
    ports = [free_port() for _ in range(3)]
    endpoints = [f"http://127.0.0.1:{p}" for p in ports]
    dirs = [root / f"node-{i}" for i in range(3)]
    for i in range(3):
        cli(
            "init",
            "--index",
            str(i),
            "--data-dir",
            str(dirs[i]),
            "--parties",
            parties,
            "--certs",
            str(root / "certs"),
            "--storage",
            str(root / "store"),
            "--chain-url",
            chain_serve,
            "--deployment",
            str(root / "deployment.json"),
            "--port",
            str(ports[i]),
            "--join-timeout",
            "4",
            "--dev-account",
            str(4 + i),
        )
        cli(
            "register", "--data-dir", str(dirs[i]), "--endpoint", endpoints[i], "--dev-account", "0"
        )
    platform = Platform(market, [None] * 3, dirs, endpoints, root / "store", table(40), None, [])  # type: ignore[list-item,arg-type]
    try:
        for i in range(3):
            platform.start(i)
        with AnalyticsClient(endpoints) as nodes:
            infos = [nodes.info(i) for i in range(3)]
        keys = [NodePublicKey(bytes.fromhex(info["hpke_public_key"])) for info in infos]
        platform.keys = [
            NodeKeyPair(bytes.fromhex((d / "keys/hpke.key").read_text().strip())) for d in dirs
        ]
        product = market.publish()
        market.grant(product)
        platform.product = share(
            platform.data, product, keys, root / "store", Ed25519PrivateKey.generate(), root
        )
        yield platform
    finally:
        for client in platform.clients:
            client.close()
        for process in platform.nodes:
            if process is not None:
                process.terminate()
                process.wait(20)


def test_paid_computations_run_concurrently_and_pay_the_seller(platform: Platform) -> None:
    client = platform.client()
    seller = platform.market.as_(SELLER)
    before = seller.balance()
    jobs = [platform.request(STD), platform.request(SUM)]
    for job, _ in jobs:
        assert {s["state"] for s in client.submit(job)} <= {"queued", "starting", "running"}
    statuses = [client.wait(job.request_id, timeout=120) for job, _ in jobs]
    for status in statuses:
        errors = {i: s["error"] for i, s in status.items() if s["state"] != "delivered"}
        assert not errors, errors
        assert sorted(s["attestation"] for s in status.values()) == [
            "attested",
            "attested",
            "not_needed",
        ]
    chain = LedgerChain(platform.market.as_(BUYER))
    std = client.result(jobs[0][0].request_id, STD, jobs[0][1], t=1, chain=chain)
    women = platform.data[platform.data.sex == "f"]
    expected = [women.age.std(), women.income.std()]
    assert std.table is not None
    assert np.allclose(std.table.loc["std"], expected, rtol=1e-9), (std.table, expected)
    total = client.result(jobs[1][0].request_id, SUM, jobs[1][1], t=1, chain=chain)
    assert total.table is not None
    assert abs(total.table.loc["sum", "income"] - platform.data.income.sum()) < 1e-6
    assert len(total.nodes) == 2  # the t + 1 attested shares
    for job, _ in jobs:
        record = platform.market.as_(BUYER).computation(job.request_id)
        assert record is not None and record.status == PaymentStatus.PAID
        assert record.attestations == 2
    assert seller.balance() - before == 2 * PRICE * (10_000 - 250) // 10_000


def test_result_shares_are_rerandomised(platform: Platform) -> None:
    """The buyer's polynomial is not the sum of the owner's: every node's result share of
    a sum differs from the sum of its input shares, yet both recombine to the same value."""
    client = platform.client()
    job, key = platform.request(SUM)
    client.submit(job)
    client.wait(job.request_id, timeout=120)
    storage = LocalDirectory(platform.store)
    manifest = verify_manifest(
        storage.read(platform.product.manifest).decode(), platform.product.owner
    )
    derived, returned = {}, {}
    for i, node_key in enumerate(platform.keys):
        data = storage.read(manifest.file_for(i).name)
        shares = parse(open_envelope(data, node_key, platform.product.product_id, i))
        column = shares.column("income")
        total = FieldArray.zeros((1,))
        for j in range(column.size):
            total = add(total, column[j : j + 1])
        derived[i] = total
        node = served.get(f"{platform.endpoints[i]}/node").json()["account"]
        signed = job_auth.sign(dev_account(BUYER), job.request_id, node)
        sealed = served.get(
            f"{platform.endpoints[i]}/jobs/{job.request_id}/result", headers=signed
        ).content
        share = open_result(sealed, key, job.request_id.lower(), i).share
        assert share is not None
        returned[i] = share
    for i in range(3):
        assert not derived[i].equals(returned[i])
    same = shamir.recombine([(i + 1, derived[i]) for i in range(3)], 1)
    again = shamir.recombine([(i + 1, returned[i]) for i in range(3)], 1)
    assert same.equals(again)


def test_a_tampered_result_file_is_refused(platform: Platform) -> None:
    client = platform.client()
    job, key = platform.request(SUM)
    client.submit(job)
    statuses = client.wait(job.request_id, timeout=120)
    attested = [i for i, s in statuses.items() if s["attestation"] == "attested"]
    path = platform.dirs[attested[0]] / "results" / f"{job.request_id.lower()}.kres"
    original = path.read_bytes()
    path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    chain = LedgerChain(platform.market.as_(BUYER))
    try:
        with pytest.raises(ResultSharesInvalid, match=f"node {attested[0]}'s result file"):
            client.result(job.request_id, SUM, key, t=1, chain=chain)
    finally:
        path.write_bytes(original)
    assert client.result(job.request_id, SUM, key, t=1, chain=chain).table is not None


def test_nodes_keep_no_input_data(platform: Platform) -> None:
    storage = LocalDirectory(platform.store)
    manifest = verify_manifest(
        storage.read(platform.product.manifest).decode(), platform.product.owner
    )
    secrets = fixedpoint.encode(platform.data[["age", "income"]].to_numpy().ravel()).to_bytes()
    needles = {secrets[k : k + 16] for k in range(0, len(secrets), 16)} - {b"\x00" * 16}
    for i, node_key in enumerate(platform.keys):
        data = storage.read(manifest.file_for(i).name)
        plaintext = open_envelope(data, node_key, platform.product.product_id, i)
        payload = plaintext[-len(platform.data) * 4 * 16 :]
        mine = {payload[k : k + 16] for k in range(0, len(payload), 16)} | {data[98:162]}
        for path in platform.dirs[i].rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                assert b"KRKNSHR" not in content, path
                assert not any(n in content for n in needles | mine), path
        jobs = platform.dirs[i] / "jobs"
        assert not jobs.exists() or not any(jobs.iterdir())


def test_a_job_waits_for_a_node_that_does_not_have_it_and_then_runs(platform: Platform) -> None:
    """No node starts (and holds a slot for) a job its peers cannot run yet: the lead
    keeps it queued, says why, and starts it everywhere once the last node has it."""
    job, key = platform.request(SUM)
    two = AnalyticsClient(platform.endpoints[:2], buyer=dev_account(BUYER))
    platform.clients.append(two)
    two.submit(job)
    deadline = time.monotonic() + 30
    waits_for = "node 2 to receive the job"
    while (two.job(0, job.request_id).get("queue") or {}).get("waiting_for") != waits_for:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    statuses = two.status(job.request_id)
    assert statuses[0]["state"] == "queued" and statuses[0]["queue"]["position"] == 1
    assert statuses[1]["state"] in ("queued", "starting")  # the lead asks again and again
    assert statuses[1]["queue"] is None  # only the lead keeps the queue
    client = platform.client()
    client.submit(job)
    statuses = client.wait(job.request_id, timeout=60, poll=0.2)
    assert {s["state"] for s in statuses.values()} == {"delivered"}, statuses
    assert len({s["port"] for s in statuses.values()}) == 3  # each node announced its own
    result = client.result(
        job.request_id, SUM, key, t=1, chain=LedgerChain(platform.market.as_(BUYER))
    )
    assert result.table is not None


def test_a_restarted_node_serves_what_it_delivered(platform: Platform) -> None:
    client = platform.client()
    job, key = platform.request(SUM)
    client.submit(job)
    client.wait(job.request_id, timeout=120)
    platform.nodes[1].send_signal(9)
    platform.nodes[1].wait(10)
    platform.start(1)
    assert client.status(job.request_id)[1]["state"] == "delivered"
    result = client.result(
        job.request_id, SUM, key, t=1, chain=LedgerChain(platform.market.as_(BUYER))
    )
    assert result.table is not None
    assert abs(result.table.loc["sum", "income"] - platform.data.income.sum()) < 1e-6
    assert os.path.exists(platform.dirs[1] / "jobs.sqlite")


def test_the_buyer_cli_requests_and_writes_the_result(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import json

    from kraken_market.cli.analytics import app
    from kraken_market.settings import get_settings

    monkeypatch.setenv("KRAKEN_DATA_DIR", str(platform.dirs[0].parent))
    monkeypatch.setenv("KRAKEN_CHAIN_URL", platform.market.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    monkeypatch.delenv("KRAKEN_CONFIG", raising=False)
    get_settings.cache_clear()
    (tmp_path / "spec.json").write_text(json.dumps({"function": "mean@1", "columns": ["age"]}))
    (tmp_path / "products.json").write_text(json.dumps([platform.product.model_dump()]))
    try:
        result = runner.invoke(
            app,
            [
                "request",
                "--spec",
                str(tmp_path / "spec.json"),
                "--products",
                str(tmp_path / "products.json"),
                "--nodes",
                ",".join(platform.endpoints),
                "--dev-account",
                str(BUYER),
            ],
        )
        assert result.exit_code == 0, result.output
        rid = result.stdout.split()[3].rstrip(";")
        buyer = ["--dev-account", str(BUYER)]
        result = runner.invoke(app, ["result", rid, "--out", str(tmp_path / "mean.csv"), *buyer])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["status", rid, "--json", *buyer])
        assert {s["state"] for s in json.loads(result.stdout).values()} == {"delivered"}
    finally:
        get_settings.cache_clear()
    table = pd.read_csv(tmp_path / "mean.csv", index_col=0)
    assert abs(table.loc["mean", "age"] - platform.data.age.mean()) < 1e-9


def test_a_tampered_share_file_refunds_the_buyer_at_once(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Node 1's share file was modified after the seller signed the manifest: node 1
    refuses the paid job on chain when its MPC process finds it, so the buyer has the
    payment back at once, not after the deadline; the other nodes' runs fail without
    it, and resuming the request says what happened instead of computing again."""
    import json

    from kraken_market.cli.analytics import app
    from kraken_market.settings import get_settings

    market, buyer = platform.market, platform.market.as_(BUYER)
    product = market.publish()
    market.grant(product)
    keys = [k.public_key for k in platform.keys]
    shared = share(
        platform.data, product, keys, platform.store, Ed25519PrivateKey.generate(), tmp_path
    )
    storage = LocalDirectory(platform.store)
    name = verify_manifest(storage.read(shared.manifest), shared.owner).file_for(1).name
    data = bytearray(storage.read(name))
    data[len(data) // 2] ^= 1
    (platform.store / name).write_bytes(bytes(data))
    buyer.drip(100 * PRICE)
    before = buyer.balance()
    key = NodeKeyPair.generate()
    rid = market.pay(SUM, [product], key.public_key)
    assert buyer.balance() == before - PRICE
    job = JobRequest(
        request_id=rid,
        computation=SUM,
        products=[shared],
        result_public_key=key.public_key.raw.hex(),
    )
    client = platform.client()
    client.submit(job)
    statuses = client.wait(rid, timeout=120)
    refusing = statuses[1]
    assert refusing["state"] == "failed" and refusing["error"]["code"] == "manifest_mismatch"
    assert refusing["refund"]["status"] == "refunded", refusing
    assert refusing["refund"]["node"] == dev_account(5).address
    assert "delivered" not in {s["state"] for s in statuses.values()}
    assert buyer.balance() == before  # restored at once
    record = buyer.computation(rid)
    assert record is not None and record.status == PaymentStatus.REFUNDED
    refusal = buyer.refusal(rid)
    assert refusal is not None and refusal.tx_hash == refusing["refund"]["transaction"]

    # the buyer's CLI, resuming the request: what happened and how the money came back
    jobs = tmp_path / "analytics"
    jobs.mkdir()
    (jobs / f"{rid}.json").write_text(
        json.dumps(
            {
                "request_id": rid,
                "computation": SUM.model_dump(mode="json", by_alias=True),
                "products": [shared.model_dump()],
                "nodes": platform.endpoints,
                "items": [product],
            }
        )
    )
    write_private(jobs / f"{rid}.key", key.private_bytes.hex())
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path))
    market.deployment.save(tmp_path / "deployment.json")
    monkeypatch.setenv("KRAKEN_CHAIN_URL", market.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    monkeypatch.delenv("KRAKEN_CONFIG", raising=False)
    get_settings.cache_clear()
    buyer_args = ["--dev-account", str(BUYER)]
    try:
        resumed = runner.invoke(app, ["result", rid, "--out", str(tmp_path / "x.csv"), *buyer_args])
        shown = runner.invoke(app, ["status", rid, *buyer_args])
    finally:
        get_settings.cache_clear()
    assert resumed.exit_code == 1, resumed.output
    assert "error [computation_refunded]" in resumed.output
    tx = str(refusal.tx_hash)
    assert "manifest_mismatch" in resumed.output and tx in resumed.output
    assert "came back to your account at once" in resumed.output.replace("\n", " ")
    assert shown.exit_code == 0, shown.output
    assert "refunded" in shown.output and tx in shown.output.replace("\n", "")
