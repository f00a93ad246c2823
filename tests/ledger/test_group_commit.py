"""Group commit: concurrent sends share a block and its one disk commit; a refused send
is answered at once and disturbs no one; every acknowledged send survives kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from eth_utils.exceptions import ValidationError
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.exceptions import TransactionNotFound, Web3RPCError
from web3.types import TxParams, Wei

from kraken_market.ledger.chain.embedded import DurableBackend, PendingBlockFull
from kraken_market.ledger.chain.rpc_server import ChainNode, create_rpc_app, settle
from kraken_market.ledger.chain.store import SqliteKeyValue
from tests.cli.test_cli import free_port
from tests.conftest import serving
from tests.ledger.test_rpc_server import wait_for

CHAIN_ID = 131277322940537  # eth-tester's
RECEIVER = Web3.to_checksum_address("0x" + "22" * 20)
BLOCK_GAS = 30029122  # eth-tester's genesis gas limit, kept by every block


def dev(index: int) -> LocalAccount:
    """eth-tester's dev account ``index`` (private key index + 1), funded at genesis."""
    account: LocalAccount = Account.from_key(f"0x{index + 1:064x}")
    return account


def signed(
    account: LocalAccount, nonce: int, gas: int = 21000, to: str = RECEIVER, value: int = 1
) -> HexBytes:
    transaction: dict[str, Any] = {
        "to": to,
        "value": value,
        "gas": gas,
        "nonce": nonce,
        "chainId": CHAIN_ID,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
    }
    return HexBytes(account.sign_transaction(transaction).raw_transaction)


@pytest.fixture
def node_url(tmp_path: Path) -> Iterator[str]:
    with serving(create_rpc_app(ChainNode(DurableBackend(tmp_path / "chain.db")))) as url:
        yield url


def test_concurrent_senders_share_blocks(node_url: str) -> None:
    senders = [dev(index) for index in range(4)]

    def send_all(account: LocalAccount) -> list[HexBytes]:
        w3 = Web3(HTTPProvider(node_url))
        return [w3.eth.send_raw_transaction(signed(account, nonce)) for nonce in range(25)]

    with ThreadPoolExecutor(len(senders)) as pool:
        sent = list(pool.map(send_all, senders))
    w3 = Web3(HTTPProvider(node_url))
    for account, hashes in zip(senders, sent, strict=True):
        receipts = [w3.eth.get_transaction_receipt(tx) for tx in hashes]
        assert all(receipt["status"] == 1 for receipt in receipts)
        numbers = [receipt["blockNumber"] for receipt in receipts]
        assert numbers == sorted(set(numbers))  # acknowledged only once its block was mined
        assert w3.eth.get_transaction_count(account.address) == 25
    blocks = {w3.eth.get_transaction_receipt(tx)["blockNumber"] for txs in sent for tx in txs}
    assert len(blocks) < 100  # several transactions per block
    assert w3.eth.block_number == len(blocks)  # and no block without one


def test_refused_sends_are_answered_at_once_and_disturb_no_one(node_url: str) -> None:
    w3 = Web3(HTTPProvider(node_url))
    good, other, poor = dev(0), dev(1), Account.create()

    def send_good() -> list[HexBytes]:
        own = Web3(HTTPProvider(node_url))
        return [own.eth.send_raw_transaction(signed(good, nonce)) for nonce in range(10)]

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(send_good)
        for refused, reason in [
            (signed(other, 5), "nonce"),  # a gap: nonces are not queued
            (signed(poor, 0), "afford"),
            (signed(other, 0, gas=BLOCK_GAS + 1), "gas limit"),
        ]:
            with pytest.raises(Web3RPCError, match=reason):
                w3.eth.send_raw_transaction(refused)
        hashes = pending.result()
    with pytest.raises(Web3RPCError, match="nonce"):
        w3.eth.send_raw_transaction(signed(good, 9))  # a replay of a mined one
    assert all(w3.eth.get_transaction_receipt(tx)["status"] == 1 for tx in hashes)
    assert [w3.eth.get_transaction_count(a.address) for a in (good, other, poor)] == [10, 0, 0]


