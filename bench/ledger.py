"""Ledger benchmark (first part): the durable embedded chain against eth-tester's in-memory one.

Both chains run in this process through web3's ``EthereumTesterProvider`` and
receive the same signed-by-node value transfers (gas set explicitly, so no
estimate call), one block per transaction as eth-tester auto-mines. Rounds
alternate between the two chains so machine noise hits both alike. Printed:
transactions per second, p50/p95 latency per transaction, and the ratio
durable / in-memory (issue 3 target: >= 1.0x). Group commit and the contract
calls (publish, purchase, approve) join this benchmark with ``chain serve``.

    .venv/bin/python bench/ledger.py [--transactions 400] [--rounds 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_tester import EthereumTester, PyEVMBackend
from rich.console import Console
from rich.table import Table
from web3 import EthereumTesterProvider, Web3
from web3.types import Wei

from kraken_market.ledger.chain.embedded import DurableBackend


def transfers(w3: Web3, count: int) -> list[float]:
    """Send ``count`` transfers; the latency of each, in milliseconds."""
    sender, receiver = list(w3.eth.accounts)[:2]
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        w3.eth.send_transaction({"from": sender, "to": receiver, "value": Wei(1), "gas": 21000})
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "tx_per_s": len(ordered) / (sum(ordered) / 1000),
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=400, help="per chain, in all")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        durable = DurableBackend(Path(tmp) / "chain.db")
        chains = {
            "in-memory (baseline)": Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))),
            "durable (SQLite)": Web3(EthereumTesterProvider(EthereumTester(durable))),
        }
        samples: dict[str, list[float]] = {name: [] for name in chains}
        per_round = max(1, args.transactions // args.rounds)
        for w3 in chains.values():
            transfers(w3, 5)  # warm up
        for _ in range(args.rounds):
            for name, w3 in chains.items():
                samples[name] += transfers(w3, per_round)
        durable.close()
    results: dict[str, Any] = {name: summary(values) for name, values in samples.items()}
    base, ours = results["in-memory (baseline)"], results["durable (SQLite)"]
    results["ratio_durable_over_memory"] = ours["tx_per_s"] / base["tx_per_s"]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    table = Table(title=f"value transfers, one block each ({per_round * args.rounds} per chain)")
    for column in ("chain", "tx/s", "p50 ms", "p95 ms"):
        table.add_column(column, justify="right" if column != "chain" else "left")
    for name in chains:
        r = results[name]
        table.add_row(name, f"{r['tx_per_s']:.1f}", f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}")
    console = Console()
    console.print(table)
    ratio = results["ratio_durable_over_memory"]
    verdict = "PASS" if ratio >= 1.0 else "MISS"
    console.print(f"durable / in-memory throughput: {ratio:.2f}x (target >= 1.0x: {verdict})")


if __name__ == "__main__":
    main()
