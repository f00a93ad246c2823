"""A deployed marketplace for the ledger tests, on both backends.

``market`` is parametrised: ``in-process`` runs the contracts on eth-tester
inside the test process; ``chain-serve`` deploys them on a real
``kraken-market chain serve`` subprocess (durable, over HTTP), so the same
client tests cover both. Each backend is deployed once per test module; tests
isolate themselves with fresh random product ids, not with snapshots.

Accounts: 0 admin, 1 arbiter, 2 verifier, 3 treasury, 4-6 compute nodes,
7 seller, 8 buyer, 9 another user.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx2
import pytest
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3

from kraken_market.catalog.ids import new_product_id
from kraken_market.ledger.chain.estimator import optimistic_gas_search
from kraken_market.ledger.client import Ledger, connect, dev_account
from kraken_market.ledger.deploy import Roles, deploy
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import Reverted
from kraken_market.ledger.model import ModeCode, Parameters, Prices
from tests import served
from tests.cli.test_cli import free_port

DATA = 10**18
PARAMETERS = dict(
    fee_bps=250,
    min_stake=10 * DATA,
    claim_window=7 * 86400,
    claim_bond=5 * DATA,
    computation_deadline=3600,
    attestations_required=2,
)


@dataclass
class Market:
    """One deployment and a ledger client per role."""

    backend: str
    w3: Web3
    deployment: Deployment
    ledgers: dict[int, Ledger] = field(default_factory=dict, repr=False)

    def as_(self, index: int) -> Ledger:
        """Dev account ``index``'s client, made once per deployment (one nonce counter)."""
        if index not in self.ledgers:
            self.ledgers[index] = Ledger(
                self.w3, self.deployment, dev_account(index), poll_latency=0.002
            )
        return self.ledgers[index]

    def estimate_in_two_runs(self) -> None:
        """In process only: the embedded chain's two-run gas estimator instead of
        py-evm's thirteen-run binary search, which dominates a transaction's cost.
        The same refusals, a limit at which the transaction succeeded; opt-in."""
        tester = self.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        tester.backend.chain.gas_estimator = optimistic_gas_search

    def now(self) -> int:
        """The latest block's timestamp: the chain's clock, not the wall clock."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    @staticmethod
    @contextmanager
    def refused(kind: type[Reverted], reason: str) -> Iterator[None]:
        """Expect the block to be refused as ``kind`` with the contract's ``reason``."""
        with pytest.raises(kind) as caught:
            yield
        assert caught.value.reason == reason

    def assert_escrow_balanced(self) -> None:
        """The Market holds exactly what it owes: stakes + bonds + held payments."""
        totals = self.admin.escrow_totals()
        assert totals["staked"] + totals["bonds"] + totals["held"] == totals["balance"], totals

    @property
    def admin(self) -> Ledger:
        return self.as_(0)

    @property
    def arbiter(self) -> Ledger:
        return self.as_(1)

    @property
    def verifier(self) -> Ledger:
        return self.as_(2)

    @property
    def treasury(self) -> LocalAccount:
        return dev_account(3)

    @property
    def seller(self) -> Ledger:
        return self.as_(7)

    @property
    def buyer(self) -> Ledger:
        return self.as_(8)

    @property
    def other(self) -> Ledger:
        return self.as_(9)

    def funded(self, ledger: Ledger, amount: int = 1000 * DATA) -> Ledger:
        ledger.drip(amount)
        return ledger

    def publish(
        self,
        seller: Ledger | None = None,
        *,
        mode: ModeCode = ModeCode.BATCH,
        prices: Prices | None = None,
        stake: int = 20 * DATA,
        parents: tuple[str, ...] = (),
    ) -> str:
        """A fresh product published by ``seller`` (default: the seller account)."""
        seller = seller or self.seller
        if prices is None:
            prices = {
                ModeCode.BATCH: Prices(access=4 * DATA),
                ModeCode.STREAM: Prices(
                    subscription_per_second=10**15, subscription_min_seconds=60
                ),
                ModeCode.ANALYTICS: Prices(computation=3 * DATA),
            }[mode]
        if seller.balance() < stake:
            self.funded(seller)
        product_id = new_product_id()
        seller.publish(product_id, mode=mode, prices=prices, stake=stake, parents=parents)
        return product_id

    def grant(
        self, buyer: Ledger, item: bytes | str, purpose: int = 0, seconds: int = 86400
    ) -> None:
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        self.verifier.grant(buyer.address, item, purpose, now + seconds)


def _deploy(backend: str, w3: Web3) -> Market:
    deployment = deploy(
        w3,
        dev_account(0),
        Parameters(treasury=dev_account(3).address, **PARAMETERS),
        Roles(
            arbiters=(dev_account(1).address,),
            verifiers=(dev_account(2).address,),
            faucet=True,
        ),
    )
    market = Market(backend, w3, deployment)
    for index in (4, 5, 6):
        market.admin.register_node(
            dev_account(index).address, bytes([index]) * 32, f"https://node{index}.test"
        )
    return market


@pytest.fixture(scope="module")
def chain_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``kraken-market chain serve`` subprocess on a fresh data directory."""
    data_dir = tmp_path_factory.mktemp("chain")
    port = free_port()
    env = {**os.environ, "KRAKEN_DATA_DIR": str(data_dir), "KRAKEN_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "kraken_market", "chain", "serve", "--port", str(port)]
    log_path = data_dir / "chain.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(command, env=env, stderr=log_file)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            served.get(f"{url}/healthz", timeout=1).raise_for_status()
            break
        except httpx2.HTTPError:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "chain serve did not start"
            time.sleep(0.1)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(20)
        log_file.close()


@pytest.fixture(scope="module", params=["in-process", "chain-serve"])
def market(request: pytest.FixtureRequest) -> Market:
    if request.param == "in-process":
        return _deploy("in-process", Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))))
    url = request.getfixturevalue("chain_serve")
    return _deploy("chain-serve", connect(url))


@pytest.fixture(scope="module")
def local_market() -> Market:
    """In-process only: for tests that move the chain's clock (time travel)."""
    return _deploy("in-process", Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))))


def time_travel(market: Market, seconds: int) -> None:
    """Move the in-process chain's clock forward and mine a block there."""
    now = int(market.w3.eth.get_block("latest")["timestamp"])
    market.w3.provider.ethereum_tester.time_travel(now + seconds)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    """Foundry's anvil on a free port (tests/ledger/anvil.py), for one module."""
    from tests.ledger.anvil import running_anvil

    with running_anvil() as url:
        yield url


@pytest.fixture(scope="module")
def anvil_market(anvil_url: str) -> Market:
    """The contracts deployed on that anvil, as on the embedded chain (``_deploy``)."""
    from tests.ledger.anvil import counting

    w3, _ = counting(anvil_url)
    return _deploy("anvil", w3)
