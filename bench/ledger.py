"""Ledger benchmark: the durable embedded chain against eth-tester's in-memory one.

In process: both chains run in this process through web3's
``EthereumTesterProvider`` and receive the same signed-by-node value transfers
(gas set explicitly, so no estimate call), one block per transaction as
eth-tester auto-mines. Rounds alternate between the two chains so machine
noise hits both alike.

Over HTTP, group commit (issue 3): each chain runs as its own process behind
the JSON-RPC server of ``chain serve``; ``--senders`` threads each send
pre-signed EIP-1559 value transfers (explicit gas, locally counted nonces)
with ``eth_sendRawTransaction``, one at a time, each waiting for its answer.
The chains: eth-tester in memory mining one block per transaction (the
baseline), the durable chain doing the same, and ``kraken-market chain serve``
itself (durable, group commit). Rounds alternate between them. Printed:
sustained transactions per second (all senders, wall clock), p50/p95 latency
of one send, transactions per block, and the ratios to the baseline
(targets: group commit >= 1.0x the baseline and >= 100 tx/s).

    .venv/bin/python bench/ledger.py [--transactions 400] [--rounds 4]
        [--senders 8] [--per-sender 30] [--http-rounds 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from eth_account import Account
from eth_tester import EthereumTester, PyEVMBackend
from rich.console import Console
from rich.table import Table
from web3 import EthereumTesterProvider, Web3
from web3.types import Wei

from kraken_market.ledger.chain.embedded import DurableBackend
from kraken_market.ledger.chain.rpc_server import ChainNode, create_rpc_app

BASELINE = "in-memory, block per tx (baseline)"
DURABLE_AUTOMINE = "durable, block per tx"
GROUP_COMMIT = "durable, group commit (chain serve)"
RECEIVER = "0x" + "22" * 20
WARMUP = 2  # sends per sender before the clock starts (connections, first blocks)


# --- in process -------------------------------------------------------------------


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


def in_process(transactions: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        durable = DurableBackend(Path(tmp) / "chain.db")
        chains = {
            BASELINE: Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))),
            DURABLE_AUTOMINE: Web3(EthereumTesterProvider(EthereumTester(durable))),
        }
        samples: dict[str, list[float]] = {name: [] for name in chains}
        per_round = max(1, transactions // rounds)
        for w3 in chains.values():
            transfers(w3, 5)  # warm up
        for _ in range(rounds):
            for name, w3 in chains.items():
                samples[name] += transfers(w3, per_round)
        durable.close()
    results: dict[str, Any] = {name: summary(values) for name, values in samples.items()}
    results["transactions"] = per_round * rounds
    results["ratio"] = results[DURABLE_AUTOMINE]["tx_per_s"] / results[BASELINE]["tx_per_s"]
    return results


# --- over HTTP --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_one_block_per_transaction(kind: str, port: int, data_dir: Path) -> None:
    """The ``--serve`` mode: chain serve's JSON-RPC server over an auto-mining chain."""
    backend = PyEVMBackend() if kind == "memory" else DurableBackend(data_dir / "chain.db")
    node = ChainNode(backend, group_commit=False)
    uvicorn.run(create_rpc_app(node), host="127.0.0.1", port=port, log_level="warning")


def rpc(client: httpx2.Client, url: str, method: str, *params: Any) -> Any:
    answer = client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    body = answer.json()
    if "error" in body:
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


