"""The embedded durable chain: state survives restarts and kill -9 of the process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from eth_tester import EthereumTester
from eth_typing import HexStr
from web3 import EthereumTesterProvider, Web3
from web3.types import Wei

from kraken_market.ledger.chain.embedded import DurableBackend
from kraken_market.ledger.chain.store import SqliteKeyValue

SENDER = """
import sys
from pathlib import Path
from eth_tester import EthereumTester
from web3 import EthereumTesterProvider, Web3
from kraken_market.ledger.chain.embedded import DurableBackend

w3 = Web3(EthereumTesterProvider(EthereumTester(DurableBackend(Path(sys.argv[1])))))
a = w3.eth.accounts
while True:
    tx = w3.eth.send_transaction({"from": a[0], "to": a[1], "value": 1, "gas": 21000})
    print(tx.hex(), flush=True)  # acknowledged: eth-tester mined it, the block is on disk
"""


def open_chain(path: Path) -> tuple[DurableBackend, Web3]:
    backend = DurableBackend(path)
    return backend, Web3(EthereumTesterProvider(EthereumTester(backend)))


def test_store_commits_and_rolls_back(tmp_path: Path) -> None:
    store = SqliteKeyValue(tmp_path / "kv.db")
    store[b"a"] = b"1"
    store.commit()
    store[b"b"] = b"2"
    assert store[b"b"] == b"2"  # visible before commit, to the chain itself
    store[b"a"] = b"changed"
    assert store[b"a"] == b"changed"
    store.rollback()
    assert b"a" in store and b"b" not in store
    assert store[b"a"] == b"1"  # the committed value, not the one read before the rollback
    del store[b"a"]
    store.commit()
    assert store.is_empty()
    store.close()


def test_chain_resumes_after_restart(tmp_path: Path) -> None:
    backend, w3 = open_chain(tmp_path / "chain.db")
    accounts = list(w3.eth.accounts)
    assert len(accounts) == 10 and w3.eth.get_balance(accounts[0]) >= 10**24
    tx = w3.eth.send_transaction(
        {"from": accounts[0], "to": accounts[1], "value": Wei(5), "gas": 21000}
    )
    balance, height = w3.eth.get_balance(accounts[1]), w3.eth.block_number
    backend.close()

    again, w3 = open_chain(tmp_path / "chain.db")
    assert (w3.eth.block_number, w3.eth.get_balance(accounts[1])) == (height, balance)
    assert w3.eth.get_transaction_receipt(tx)["status"] == 1
    w3.eth.send_transaction({"from": accounts[0], "to": accounts[1], "value": Wei(1), "gas": 21000})
    assert w3.eth.block_number == height + 1
    again.close()


def test_acknowledged_transactions_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "chain.db"
    sender = subprocess.Popen(
        [sys.executable, "-c", SENDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert sender.stdout is not None
    acknowledged = [HexStr(sender.stdout.readline().strip()) for _ in range(25)]
    sender.send_signal(signal.SIGKILL)  # mid-stream: it keeps sending until killed
    sender.wait(10)
    sender.stdout.close()
    backend, w3 = open_chain(path)
    assert all(w3.eth.get_transaction_receipt(tx)["status"] == 1 for tx in acknowledged)
    assert w3.eth.block_number >= len(acknowledged)
    backend.close()
