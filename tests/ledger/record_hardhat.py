"""Record how a real Hardhat node answers the marketplace's refused calls (not a test).

``tests/ledger/test_revert_payloads.py`` replays what this writes to
``tests/ledger/recorded/hardhat.json``: the raw JSON-RPC error answers of Hardhat
Network to ``eth_estimateGas``, ``eth_call`` and ``eth_sendRawTransaction`` (a
transaction sent with its gas given, so the node mines it and it reverts), for the
committed contracts deployed on it. Hardhat is not a test dependency (hundreds of
npm packages for one answer format); re-record when its format may have changed::

    mkdir /tmp/hh && cd /tmp/hh && npm install hardhat@2.29.1
    echo 'module.exports = {networks: {hardhat: {hardfork: "cancun"}}};' > hardhat.config.js
    npx hardhat node --port 8599 &
    cd - && .venv/bin/python -m tests.ledger.record_hardhat http://127.0.0.1:8599
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx2
from eth_account import Account
from web3 import Web3

from kraken_market.catalog.ids import new_product_id
from kraken_market.ledger.client import Ledger, connect
from kraken_market.ledger.deploy import Roles, deploy
from kraken_market.ledger.model import ModeCode, Parameters, Prices

OUT = Path(__file__).parent / "recorded" / "hardhat.json"
HARDHAT_ACCOUNT_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
"""Hardhat Network's first development account (its documented, public key)."""


def rpc(url: str, method: str, params: list[Any]) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer: dict[str, Any] = httpx2.post(url, json=body, timeout=30).json()
    return answer


def main(url: str) -> None:
    w3 = connect(url)
    admin = Account.from_key(HARDHAT_ACCOUNT_0)
    deployment = deploy(w3, admin, Parameters(treasury=admin.address), Roles(faucet=True))
    owner = Ledger(w3, deployment, admin)
    product = new_product_id()
    owner.drip(100 * 10**18)
    owner.publish(product, mode=ModeCode.BATCH, prices=Prices(access=10**18))
    stranger = Account.create()
    owner.send_ether(stranger.address, 10**18)
    registry = owner.contracts["Registry"]
    data = registry.encode_abi("set_metadata", [bytes.fromhex(product[2:]), b"\x02" * 32])
    call = {"from": stranger.address, "to": deployment.registry, "data": data}
    recorded: dict[str, Any] = {
        "node": rpc(url, "web3_clientVersion", [])["result"],
        "reason": "not_owner",
        "eth_estimateGas": rpc(url, "eth_estimateGas", [call])["error"],
        "eth_call": rpc(url, "eth_call", [call, "latest"])["error"],
    }
    fees = {"maxFeePerGas": 2 * 10**10, "maxPriorityFeePerGas": 10**9}
    signed = stranger.sign_transaction(
        {
            **call,
            **fees,
            "gas": 200_000,
            "nonce": w3.eth.get_transaction_count(stranger.address),
            "chainId": int(w3.eth.chain_id),
            "to": Web3.to_checksum_address(deployment.registry),
        }
    )
    sent = rpc(url, "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
    recorded["eth_sendRawTransaction"] = sent.get("error", {"result": sent.get("result")})
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(recorded, indent=2) + "\n")
    print(f"recorded {recorded['node']}'s answers in {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
