"""End-to-end benchmark: a paid mean over 100k rows on the whole local platform.

Starts ``kraken-market up`` (chain, API, indexer, 3 compute nodes, Depute tool)
in a fresh directory and times it to ready. A seller shares a 100k-row table
and publishes it; a buyer holds a grant. Then, alternating, ``--rounds`` times:

- baseline (direct): the buyer pays and submits the job to the nodes itself
  (issue 5's path: no marketplace in between), waits, fetches, recombines;
- ours (marketplace): the buyer leaves the job with the API and pays; the
  indexer's payment notification makes the backend forward it to the nodes;
  the buyer waits, fetches, recombines.

For each, the time from the payment to the buyer's DataFrame and its parts:
chain confirmation (payment mined), node computation (each node's job from its
arrival to its delivery, the slowest node: process start, share fetch and
decrypt, MPC join and compute, attestation on chain; the MPC work alone is
shown too), result transfer (download, commitment check, decrypt,
recombine). Orchestration overhead is the rest, what the marketplace adds
between the parts: payment notification (indexer), forwarding, polling.
Target: overhead <= 20% of the total.

    .venv/bin/python -m bench.e2e [--rows 100000] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from rich.console import Console

from kraken_market.platform.report import PlatformInfo
from kraken_market.settings import Settings
from kraken_market.smpc.client import AnalyticsClient, request_computation
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.node.authorise import LedgerChain
from kraken_market.smpc.node.jobs import JobRequest
from kraken_market.smpc.node.worker import ProductInput
from kraken_market.story.actors import DATA, Actor
from kraken_market.story.context import Story
from kraken_market.trade.buy import computation_job, ensure_grant, pay_computation
from kraken_market.trade.publish import publish_on_chain

SPEC = ComputationSpec(function="mean@1", columns=["age", "heart_rate"])
SCHEMA = {
    "columns": [
        {"name": "age", "type": "numeric", "min": 0, "max": 120},
        {"name": "heart_rate", "type": "numeric", "min": 20, "max": 250},
    ]
}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_platform(data_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    env.update(
        KRAKEN_DATA_DIR=str(data_dir),
        KRAKEN_API_PORT=str(free_port()),
        KRAKEN_CHAIN_PORT=str(free_port()),
        KRAKEN_DEPUTE_PORT=str(free_port()),
        KRAKEN_NODE_BASE_PORT=str(free_port()),
        KRAKEN_NODE_MPC_BASE_PORT="24000",
    )
    log = (data_dir.parent / "up.log").open("wb")
    started = time.perf_counter()
    up = subprocess.Popen(
        [sys.executable, "-m", "kraken_market", "up"], env=env, stdout=log, stderr=log
    )
    while not (data_dir / "platform.json").is_file():
        if up.poll() is not None:
            raise SystemExit(f"up failed: see {data_dir.parent / 'up.log'}")
        time.sleep(0.05)
    return up, env, time.perf_counter() - started


def node_parts(statuses: dict[int, dict[str, Any]]) -> tuple[float, float]:
    """(slowest node's work: fetch+decrypt, join, compute; slowest node's whole job)."""
    work = [
        sum(float(s["timings"].get(k, 0.0)) for k in ("fetch_decrypt", "join", "compute"))
        for s in statuses.values()
    ]
    whole = [float(s["updated"]) - float(s["created"]) for s in statuses.values()]
    return max(work), max(whole)


def wait_done(nodes: AnalyticsClient, rid: str) -> dict[int, dict[str, Any]]:
    return nodes.wait(rid, timeout=600, poll=0.02)


def direct(
    story: Story, buyer: Actor, product: dict[str, Any], endpoints: list[str]
) -> dict[str, float]:
    key = NodeKeyPair.generate()
    owner = story.admin_api.chain_state(product["id"])["owner_did"]
    job = JobRequest(
        request_id=story.request_id(),
        computation=SPEC,
        products=[
            ProductInput(
                product_id=product["id"], manifest=product["storage_links"][0], owner=owner
            )
        ],
        result_public_key=key.public_key.raw.hex(),
    )
    with AnalyticsClient(endpoints, buyer=buyer.ledger.account) as nodes:
        t0 = time.perf_counter()
        request_computation(
            buyer.ledger, SPEC, [product["id"]], 0, key.public_key, request_id=job.request_id
        )
        confirmed = time.perf_counter()
        nodes.submit(job)
        statuses = wait_done(nodes, job.request_id)
        delivered = time.perf_counter()
        nodes.result(job.request_id, SPEC, key, t=1, chain=LedgerChain(buyer.ledger))
        done = time.perf_counter()
    work, whole = node_parts(statuses)
    return {"total": done - t0, "chain": confirmed - t0, "nodes": work, "node_job": whole,
            "transfer": done - delivered}  # fmt: skip


def marketplace(
    story: Story, buyer: Actor, product: dict[str, Any], endpoints: list[str]
) -> dict[str, float]:
    key = NodeKeyPair.generate()
    rid = story.request_id()
    body = SPEC.model_dump(mode="json", by_alias=True)
    buyer.api.submit_computation(computation_job(rid, body, [product["id"]], key.public_key))
    with AnalyticsClient(endpoints, buyer=buyer.ledger.account) as nodes:
        t0 = time.perf_counter()
        pay_computation(
            buyer.api, buyer.ledger, rid, SPEC.digest(), [product["id"]], "research", key.public_key
        )
        confirmed = time.perf_counter()
        while buyer.api.computation(rid)["state"] != "forwarded":
            time.sleep(0.01)
        forwarded = time.perf_counter()
        statuses = wait_done(nodes, rid)
        delivered = time.perf_counter()
        nodes.result(rid, SPEC, key, t=1, chain=LedgerChain(buyer.ledger))
        done = time.perf_counter()
    work, whole = node_parts(statuses)
    return {"total": done - t0, "chain": confirmed - t0, "notify": forwarded - confirmed,
            "nodes": work, "node_job": whole, "transfer": done - delivered}  # fmt: skip


def analytics_product(story: Story, rows: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """A seller's published analytics product over ``rows`` random rows, and the table."""
    seller = story.cast.actor("seller")
    rng = np.random.default_rng(7)
    table = pd.DataFrame(
        {"age": rng.integers(18, 90, rows), "heart_rate": np.round(rng.normal(70, 8, rows), 1)}
    )
    data = story.work_dir / "rows.csv"
    table.to_csv(data, index=False)
    product = seller.api.create_product(
        {
            "title": "bench",
            "description": "bench",
            "access_mode": "analytics",
            "schema": SCHEMA,
            "prices": {"computation": str(DATA)},
            "policy": {"purposes": ["research"]},
            "stake": "0",
        }
    )
    manifest = story.share(seller.api, data, product["id"], SCHEMA, seller.key)
    product = seller.api.update_product(product["id"], {"storage_links": [manifest]})
    publish_on_chain(seller.api, seller.ledger, product["id"], wait=30)
    return product, table