def test_the_pending_block_counts_for_nonces_not_for_receipts(tmp_path: Path) -> None:
    backend = DurableBackend(tmp_path / "chain.db")
    # Reads through eth-tester (which never mines on a read); sends straight to the backend,
    # which executes them into the pending block, as the server's deferred sends do.
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    account = dev(0)
    first, second = (HexBytes(backend.send_raw_transaction(signed(account, n))) for n in (0, 1))
    assert w3.eth.get_transaction_count(account.address, "pending") == 2
    assert w3.eth.get_transaction_count(account.address, "latest") == 0
    assert w3.eth.get_balance(RECEIVER, "pending") == 2
    assert w3.eth.get_balance(RECEIVER, "latest") == 0
    assert w3.eth.get_transaction(first)["blockNumber"] is None
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction_receipt(first)
    # The reads above made the pending block's state root; it keeps growing after them.
    third = HexBytes(backend.send_raw_transaction(signed(account, 2)))
    assert w3.eth.get_balance(RECEIVER, "pending") == 3
    backend.mine_blocks(1)
    assert backend.mined_transactions == {first, second, third}
    receipts = [w3.eth.get_transaction_receipt(tx) for tx in (first, second, third)]
    assert [(r["blockNumber"], r["status"]) for r in receipts] == [(1, 1)] * 3
    assert w3.eth.get_block(1)["transactions"] == [first, second, third]
    assert w3.eth.get_balance(RECEIVER, "latest") == 3
    backend.close()
    again = DurableBackend(tmp_path / "chain.db")  # the block as committed reopens
    assert Web3(EthereumTesterProvider(EthereumTester(again))).eth.get_balance(RECEIVER) == 3
    again.close()


def test_calls_and_estimates_on_pending_see_the_pending_block(tmp_path: Path) -> None:
    backend = DurableBackend(tmp_path / "chain.db")
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    newcomer = Account.create()
    backend.send_raw_transaction(signed(dev(0), 0, to=newcomer.address, value=10**18))
    spend: TxParams = {"from": newcomer.address, "to": RECEIVER, "value": Wei(10**17)}
    assert w3.eth.estimate_gas(spend, "pending") == 21000
    assert w3.eth.call(spend, "pending") == b""
    for on_latest in (w3.eth.estimate_gas, w3.eth.call):
        with pytest.raises(ValidationError, match="cannot afford"):  # not funded yet
            on_latest(spend, "latest")
    backend.close()


def test_a_full_block_is_sealed_before_the_next_transaction(tmp_path: Path) -> None:
    backend = DurableBackend(tmp_path / "chain.db")
    backend.send_raw_transaction(bytes(signed(dev(0), 0)))
    huge = bytes(signed(dev(1), 0, gas=BLOCK_GAS - 10_000))  # fits an empty block only
    with pytest.raises(PendingBlockFull):
        backend.send_raw_transaction(huge)
    backend.mine_blocks(1)
    backend.send_raw_transaction(huge)
    backend.mine_blocks(1)
    assert len(backend.mined_transactions) == 1
    backend.close()


def test_the_server_mines_a_full_block_first(node_url: str) -> None:
    w3 = Web3(HTTPProvider(node_url))
    raws = [signed(dev(n), 0, gas=BLOCK_GAS - 10_000) for n in range(4)]  # one per block

    def send(raw: HexBytes) -> HexBytes:
        return Web3(HTTPProvider(node_url)).eth.send_raw_transaction(raw)

    with ThreadPoolExecutor(len(raws)) as pool:
        hashes = list(pool.map(send, raws))
    receipts = [w3.eth.get_transaction_receipt(tx) for tx in hashes]
    assert all(receipt["status"] == 1 for receipt in receipts)
    assert sorted(receipt["blockNumber"] for receipt in receipts) == [1, 2, 3, 4]


def test_transactions_the_head_no_longer_allows_are_dropped(tmp_path: Path) -> None:
    backend = DurableBackend(tmp_path / "chain.db")
    tester = EthereumTester(backend)
    account = dev(0)
    snapshot = tester.take_snapshot()
    backend.send_raw_transaction(bytes(signed(account, 0)))
    backend.mine_blocks(1)
    backend.send_raw_transaction(bytes(signed(account, 1)))  # pending on block 1
    tester.revert_to_snapshot(snapshot)  # block 1 is gone: nonce 1 is now a gap
    assert tester.get_nonce(account.address, "pending") == 0
    backend.mine_blocks(1)
    assert backend.mined_transactions == frozenset()
    backend.close()


