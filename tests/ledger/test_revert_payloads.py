"""Revert reasons decoded from the error answers of each node flavour, through web3.

Each case is a JSON-RPC error answer to ``eth_estimateGas`` in the layout a node
sends (geth/anvil: code 3 and the payload as ``data``; Hardhat 2: -32603, its own
message and the payload inside a ``data`` object, or as a string; Ganache 7: the
payload under the transaction hash; a node sending only a message). The payloads
are ABI-encoded here the way the EVM returns them; Hardhat's answers are also
replayed as a live Hardhat node sent them (``recorded/hardhat.json``). A provider answers with them,
so web3's own error handling raises whatever it raises, and the client's
``Sender`` turns that into the marketplace's error: the stable reason, never the
generic ``reverted``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector
from web3 import Web3
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from kraken_market.ledger.client import dev_account
from kraken_market.ledger.contracts import artifact
from kraken_market.ledger.errors import (
    InsufficientFunds,
    LedgerError,
    NotPermitted,
    Reverted,
)
from kraken_market.ledger.reverts import CustomError, custom_errors, decode_revert, revert_reason
from kraken_market.ledger.transactions import REVERT_ERRORS, EventDecoder, Sender

CONTRACT = "0x" + "11" * 20
OWNER = "0x" + "22" * 20


def error_string(reason: str) -> str:
    return "0x08c379a0" + encode(["string"], [reason]).hex()


def panic(code: int) -> str:
    return "0x4e487b71" + encode(["uint256"], [code]).hex()


def custom(signature: str, types: list[str], values: list[Any]) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, values)).hex()


VM = "Error: VM Exception while processing transaction: "
NOT_OWNER = error_string("not_owner")
ALLOWANCE = custom(
    "ERC20InsufficientAllowance(address,uint256,uint256)",
    ["address", "uint256", "uint256"],
    [OWNER, 0, 5],
)

ANSWERS: dict[str, dict[str, Any]] = {
    "geth, anvil": {"code": 3, "message": "execution reverted: not_owner", "data": NOT_OWNER},
    "hardhat, data object": {
        "code": -32603,
        "message": f"{VM}reverted with reason string 'not_owner'",
        "data": {"message": f"{VM}reverted with reason string 'not_owner'", "data": NOT_OWNER},
    },
    "hardhat, data string": {
        "code": -32603,
        "message": f"{VM}reverted with reason string 'not_owner'",
        "data": NOT_OWNER,
    },
    "hardhat, message only": {
        "code": -32603,
        "message": f"{VM}reverted with reason string 'not_owner'",
    },
    "ganache": {
        "code": -32000,
        "message": "VM Exception while processing transaction: revert not_owner",
        "data": {
            "0x" + "ab" * 32: {"error": "revert", "program_counter": 412, "return": NOT_OWNER},
            "stack": "RuntimeError: VM Exception while processing transaction: revert not_owner",
            "name": "RuntimeError",
        },
    },
}


class Answering(BaseProvider):
    """Answers ``eth_estimateGas`` with one recorded error; the chain id otherwise."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__()
        self.error = error

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_chainId":
            return {"jsonrpc": "2.0", "id": 1, "result": "0x7a69"}
        assert method == "eth_estimateGas", method
        return {"jsonrpc": "2.0", "id": 1, "error": self.error}  # type: ignore[typeddict-item]

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


def estimate(error: dict[str, Any]) -> None:
    w3 = Web3(Answering(error))
    registry = w3.eth.contract(
        address=Web3.to_checksum_address(CONTRACT), abi=artifact("Registry").abi
    )
    call = registry.functions.set_metadata(b"\x01" * 32, b"\x02" * 32)
    Sender(w3, dev_account(7), EventDecoder({})).send(call, "update metadata")


@pytest.mark.parametrize("flavour", ANSWERS)
def test_error_string_from_every_node_flavour(flavour: str) -> None:
    with pytest.raises(NotPermitted) as caught:
        estimate(ANSWERS[flavour])
    assert caught.value.reason == "not_owner"
    assert caught.value.code == "chain_forbidden"


