"""`kraken-market chain serve`: web3 over HTTP, JSON-RPC errors, durability across kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from eth_typing import HexStr
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.types import Wei

from kraken_market.ledger.chain.embedded import DurableBackend
from kraken_market.ledger.chain.rpc_server import ChainNode, create_rpc_app
from tests import served
from tests.cli.test_cli import free_port
from tests.conftest import serving

# eth-tester's first well-known dev key (funded at genesis on the embedded chain only).
DEV_KEY = "0x" + "00" * 31 + "01"


@pytest.fixture(params=[True, False], ids=["group-commit", "block-per-transaction"])
def node_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    node = ChainNode(DurableBackend(tmp_path / "chain.db"), group_commit=request.param)
    with serving(create_rpc_app(node)) as url:
        yield url


def transfer(w3: Web3, sender: LocalAccount, nonce: int) -> Any:
    signed = sender.sign_transaction(
        {
            "to": HexStr("0x" + "22" * 20),
            "value": 1,
            "gas": 21000,
            "nonce": nonce,
            "chainId": w3.eth.chain_id,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    return w3.eth.send_raw_transaction(signed.raw_transaction)


def test_web3_talks_to_the_chain_over_http(node_url: str) -> None:
    w3 = Web3(HTTPProvider(node_url))
    sender = Account.from_key(DEV_KEY)
    assert w3.eth.get_balance(sender.address) >= 10**24
    tx = transfer(w3, sender, 0)
    receipt = w3.eth.get_transaction_receipt(tx)
    assert (receipt["status"], receipt["blockNumber"]) == (1, 1)
    assert w3.eth.get_block("latest")["number"] == 1
    assert (
        w3.eth.estimate_gas({"from": sender.address, "to": sender.address, "value": Wei(1)})
        == 21000
    )
    assert w3.eth.get_transaction_count(sender.address) == 1
    raw = served.post(node_url, json={"jsonrpc": "2.0", "id": 7, "method": "eth_blockNumber"})
    assert raw.json() == {"jsonrpc": "2.0", "id": 7, "result": "0x1"}  # wire format: hex


def test_malformed_requests_get_json_rpc_errors(node_url: str) -> None:
    def post(content: bytes) -> Any:
        answer = served.post(
            node_url, content=content, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 200
        return answer.json()

    assert post(b"{oops")["error"]["code"] == -32700
    assert post(b"\xff\xfe")["error"]["code"] == -32700
    assert post(b"[" * 100_000)["error"]["code"] == -32600  # would overflow the C stack
    assert post(b"[" + b"1," * (3 * 1024 * 1024) + b"1]")["error"]["code"] == -32600
    assert post(b"[]")["error"]["code"] == -32600
    assert post(b'"eth_chainId"')["error"]["code"] == -32600
    assert post(b'{"jsonrpc": "2.0", "id": 1, "method": 5}')["error"]["code"] == -32600
    unknown = post(b'{"jsonrpc": "2.0", "id": 1, "method": "eth_nothing", "params": []}')
    assert unknown["error"]["code"] == -32601
    bad = post(b'{"jsonrpc": "2.0", "id": 2, "method": "eth_getBalance", "params": ["nope"]}')
    assert bad["id"] == 2 and bad["error"]["code"] == -32000
    batch = post(
        b'[{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},'
        b' {"jsonrpc": "2.0", "id": 2, "method": "eth_nothing", "params": []}]'
    )
    assert [("result" in a, a["id"]) for a in batch] == [(True, 1), (False, 2)]
    assert post(b'{"jsonrpc": "2.0", "id": 3, "method": "eth_chainId"}')["result"].startswith("0x")


def test_acknowledged_transactions_survive_kill_9_of_chain_serve(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKEN_")}
    env.update(KRAKEN_DATA_DIR=str(tmp_path), KRAKEN_CHAIN_PORT=str(port))
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "kraken_market", "chain", "serve"]
    chain = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    sender = Account.from_key(DEV_KEY)
    try:
        w3 = wait_for(url, chain)
        acknowledged = [transfer(w3, sender, nonce) for nonce in range(20)]
    finally:
        chain.send_signal(signal.SIGKILL)
        chain.wait(10)
    again = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        w3 = wait_for(url, again)
        assert all(w3.eth.get_transaction_receipt(tx)["status"] == 1 for tx in acknowledged)
        assert w3.eth.get_transaction_count(sender.address) == 20
    finally:
        again.terminate()
        again.wait(10)


def wait_for(url: str, process: subprocess.Popen[bytes]) -> Web3:
    w3 = Web3(HTTPProvider(url))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "chain serve exited"
        try:
            if w3.eth.chain_id:
                return w3
        except Exception:
            time.sleep(0.1)
    raise AssertionError("chain serve did not start")


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("evm_snapshot", []),
        ("evm_revert", ["0x1"]),
        ("evm_mine", []),
        ("testing_timeTravel", [2_000_000_000]),
        ("eth_sendTransaction", [{"from": "0x" + "7e5f4552091a69125d5dfcb7b8c2659029395bdf"}]),
        ("eth_sign", ["0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", "0x00"]),
        ("eth_newFilter", [{}]),
        ("personal_unlockAccount", []),
    ],
)
def test_the_served_chain_cannot_be_rewritten_nor_sign_for_anyone(
    node_url: str, method: str, params: list[Any]
) -> None:
    w3 = Web3(HTTPProvider(node_url))
    height = w3.eth.block_number
    answer = served.post(
        node_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    )
    assert answer.json()["error"]["code"] == -32601
    assert "does not exist" in answer.json()["error"]["message"]
    assert w3.eth.block_number == height
    assert list(w3.eth.accounts) == []  # no unlocked account to send from


def test_development_methods_only_on_a_development_node(tmp_path: Path) -> None:
    node = ChainNode(DurableBackend(tmp_path / "chain.db"), development=True)
    snapshot = node.handle({"jsonrpc": "2.0", "id": 1, "method": "evm_snapshot", "params": []})
    assert "result" in snapshot
    node.close()


def test_platform_accounts_are_funded_at_genesis_only(tmp_path: Path) -> None:
    platform = Account.create().address
    backend = DurableBackend(tmp_path / "chain.db", funded=[platform])
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    assert w3.eth.get_balance(platform) == 10**24
    backend.close()
    later = Account.create().address  # a chain is funded once, when it is made
    again = DurableBackend(tmp_path / "chain.db", funded=[later])
    w3 = Web3(EthereumTesterProvider(EthereumTester(again)))
    assert (w3.eth.get_balance(platform), w3.eth.get_balance(later)) == (10**24, 0)
    again.close()


def test_chain_serve_refuses_development_methods_off_loopback(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kraken_market.cli.main import app

    result = CliRunner().invoke(
        app,
        ["chain", "serve", "--host", "0.0.0.0", "--development"],
        env={"KRAKEN_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2
    assert "127.0.0.1" in result.output
    assert not (tmp_path / "chain.db").exists()