def overhead(run: dict[str, float]) -> float:
    return run["total"] - run["chain"] - run["node_job"] - run["transfer"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=args.json)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        up, env, ready = start_platform(data_dir)
        try:
            platform = PlatformInfo.model_validate_json((data_dir / "platform.json").read_text())
            settings = Settings(
                data_dir=data_dir,
                api_port=int(env["KRAKEN_API_PORT"]),
                chain_port=int(env["KRAKEN_CHAIN_PORT"]),
            )
            story = Story(settings, platform, Path(tmp) / "out", console)
            product, _table = analytics_product(story, args.rows)
            buyer = story.cast.actor("buyer", category="research-institution")
            ensure_grant(buyer.api, buyer.ledger, product["id"], "research")
            endpoints = [n.url for n in sorted(platform.nodes, key=lambda n: n.index)]
            runs: dict[str, list[dict[str, float]]] = {"direct": [], "marketplace": []}
            marketplace(story, buyer, product, endpoints)  # warm up both paths once
            direct(story, buyer, product, endpoints)
            for _ in range(args.rounds):
                runs["direct"].append(direct(story, buyer, product, endpoints))
                runs["marketplace"].append(marketplace(story, buyer, product, endpoints))
        finally:
            up.send_signal(signal.SIGINT)
            up.wait(timeout=60)
    report(console, args, ready, platform.ready_in_seconds, runs)


def report(
    console: Console,
    args: argparse.Namespace,
    ready: float,
    reported: float,
    runs: dict[str, list[dict[str, float]]],
) -> None:
    median = {
        path: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for path, rs in runs.items()
    }
    for path, parts in median.items():
        parts["overhead"] = statistics.median(overhead(r) for r in runs[path])
        parts["overhead_share"] = statistics.median(overhead(r) / r["total"] for r in runs[path])
    ratio = median["marketplace"]["total"] / median["direct"]["total"]
    result = {"rows": args.rows, "up_ready_seconds": ready, "up_reported_seconds": reported,
              "median": median, "marketplace_over_direct": ratio}  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return
    console.print(f"kraken-market up ready in {ready:.1f} s (it reports {reported:.1f} s)")
    for path, parts in median.items():
        shown = ", ".join(f"{k} {v:.3f}" for k, v in parts.items() if k != "overhead_share")
        console.print(f"{path:>11}: {shown} s; overhead {parts['overhead_share']:.0%} of total")
    share = median["marketplace"]["overhead_share"]
    console.print(
        f"paid mean over {args.rows:,} rows, payment to DataFrame: marketplace / direct = "
        f"{ratio:.2f}x; orchestration overhead {share:.0%} (target <= 20%)"
    )


if __name__ == "__main__":
    main()