def test_erc6093_custom_error_of_an_existing_token() -> None:
    """An OpenZeppelin 5 token refuses with a custom error, not a string."""
    for error in (
        {"code": 3, "message": "execution reverted", "data": ALLOWANCE},
        {"code": -32603, "message": f"{VM}reverted with custom error", "data": {"data": ALLOWANCE}},
    ):
        with pytest.raises(InsufficientFunds) as caught:
            estimate(error)
        assert caught.value.reason == "erc20: insufficient allowance"


def test_panic_is_named() -> None:
    with pytest.raises(Reverted) as caught:
        estimate({"code": 3, "message": "execution reverted", "data": panic(0x11)})
    assert caught.value.reason == "panic 0x11 (arithmetic underflow or overflow)"
    assert type(caught.value) is Reverted


def test_a_refusal_that_is_not_a_revert_stays_one() -> None:
    with pytest.raises(LedgerError) as caught:
        estimate({"code": -32000, "message": "insufficient funds for gas * price + value"})
    assert caught.value.code == "insufficient_funds"  # gas money, not a contract's refusal
    with pytest.raises(LedgerError) as other:
        estimate({"code": -32000, "message": "header not found"})
    assert not isinstance(other.value, Reverted)


def test_custom_errors_of_an_abi_decode_with_their_arguments() -> None:
    abi = [
        {
            "type": "error",
            "name": "NotOwner",
            "inputs": [{"name": "caller", "type": "address"}, {"name": "id", "type": "uint256"}],
        }
    ]
    errors = custom_errors([abi])
    payload = custom("NotOwner(address,uint256)", ["address", "uint256"], [OWNER, 7])
    assert decode_revert(bytes.fromhex(payload[2:]), errors) == f"NotOwner({OWNER}, 7)"
    selector = function_signature_to_4byte_selector("NotOwner(address,uint256)")
    assert errors[selector] == CustomError("NotOwner", ("address", "uint256"), None)


def test_unknown_and_malformed_payloads_say_what_arrived() -> None:
    assert decode_revert(bytes.fromhex("deadbeef")) == "unknown error 0xdeadbeef"
    assert decode_revert(b"") == "reverted"
    assert decode_revert(bytes.fromhex("08c379a0") + b"\x00" * 5) == "unknown error 0x08c379a0"


RECORDED = json.loads((Path(__file__).parent / "recorded" / "hardhat.json").read_text())
"""A live Hardhat node's answers to a refused Registry.set_metadata (record_hardhat.py)."""


class Replaying(BaseProvider):
    """Answers ``method`` with the error a live node sent; the chain id otherwise."""

    def __init__(self, method: str) -> None:
        super().__init__()
        self.method = method

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_chainId":
            return {"jsonrpc": "2.0", "id": 1, "result": "0x7a69"}
        assert method == self.method, method
        return {"jsonrpc": "2.0", "id": 1, "error": RECORDED[method]}

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


def test_a_live_hardhat_nodes_answers_decode_to_the_contracts_reason() -> None:
    """Recorded from Hardhat Network (2.29.1) with the committed contracts: the refusal
    reaches the marketplace as the contract's own reason whether the node refused the
    estimate, the call or the sent transaction."""
    assert RECORDED["node"].startswith("HardhatNetwork/")
    with pytest.raises(NotPermitted) as caught:
        Sender(Web3(Replaying("eth_estimateGas")), dev_account(7), EventDecoder({})).send(
            _set_metadata(Web3(Replaying("eth_estimateGas"))), "update metadata"
        )
    assert caught.value.reason == RECORDED["reason"]
    with pytest.raises(REVERT_ERRORS) as called:
        _set_metadata(Web3(Replaying("eth_call"))).call()
    assert revert_reason(called.value) == RECORDED["reason"]
    with pytest.raises(REVERT_ERRORS) as sent:
        Web3(Replaying("eth_sendRawTransaction")).eth.send_raw_transaction(b"\x02")
    assert revert_reason(sent.value) == RECORDED["reason"]


def _set_metadata(w3: Web3) -> Any:
    registry = w3.eth.contract(
        address=Web3.to_checksum_address(CONTRACT), abi=artifact("Registry").abi
    )
    return registry.functions.set_metadata(b"\x01" * 32, b"\x02" * 32)
