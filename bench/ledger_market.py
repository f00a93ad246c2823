"""Ledger benchmark, marketplace operations: publish, purchase and approve.

The same workload runs, in alternating order, on two chains in their own
processes behind the JSON-RPC server of ``chain serve``: eth-tester's
in-memory chain mining one block per transaction (the baseline) and the
durable embedded chain with group commit (``kraken-market chain serve``).
``--clients`` threads, each a fresh account with its own
:class:`~kraken_market.ledger.client.Ledger` (local signing, gas estimation,
receipts), publish products with a stake, buy each other's products (the
verifier grants first, not timed) and approve them. Printed per operation and
chain: transactions per second (all clients, wall clock), p50/p95 latency of
one call as the client sees it (estimate, send, receipt), the JSON-RPC requests
the clients sent per confirmed transaction (counted at their HTTP provider),
and the ratio to the baseline (issue 3 target for group commit: >= 1.0x).

Side by side, the same calls on Foundry's anvil (``tools/chain``, installed by
``make test``; skipped with a note when missing), automining, and with
``--slow-blocks`` also with 2-second blocks, as a public chain paces them (slow:
about two minutes).

    .venv/bin/python -m bench.ledger_market [--clients 4] [--per-client 8] [--slow-blocks] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from bench.ledger import BASELINE, GROUP_COMMIT, chain_process, free_port, wait_until_up
from kraken_market.catalog.ids import new_product_id
from kraken_market.ledger.client import CACHED_REQUESTS, Ledger, dev_account
from kraken_market.ledger.deploy import Roles, deploy
from kraken_market.ledger.model import ModeCode, Parameters, Prices

DATA = 10**18
OPERATIONS = ("publish", "purchase", "approve")
ANVIL = "anvil 1.7.1, automine"
ANVIL_SLOW = "anvil 1.7.1, 2 s blocks"
ANVIL_BIN = Path(__file__).resolve().parents[1] / "tools/chain/node_modules/.bin/anvil"


class CountingProvider(HTTPProvider):
    """web3's HTTP provider as ``ledger.client.connect`` makes it, counting the
    requests that go over HTTP."""

    def __init__(self, url: str) -> None:
        super().__init__(
            url,
            request_kwargs={"timeout": 60},
            cache_allowed_requests=True,
            cacheable_requests=CACHED_REQUESTS,
        )
        self.counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        with self._count_lock:
            self.counts[str(method)] += 1
        answer: bytes = super()._make_request(method, request_data)
        return answer

    def take(self) -> int:
        """Requests since the last call."""
        with self._count_lock:
            total = sum(self.counts.values())
            self.counts.clear()
        return total


@contextmanager
def anvil_process(*arguments: str) -> Iterator[str]:
    """anvil on a free loopback port, dev accounts 0-3 funded with ether; its URL."""
    port = free_port()
    command = [str(ANVIL_BIN), "--host", "127.0.0.1", "--port", str(port), "--silent"]
    process = subprocess.Popen([*command, *arguments], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        w3 = Web3(HTTPProvider(url))
        for index in range(4):
            w3.provider.make_request(
                RPCEndpoint("anvil_setBalance"), [dev_account(index).address, hex(10**22)]
            )
        if arguments:  # a past at that pace, as a real chain has (3 blocks, 2 s apart)
            w3.provider.make_request(RPCEndpoint("anvil_mine"), [hex(3), hex(2)])
        yield url
    finally:
        process.terminate()
        process.wait(30)


def prepare(url: str, clients: int) -> tuple[list[Ledger], Ledger]:
    """Deploy, then fund ``clients`` fresh accounts with ether and DATA (not timed)."""
    w3 = Web3(CountingProvider(url))
    deployment = deploy(
        w3,
        dev_account(0),
        Parameters(treasury=dev_account(3).address, min_stake=DATA),
        Roles(verifiers=(dev_account(2).address,), faucet=True),
    )
    admin = Ledger(w3, deployment, dev_account(0), poll_latency=0.002)
    accounts: list[LocalAccount] = [Account.create() for _ in range(clients)]
    funder = dev_account(1)
    nonce = w3.eth.get_transaction_count(funder.address)
    for i, account in enumerate(accounts):
        signed = funder.sign_transaction(
            {
                "to": account.address,
                "value": 10**20,
                "gas": 21000,
                "nonce": nonce + i,
                "chainId": deployment.chain_id,
                "maxFeePerGas": 10**10,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(signed.raw_transaction), poll_latency=0.01
        )
    ledgers = [admin.acting_as(account) for account in accounts]
    for ledger in ledgers:
        ledger.drip(10_000 * DATA)
        ledger.ensure_allowance(1)
    return ledgers, admin.acting_as(dev_account(2))


def timed_in_parallel(
    ledgers: list[Ledger], work: Callable[[int, Ledger, int], None], per_client: int
) -> tuple[float, list[float]]:
    """Run ``work(client, ledger, k)`` for k < per_client on every client at once."""
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(len(ledgers) + 1)

    def client(index: int, ledger: Ledger) -> None:
        start.wait()
        for k in range(per_client):
            began = time.perf_counter()
            work(index, ledger, k)
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=client, args=(i, led)) for i, led in enumerate(ledgers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies


def run_chain(url: str, clients: int, per_client: int) -> dict[str, dict[str, float]]:
    ledgers, verifier = prepare(url, clients)
    counter = ledgers[0].w3.provider
    assert isinstance(counter, CountingProvider)
    confirmed = clients * per_client

    def timed(work: Callable[[int, Ledger, int], None]) -> dict[str, float]:
        counter.take()
        result = summary(*timed_in_parallel(ledgers, work, per_client))
        result["requests_per_tx"] = counter.take() / confirmed
        return result

    products: dict[tuple[int, int], str] = {}
    purchases: dict[tuple[int, int], tuple[int, str]] = {}

    def publish(index: int, ledger: Ledger, k: int) -> None:
        product = new_product_id()
        ledger.publish(product, mode=ModeCode.BATCH, prices=Prices(access=DATA), stake=2 * DATA)
        products[index, k] = product

    results: dict[str, dict[str, float]] = {}
    results["publish"] = timed(publish)
    expiry = int(time.time()) + 86400 * 365
    pending = [
        verifier.sender.send(
            verifier._fn("Market", "grant", buyer.address, bytes.fromhex(product[2:]), 0, expiry),
            "grant",
        )
        for (seller, _), product in products.items()
        for buyer in [ledgers[(seller + 1) % clients]]
    ]
    for tx_hash in pending:
        verifier.sender.wait(tx_hash, None, "grant")

    def purchase(index: int, ledger: Ledger, k: int) -> None:
        product = products[(index - 1) % clients, k]
        purchase_id, _ = ledger.buy_access(product, 0)
        purchases[index, k] = (purchase_id, product)

    def approve(index: int, ledger: Ledger, k: int) -> None:
        purchase_id, product = purchases[index, k]
        ledger.approve_product(purchase_id, product)

    results["purchase"] = timed(purchase)
    results["approve"] = timed(approve)
    return results


def summary(wall: float, latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "tx_per_s": len(ordered) / wall,
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=8)
    parser.add_argument("--slow-blocks", action="store_true", help="also anvil, 2 s blocks")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=args.json)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in (BASELINE, GROUP_COMMIT):
            with chain_process(name, Path(tmp)) as url:
                results[name] = run_chain(url, args.clients, args.per_client)
    anvils = {ANVIL: ()} | ({ANVIL_SLOW: ("--block-time", "2")} if args.slow_blocks else {})
    if not ANVIL_BIN.exists():
        console.print(f"anvil not installed ({ANVIL_BIN}): 'npm ci' in tools/chain; skipped")
        anvils = {}
    for name, arguments in anvils.items():
        with anvil_process(*arguments) as url:
            results[name] = run_chain(url, args.clients, args.per_client)
    chains = [name for name in results if name != BASELINE]
    results["ratios"] = {
        name: {
            op: results[name][op]["tx_per_s"] / results[BASELINE][op]["tx_per_s"]
            for op in OPERATIONS
        }
        for name in chains
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    title = f"publish / purchase / approve, {args.clients} clients x {args.per_client} each"
    table = Table(title=title)
    for column in ("operation", "chain", "tx/s", "p50 ms", "p95 ms", "requests/tx", "ratio"):
        table.add_column(column, justify="left" if column in {"operation", "chain"} else "right")
    for op in OPERATIONS:
        for name in (BASELINE, *chains):
            r = results[name][op]
            ratio = f"{results['ratios'][name][op]:.2f}x" if name != BASELINE else ""
            table.add_row(
                op,
                name,
                f"{r['tx_per_s']:.1f}",
                f"{r['p50_ms']:.0f}",
                f"{r['p95_ms']:.0f}",
                f"{r['requests_per_tx']:.1f}",
                ratio,
            )
    console.print(table)
    worst = min(results["ratios"][GROUP_COMMIT].values())
    verdict = "PASS" if worst >= 1.0 else "MISS"
    console.print(
        f"group commit / baseline, worst operation: {worst:.2f}x (target >= 1.0x: {verdict})"
    )


if __name__ == "__main__":
    main()
