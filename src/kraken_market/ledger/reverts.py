"""Why a contract refused: the revert payload decoded, whatever node sent it.

A reverting EVM call returns revert data encoded like a call to one of three kinds
of error (Solidity ABI specification, "Errors" and "Panic via assert and Error via
require"; Vyper 0.4 raises the first):

- ``Error(string)`` (selector ``0x08c379a0``): a reason string. Our contracts'
  reasons (``"not_owner"``...) and snekmate's (``"erc20: insufficient allowance"``);
- ``Panic(uint256)`` (selector ``0x4e487b71``): a Solidity compiler check (overflow,
  division by zero...), met in an existing token's contract on a real chain;
- a custom error ``Name(types)`` (EIP-838): its selector is looked up among the
  ``error`` entries of the committed ABIs and the ERC-20 errors of ERC-6093
  (OpenZeppelin 5 tokens), which map to the reasons snekmate gives for the same
  refusals.

Nodes put the payload in different places of their JSON-RPC error, and web3
passes it on in different exceptions: geth, anvil and the embedded chain answer
code 3 with the payload as the error's ``data``; Hardhat answers -32603 with
``data`` an object holding it (``{"message": ..., "data": "0x08c379a0..."}``) and
a message of its own ("VM Exception while processing transaction: reverted with
reason string '...'"); Ganache nests it under the transaction hash (``return``).
So the payload is looked for in every one of those places, and the message text
is read only when no payload was sent (eth-tester in process decodes the reason
itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import function_signature_to_4byte_selector

ERROR_SELECTOR = bytes.fromhex("08c379a0")
"""``Error(string)``."""
PANIC_SELECTOR = bytes.fromhex("4e487b71")
"""``Panic(uint256)``."""

PANICS = {
    0x00: "generic compiler panic",
    0x01: "assertion failed",
    0x11: "arithmetic underflow or overflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function",
}
"""Solidity's panic codes (documentation, "Panic via assert and Error via require")."""

ERC6093_REASONS = {
    # ERC-6093 custom errors of ERC-20 tokens -> the reason snekmate's ERC-20 gives
    "ERC20InsufficientAllowance(address,uint256,uint256)": "erc20: insufficient allowance",
    "ERC20InsufficientBalance(address,uint256,uint256)": "erc20: transfer amount exceeds balance",
    "ERC20InvalidReceiver(address)": "erc20: transfer to the zero address",
    "ERC20InvalidSpender(address)": "erc20: approve to the zero address",
}

_MARKER = "execution reverted"
_HARDHAT = re.compile(r"reverted with reason string '(?P<reason>.*)'", re.DOTALL)
_HEX = re.compile(r"^0x(?:[0-9a-fA-F]{2})*$")


@dataclass(frozen=True)
class CustomError:
    name: str
    types: tuple[str, ...]
    reason: str | None
    """The reason string it stands for, if it has one (ERC-6093); else its name."""


def _signature(entry: Mapping[str, Any]) -> str:
    types = ",".join(str(item["type"]) for item in entry.get("inputs", ()))
    return f"{entry['name']}({types})"


def custom_errors(abis: Iterable[Iterable[Mapping[str, Any]]]) -> dict[bytes, CustomError]:
    """The custom errors of ``abis`` and of ERC-6093, by selector."""
    found: dict[bytes, CustomError] = {}
    for signature, reason in ERC6093_REASONS.items():
        name, _, rest = signature.partition("(")
        types = tuple(part for part in rest.rstrip(")").split(",") if part)
        found[function_signature_to_4byte_selector(signature)] = CustomError(name, types, reason)
    for abi in abis:
        for entry in abi:
            if entry.get("type") == "error":
                signature = _signature(entry)
                types = tuple(str(item["type"]) for item in entry.get("inputs", ()))
                selector = function_signature_to_4byte_selector(signature)
                found.setdefault(selector, CustomError(str(entry["name"]), types, None))
    return found


@cache
def committed_errors() -> dict[bytes, CustomError]:
    """The custom errors of the marketplace's committed contract ABIs (and ERC-6093)."""
    from kraken_market.ledger.contracts import CONTRACTS, artifact

    return custom_errors(artifact(name).abi for name in CONTRACTS)


def decode_revert(payload: bytes, errors: Mapping[bytes, CustomError] | None = None) -> str:
    """The reason a revert ``payload`` gives (``"reverted"`` for an empty or unknown one)."""
    if errors is None:
        errors = committed_errors()
    selector, body = payload[:4], payload[4:]
    try:
        if selector == ERROR_SELECTOR:
            (text,) = abi_decode(["string"], body)
            return str(text) or "reverted"
        if selector == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], body)
            return f"panic 0x{code:02x} ({PANICS.get(code, 'unknown panic code')})"
        known = errors.get(selector)
        if known is not None:
            if known.reason is not None:
                return known.reason
            values = abi_decode(list(known.types), body) if known.types else ()
            return f"{known.name}({', '.join(_show(v) for v in values)})"
    except (DecodingError, UnicodeDecodeError, OverflowError):
        pass  # a malformed payload: say what arrived, not a guess
    if len(payload) >= 4:
        return f"unknown error 0x{selector.hex()}"
    return "reverted"


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def revert_payload(exc: BaseException) -> bytes | None:
    """The revert data carried by ``exc`` (web3's ``ContractLogicError.data``, the
    ``data`` of a ``Web3RPCError``'s JSON-RPC error, in any node's layout), or None."""
    places: list[Any] = [getattr(exc, "data", None)]
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, Mapping):
        error = response.get("error")
        if isinstance(error, Mapping):
            places.append(error.get("data"))
    for place in places:
        found = _find_payload(place, depth=0)
        if found is not None:
            return found
    return None


def _find_payload(value: Any, depth: int) -> bytes | None:
    if depth > 4:
        return None
    if isinstance(value, bytes) and len(value) >= 4:
        return value
    if isinstance(value, str) and _HEX.match(value) and len(value) >= 10:
        return bytes.fromhex(value[2:])
    if isinstance(value, Mapping):
        # geth/anvil: the string itself; Hardhat: {"data": ...}; Ganache: {tx: {"return": ...}}
        for key in ("data", "return", *value.keys()):
            if key in value:
                found = _find_payload(value[key], depth + 1)
                if found is not None:
                    return found
    return None


def revert_reason(exc: BaseException) -> str | None:
    """The reason of a revert ``exc``, or None if it is not a revert."""
    payload = revert_payload(exc)
    if payload is not None:
        return decode_revert(payload)
    message = str(getattr(exc, "message", None) or exc)
    hardhat = _HARDHAT.search(message)
    if hardhat is not None:  # no payload sent: Hardhat's own wording
        return hardhat["reason"]
    at = message.find(_MARKER)
    if at < 0:
        return None
    return message[at + len(_MARKER) :].lstrip(": ").strip() or "reverted"