class FailingDisk(SqliteKeyValue):
    """A store whose next commit fails once armed, as on a full disk."""

    armed = False

    def commit(self) -> None:
        if self.armed:
            self.armed = False
            raise sqlite3.OperationalError("disk I/O error")
        super().commit()


def test_a_block_that_fails_to_commit_answers_its_senders_with_an_error(tmp_path: Path) -> None:
    disk = FailingDisk(tmp_path / "chain.db")
    node = ChainNode(DurableBackend(tmp_path / "chain.db", store=disk))
    with serving(create_rpc_app(node)) as url:
        w3 = Web3(HTTPProvider(url))
        disk.armed = True
        with pytest.raises(Web3RPCError, match="not mined: disk I/O error"):
            w3.eth.send_raw_transaction(signed(dev(0), 0))
        assert w3.eth.block_number == 0  # rolled back to the last committed block
        again = w3.eth.send_raw_transaction(signed(dev(0), 0))  # the nonce is free again
        assert w3.eth.get_transaction_receipt(again)["blockNumber"] == 1


def test_closing_mines_what_is_pending(tmp_path: Path) -> None:
    node = ChainNode(DurableBackend(tmp_path / "chain.db"), block_interval=5.0)
    call = {"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction"}
    submitted = node.submit({**call, "params": [signed(dev(0), 0).to_0x_hex()]})
    node.close()
    answer = settle(submitted)
    backend = DurableBackend(tmp_path / "chain.db")
    receipt = EthereumTester(backend).get_transaction_receipt(answer["result"])
    assert receipt["block_number"] == 1
    backend.close()


def test_acknowledged_transactions_survive_kill_9_during_concurrent_sends(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    env.update(KRAKEN_DATA_DIR=str(tmp_path), KRAKEN_CHAIN_PORT=str(port))
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "kraken_market", "chain", "serve"]
    senders = [dev(index) for index in range(4)]
    acknowledged: list[list[HexBytes]] = [[] for _ in senders]

    def send_until_killed(account: LocalAccount, acks: list[HexBytes]) -> None:
        w3 = Web3(HTTPProvider(url))
        try:
            for nonce in range(10_000):
                acks.append(w3.eth.send_raw_transaction(signed(account, nonce)))
        except Exception:  # the chain was killed under this send: it was never acknowledged
            return

    threads = [
        threading.Thread(target=send_until_killed, args=pair)
        for pair in zip(senders, acknowledged, strict=True)
    ]
    chain = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for(url, chain)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while sum(map(len, acknowledged)) < 60:
            assert time.monotonic() < deadline, "too few transactions acknowledged"
            time.sleep(0.05)
    finally:
        chain.send_signal(signal.SIGKILL)
        chain.wait(10)
    for thread in threads:
        thread.join(30)
    again = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        w3 = wait_for(url, again)
        for account, acks in zip(senders, acknowledged, strict=True):
            assert all(w3.eth.get_transaction_receipt(tx)["status"] == 1 for tx in acks)
            assert w3.eth.get_transaction_count(account.address) >= len(acks)
    finally:
        again.terminate()
        again.wait(10)


TWO_LOGS = bytes.fromhex("60006000a060006000a000")
"""Init code that emits two empty LOG0s and deploys nothing (PUSH1 0 PUSH1 0 LOG0, twice)."""


def test_logs_of_a_block_are_numbered_across_its_transactions(tmp_path: Path) -> None:
    backend = DurableBackend(tmp_path / "chain.db")
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    creations = []
    for sender in (dev(0), dev(1), dev(2)):
        transaction: dict[str, Any] = {
            "data": TWO_LOGS,
            "value": 0,
            "gas": 100_000,
            "nonce": 0,
            "chainId": CHAIN_ID,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        }
        raw = sender.sign_transaction(transaction).raw_transaction
        creations.append(HexBytes(backend.send_raw_transaction(bytes(raw))))
    backend.mine_blocks(1)  # one block, three transactions, six logs
    receipts = [w3.eth.get_transaction_receipt(tx) for tx in creations]
    assert [[log["logIndex"] for log in r["logs"]] for r in receipts] == [[0, 1], [2, 3], [4, 5]]
    logs = w3.eth.get_logs({"fromBlock": 1, "toBlock": 1})
    assert [(log["transactionIndex"], log["logIndex"]) for log in logs] == [
        (0, 0),
        (0, 1),
        (1, 2),
        (1, 3),
        (2, 4),
        (2, 5),
    ]
    backend.close()
