"""A node that dies mid-computation fails the job at the other nodes, at once and clearly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.local import free_ports
from kraken_market.smpc.node import runner
from kraken_market.smpc.node.identity import write_private
from kraken_market.smpc.node.worker import WorkerJob
from tests.smpc.market_setup import share, table

PRODUCT = "0x" + "d1" * 32
HEAVY = ComputationSpec(function="median@1", columns=["income"])  # thousands of comparisons


@pytest.mark.parametrize("killed", [[2], [1, 2]], ids=["one peer", "both peers"])
def test_a_peer_that_dies_fails_the_job_with_peer_lost(tmp_path: Path, killed: list[int]) -> None:
    """Both peers at once: MPyC stops the survivor's loop before its watchdog looks
    again; that too is ``peer_lost``, not a ``computation_failed``."""
    keys = [NodeKeyPair.generate() for _ in range(3)]
    product = share(
        table(300),
        PRODUCT,
        [k.public_key for k in keys],
        tmp_path / "store",
        Ed25519PrivateKey.generate(),
        tmp_path,
    )
    parties = [f"127.0.0.1:{port}" for port in free_ports(3)]
    running = []
    for i, key in enumerate(keys):
        write_private(tmp_path / f"key-{i}", key.private_bytes.hex())
        job = WorkerJob(
            request_id="0x" + "ee" * 32,
            node_index=i,
            m=3,
            t=1,
            storage=str(tmp_path / "store"),
            key_file=str(tmp_path / f"key-{i}"),
            products=[product],
            computations=[HEAVY],
            result_key=NodeKeyPair.generate().public_key.raw.hex(),
            out_dir=str(tmp_path / f"job-{i}"),
        )
        running.append(runner.launch(job, parties, cwd=tmp_path, ssl=False, timeout=120))
    try:
        deadline = time.monotonic() + 60
        while not all((r.out_dir / "joined").exists() for r in running):
            assert time.monotonic() < deadline, "the workers did not connect"
            assert all(r.process.poll() is None for r in running)
            time.sleep(0.05)
        for i in killed:
            running[i].process.kill()
        since = time.monotonic()
        outcomes = [runner.wait(r) for i, r in enumerate(running) if i not in killed]
        assert time.monotonic() - since < 10
    finally:
        for r in running:
            runner.stop(r)
    assert [o["error"]["code"] for o in outcomes] == ["peer_lost"] * (3 - len(killed)), outcomes
    # the first to notice names a killed node; another may see a survivor leave first
    assert any(
        f"node {i} dropped out" in o["error"]["message"] for o in outcomes for i in killed
    ), outcomes