@contextmanager
def chain_process(name: str, tmp: Path) -> Iterator[str]:
    """Start the chain ``name`` in its own process; yield its URL."""
    port = free_port()
    data_dir = tmp / str(port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    env.update(KRAKEN_DATA_DIR=str(data_dir), KRAKEN_LOG_LEVEL="WARNING")
    if name == GROUP_COMMIT:
        command = [sys.executable, "-m", "kraken_market", "chain", "serve", "--port", str(port)]
    else:
        kind = "memory" if name == BASELINE else "durable"
        command = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
        command += ["--data-dir", str(data_dir)]
    log = (tmp / f"{port}.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    with httpx2.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"chain at {url} exited with {process.returncode}")
            try:
                rpc(client, url, "eth_chainId")
                return
            except httpx2.TransportError:
                time.sleep(0.1)
    raise RuntimeError(f"chain at {url} did not start")


def dev_account(index: int) -> Any:
    """eth-tester's dev accounts: private keys 1, 2, 3... (funded at genesis)."""
    return Account.from_key(f"0x{index + 1:064x}")


def signed_transfers(chain_id: int, senders: int, count: int) -> list[list[str]]:
    """``count`` raw transfers for each of the first ``senders`` dev accounts, nonces 0.."""
    signed = []
    for index in range(senders):
        account = dev_account(index)
        raws = []
        for nonce in range(count):
            transaction = {
                "to": RECEIVER,
                "value": 1,
                "gas": 21000,
                "nonce": nonce,
                "chainId": chain_id,
                "maxFeePerGas": 10**10,
                "maxPriorityFeePerGas": 10**9,
            }
            raws.append("0x" + account.sign_transaction(transaction).raw_transaction.hex())
        signed.append(raws)
    return signed


@dataclass
class HttpRun:
    """What one chain did over HTTP, summed over rounds."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    blocks: int = 0

    def result(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        count = len(ordered)
        return {
            "tx_per_s": count / self.seconds,
            "p50_ms": statistics.median(ordered),
            "p95_ms": ordered[int(0.95 * (count - 1))],
            "tx_per_block": count / max(1, self.blocks),
            "transactions": count,
        }


def send_all(url: str, raws: list[str], start: threading.Barrier, out: list[float]) -> None:
    """One sender: its transfers one after the other, each latency into ``out``."""
    with httpx2.Client(timeout=120) as client:
        start.wait()
        for raw in raws:
            started = time.perf_counter()
            rpc(client, url, "eth_sendRawTransaction", raw)
            out.append((time.perf_counter() - started) * 1000)


def http_round(url: str, slices: list[list[str]], run: HttpRun) -> None:
    """All senders at once, each with its slice; adds wall time, latencies, blocks to ``run``."""
    start = threading.Barrier(len(slices) + 1)
    outs: list[list[float]] = [[] for _ in slices]
    threads = [
        threading.Thread(target=send_all, args=(url, raws, start, out))
        for raws, out in zip(slices, outs, strict=True)
    ]
    with httpx2.Client(timeout=30) as client:
        first_block = int(rpc(client, url, "eth_blockNumber"), 16)
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        run.seconds += time.perf_counter() - began
        run.blocks += int(rpc(client, url, "eth_blockNumber"), 16) - first_block
    for out, raws in zip(outs, slices, strict=True):
        if len(out) != len(raws):
            raise RuntimeError(f"a sender stopped after {len(out)} of {len(raws)} transfers")
        run.latencies += out


def over_http(senders: int, per_sender: int, rounds: int) -> dict[str, Any]:
    names = [BASELINE, DURABLE_AUTOMINE, GROUP_COMMIT]
    runs = {name: HttpRun() for name in names}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        urls = {name: stack.enter_context(chain_process(name, Path(tmp))) for name in names}
        with httpx2.Client() as client:
            chain_id = int(rpc(client, urls[BASELINE], "eth_chainId"), 16)
        signed = signed_transfers(chain_id, senders, WARMUP + per_sender * rounds)
        for name in names:
            http_round(urls[name], [raws[:WARMUP] for raws in signed], HttpRun())
        for number in range(rounds):
            begin = WARMUP + number * per_sender
            for name in names:
                http_round(
                    urls[name], [raws[begin : begin + per_sender] for raws in signed], runs[name]
                )
        verify_nonces(urls, senders, WARMUP + per_sender * rounds)
    results: dict[str, Any] = {name: run.result() for name, run in runs.items()}
    base = results[BASELINE]["tx_per_s"]
    results["ratio_group_commit"] = results[GROUP_COMMIT]["tx_per_s"] / base
    results["ratio_durable_block_per_tx"] = results[DURABLE_AUTOMINE]["tx_per_s"] / base
    results["senders"] = senders
    return results


def verify_nonces(urls: dict[str, str], senders: int, expected: int) -> None:
    """Every chain holds every transfer: each sender's nonce is where it should be."""
    with httpx2.Client() as client:
        for name, url in urls.items():
            for index in range(senders):
                address = dev_account(index).address
                count = int(rpc(client, url, "eth_getTransactionCount", address, "latest"), 16)
                if count != expected:
                    raise RuntimeError(f"{name}: sender {index} at nonce {count}, not {expected}")


# --- report -----------------------------------------------------------------------


def report(local: dict[str, Any], http: dict[str, Any]) -> None:
    console = Console()
    table = Table(
        title=f"in process: value transfers, one block each ({local['transactions']} per chain)"
    )
    for column in ("chain", "tx/s", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "chain" else "right")
    for name in (BASELINE, DURABLE_AUTOMINE):
        r = local[name]
        table.add_row(name, f"{r['tx_per_s']:.1f}", f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}")
    console.print(table)
    console.print(f"durable / in-memory, in process: {local['ratio']:.2f}x")
    table = Table(title=f"over HTTP: {http['senders']} concurrent senders, raw signed transfers")
    for column in ("chain", "tx/s", "p50 ms", "p95 ms", "tx/block"):
        table.add_column(column, justify="left" if column == "chain" else "right")
    for name in (BASELINE, DURABLE_AUTOMINE, GROUP_COMMIT):
        r = http[name]
        cells = (r["tx_per_s"], r["p50_ms"], r["p95_ms"], r["tx_per_block"])
        table.add_row(name, *(f"{cell:.1f}" for cell in cells))
    console.print(table)
    ratio, rate = http["ratio_group_commit"], http[GROUP_COMMIT]["tx_per_s"]
    console.print(
        f"group commit / baseline: {ratio:.2f}x (target >= 1.0x: {verdict(ratio >= 1.0)}); "
        f"{rate:.0f} tx/s sustained (target >= 100: {verdict(rate >= 100)}); "
        f"durable block per tx / baseline: {http['ratio_durable_block_per_tx']:.2f}x"
    )


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=400, help="in process, per chain")
    parser.add_argument("--rounds", type=int, default=4, help="in process")
    parser.add_argument("--senders", type=int, default=8, help="over HTTP, at most 10")
    parser.add_argument("--per-sender", type=int, default=30, help="over HTTP, per round")
    parser.add_argument("--http-rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", choices=["memory", "durable"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_one_block_per_transaction(args.serve, args.port, args.data_dir)
        return
    local = in_process(args.transactions, args.rounds)
    http = over_http(min(args.senders, 10), args.per_sender, args.http_rounds)
    if args.json:
        print(json.dumps({"in_process": local, "http": http}, indent=2))
        return
    report(local, http)


if __name__ == "__main__":
    main()
