"""Foundry's anvil, a real EVM node, for the ledger client's integration tests.

anvil comes pinned from the test tools' own npm package (``tools/chain``,
``npm ci`` in the Makefile's test target). Without it the tests skip, except
under ``CI=true``, where they fail: CI must run them.

:class:`CountingProvider` is web3's own HTTP provider that counts the JSON-RPC
requests it sends, by method, and can play a hosted provider's cap on
``eth_getLogs`` ranges (answering larger ranges with the error such providers
send), so the client's paging is seen against the real node behind it.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from kraken_market.ledger.client import CACHED_REQUESTS, dev_account
from tests import served
from tests.cli.test_cli import free_port
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "tools" / "chain" / "node_modules" / ".bin" / "anvil"
GAS_MONEY = 10_000 * 10**18


class CountingProvider(HTTPProvider):
    def __init__(self, url: str, *, log_range_cap: int | None = None) -> None:
        super().__init__(
            url,
            request_kwargs={"timeout": 30},
            cache_allowed_requests=True,  # as ledger.client.connect makes it
            cacheable_requests=CACHED_REQUESTS,
        )
        self.counts: Counter[str] = Counter()
        self.log_range_cap = log_range_cap
        self.log_ranges: list[tuple[int, int]] = []

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        """Every request that goes over HTTP (after web3's cache), counted."""
        self.counts[str(method)] += 1
        query = json.loads(request_data)["params"][0] if method == "eth_getLogs" else {}
        if str(query.get("fromBlock")).startswith("0x") and str(query.get("toBlock")).startswith(
            "0x"
        ):
            first, last = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            self.log_ranges.append((first, last))
            if self.log_range_cap is not None and last - first + 1 > self.log_range_cap:
                # as hosted providers answer a range above their cap
                refusal = {
                    "jsonrpc": "2.0",
                    "id": json.loads(request_data)["id"],
                    "error": {
                        "code": -32602,
                        "message": f"eth_getLogs is limited to a {self.log_range_cap} block range",
                    },
                }
                return json.dumps(refusal).encode()
        answer: bytes = super()._make_request(method, request_data)
        return answer

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def rpc(url: str, method: str, *params: Any) -> Any:
    """One JSON-RPC call to anvil's own methods (anvil_*, evm_*)."""
    answer = served.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    ).json()
    assert "error" not in answer, answer
    return answer["result"]


@contextmanager
def running_anvil(*arguments: str) -> Iterator[str]:
    """anvil on a free loopback port, its URL; dev accounts 0-9 funded with gas money."""
    if not ANVIL.exists():
        reason = f"anvil is not installed at {ANVIL}: run 'npm ci' in tools/chain"
        if IN_CI:
            pytest.fail(f"CI=true requires anvil: {reason}")
        pytest.skip(reason)
    port = free_port()
    process = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent", *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:  # until it answers JSON-RPC
            try:
                rpc(url, "eth_chainId")
                break
            except httpx2.HTTPError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "anvil did not start in 30 s"
                time.sleep(0.05)
        for index in range(10):
            rpc(url, "anvil_setBalance", dev_account(index).address, hex(GAS_MONEY))
        yield url
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def counting(url: str, *, log_range_cap: int | None = None) -> tuple[Web3, CountingProvider]:
    provider = CountingProvider(url, log_range_cap=log_range_cap)
    return Web3(provider), provider
