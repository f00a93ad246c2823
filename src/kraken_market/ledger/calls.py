"""Contract calls a wallet is asked to sign, built, decoded and put in words.

Runs in the API (which builds a ``transaction`` wallet request from a function name and
arguments, and checks the signed transaction the wallet sends back) and on the user's
machine (the CLI wallet, which decodes the call data itself before it signs: it never
trusts a description sent by whoever asks). The browser wallet does the same in
TypeScript (``describeCall`` in ``web/packages/core/src/contracts.ts``, used by the wallet
app's ``pages/signing.ts``) with the same words.

Calls are encoded and decoded with the Solidity contract ABI specification (4-byte
selector, then the head/tail encoding of the arguments) against the committed artifacts
(``ledger/contracts/artifacts``), and only on the deployment's own contracts. Signed
transactions are EIP-1559 (type 2, EIP-2718 envelope); their sender is recovered from
the signature (secp256k1, as eth-account does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.exceptions import DecodingError
from eth_utils.address import is_address, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3Exception

from kraken_market.errors import InvalidRequest
from kraken_market.ledger.amounts import Token
from kraken_market.ledger.contracts import artifact
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import LedgerError

AMOUNT_INPUTS = frozenset(
    {
        "amount",
        "max_amount",
        "stake",
        "price_floor",
        "max_bond",
        "min_stake_",
        "claim_bond_",
        "access",
        "computation",
        "subscription_per_second",
    }
)
"""Arguments (by name) that are amounts of DATA in base units: shown with the token's
decimals. The same set as ``AMOUNT_INPUTS`` in web/packages/core/src/contracts.ts."""

CONTRACT_WORDS = {
    "DataToken": "the DATA token",
    "Market": "the marketplace",
    "Registry": "the product registry",
    "Authority": "the marketplace's authority",
    "Faucet": "the faucet",
}
"""What each of the deployment's contracts is called in words (an address it receives
as an argument is shown as this)."""

ACTIONS = {
    ("DataToken", "transfer"): "Send {amount} to {to}",
    ("DataToken", "approve"): "Allow {spender} to spend up to {amount}",
    ("DataToken", "transferFrom"): "Move {amount} from {owner} to {to}",
    ("DataToken", "burn"): "Destroy {amount}",
    ("Faucet", "drip"): "Get {amount} from the faucet for {recipient}",
    ("Market", "buy_access"): "Buy access to product {item} for purpose {purpose}, "
    "paying at most {max_amount}",
    ("Market", "subscribe"): "Subscribe to product {item} for {seconds} seconds for purpose "
    "{purpose}, paying at most {max_amount}",
    ("Market", "request_computation"): "Pay for computation {request_id} over products "
    "{items} for purpose {purpose}, paying at most {max_amount}",
    ("Market", "approve"): "Approve product {product_id} bought in purchase {purchase_id}",
    ("Market", "file_claim"): "File a claim against product {product_id} bought in purchase "
    "{purchase_id}, with a bond of at most {max_bond}",
    ("Market", "reclaim"): "Take back the payment for computation {request_id}",
    ("Market", "release_stake"): "Take back the stake of product {product_id}",
    ("Registry", "publish"): "Publish product {product_id} with a stake of {stake}",
    ("Registry", "delist"): "Delist product {product_id}",
    ("Registry", "set_availability"): "Set the availability of product {product_id} to "
    "{availability}",
    ("Registry", "set_prices"): "Change the prices of product {product_id} to {prices}",
}
"""The marketplace's calls in words; any other call is shown as its contract, function
and named arguments. The same table as ``ACTIONS`` in web/packages/core/src/contracts.ts."""

_HEX = re.compile(r"0x[0-9a-fA-F]*")
_INTEGER = re.compile(r"-?[0-9]{1,78}")


class CallInvalid(LedgerError, InvalidRequest):
    """A contract call that cannot be built or read: not a contract of this deployment,
    no such function, arguments that do not fit its ABI, or call data that does not
    decode."""

    code = "call_invalid"
    status = 422


@dataclass(frozen=True)
class Argument:
    name: str
    type: str
    value: Any


@dataclass(frozen=True)
class DecodedCall:
    """A call read from its call data, against the ABI of the contract at its target."""

    contract: str
    address: str
    function: str
    arguments: tuple[Argument, ...]


@cache
def _contract(name: str) -> Contract:
    # No provider: encoding and decoding need none.
    contract: Contract = Web3().eth.contract(abi=artifact(name).abi)  # type: ignore[assignment]
    return contract


def _function_abi(name: str, function: str) -> dict[str, Any] | None:
    for entry in artifact(name).abi:
        if entry["type"] == "function" and entry["name"] == function:
            return entry
    return None


def contract_named(deployment: Deployment, contract: str) -> str:
    """The address of the deployment's contract ``contract``; ``call_invalid`` if it has none."""
    addresses = deployment.addresses()
    if contract not in addresses:
        raise CallInvalid(
            f"{contract!r} is not a contract of this marketplace; "
            f"its contracts are {', '.join(sorted(addresses))}",
            details={"contract": contract},
        )
    return to_checksum_address(addresses[contract])


def contract_at(deployment: Deployment, address: str) -> str | None:
    """The name of the deployment's contract at ``address``, if it is one."""
    for name, at in deployment.addresses().items():
        if at.lower() == address.lower():
            return name
    return None


def _value(kind: str, value: Any, where: str, components: Sequence[Any] = ()) -> Any:
    """A JSON value as the Python value the ABI type ``kind`` takes (integers may be
    decimal strings: JSON numbers lose precision above 2^53)."""

    def bad(expected: str) -> CallInvalid:
        return CallInvalid(f"{where}: expected {expected}", details={"argument": where})

    if kind.endswith("]"):
        inner = kind[: kind.rindex("[")]
        if not isinstance(value, list):
            raise bad(f"a list of {inner}")
        return [_value(inner, item, f"{where}[{i}]", components) for i, item in enumerate(value)]
    if kind == "tuple":
        if isinstance(value, dict):
            value = [value.get(c["name"]) for c in components]
        if not isinstance(value, list) or len(value) != len(components):
            raise bad(f"an object with {', '.join(c['name'] for c in components)}")
        return tuple(
            _value(c["type"], item, f"{where}.{c['name']}", c.get("components", ()))
            for c, item in zip(components, value, strict=True)
        )
    if kind.startswith(("uint", "int")):
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("a whole number (or its decimal text)")
        return value
    if kind == "address":
        if not isinstance(value, str) or not is_address(value):
            raise bad("an address (0x and 40 hex digits)")
        return to_checksum_address(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind.startswith("bytes"):
        if not isinstance(value, str) or not _HEX.fullmatch(value) or len(value) % 2:
            raise bad("bytes as 0x-prefixed hex")
        return bytes.fromhex(value[2:])
    if kind == "string":
        if not isinstance(value, str):
            raise bad("text")
        return value
    raise bad(f"a value of type {kind}")  # pragma: no cover - no such type in our ABIs


def encode(
    deployment: Deployment, contract: str, function: str, arguments: Sequence[Any]
) -> tuple[str, str]:
    """The target address and call data of ``contract.function(*arguments)``, checked
    against the committed ABI (only state-changing functions: a view is not a
    transaction)."""
    address = contract_named(deployment, contract)
    entry = _function_abi(contract, function)
    if entry is None or entry.get("stateMutability") in ("view", "pure"):
        raise CallInvalid(
            f"{contract} has no function {function!r} that a transaction can call",
            details={"contract": contract, "function": function},
        )
    inputs = entry["inputs"]
    if len(arguments) != len(inputs):
        names = ", ".join(i["name"] for i in inputs) or "none"
        raise CallInvalid(
            f"{contract}.{function} takes {len(inputs)} arguments ({names}), not {len(arguments)}",
            details={"contract": contract, "function": function},
        )
    values = [
        _value(i["type"], value, i["name"], i.get("components", ()))
        for i, value in zip(inputs, arguments, strict=True)
    ]
    try:
        data = _contract(contract).encode_abi(function, args=values)
    except (TypeError, ValueError, OverflowError, Web3Exception) as exc:
        # web3 names each misfit on a line of its own ("Argument 1 value ... is not
        # compatible with type bytes32"): those lines say what to fix.
        misfits = [line.strip() for line in str(exc).splitlines() if "not compatible" in line]
        reason = "; ".join(misfits) or str(exc).strip()
        raise CallInvalid(
            f"{contract}.{function}: the arguments do not fit: {reason[:300]}",
            details={"contract": contract, "function": function},
        ) from exc
    return address, data


def decode(deployment: Deployment, to: str, data: str | bytes) -> DecodedCall:
    """The call ``data`` makes on the deployment's contract at ``to``, read against its
    committed ABI; ``call_invalid`` when ``to`` is no contract of the deployment or the
    data is no call of its functions."""
    name = contract_at(deployment, to)
    if name is None:
        raise CallInvalid(f"{to} is not one of this marketplace's contracts", details={"to": to})
    try:
        function, params = _contract(name).decode_function_input(HexBytes(data))
    except (ValueError, TypeError, KeyError, DecodingError) as exc:
        # DecodingError (eth-abi's root of InsufficientDataBytes, NonEmptyPaddingBytes…)
        # is no ValueError: a known selector with cut-short arguments raises it.
        raise CallInvalid(
            f"the call data is not a call of the {name} contract", details={"to": to}
        ) from exc
    entry = function.abi
    arguments = tuple(Argument(i["name"], i["type"], params[i["name"]]) for i in entry["inputs"])
    return DecodedCall(name, to_checksum_address(to), entry["name"], arguments)


def _show(
    kind: str, value: Any, name: str, token: Token, deployment: Deployment, sender: str | None
) -> str:
    if isinstance(value, list | tuple) and kind.endswith("]"):
        inner = kind[: kind.rindex("[")]
        items = (_show(inner, v, name, token, deployment, sender) for v in value)
        return "[" + ", ".join(items) + "]"
    if isinstance(value, tuple):
        return "{" + ", ".join(str(v) for v in value) + "}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return token.show(value) if name in AMOUNT_INPUTS else str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if kind == "address" and isinstance(value, str):
        address = to_checksum_address(value)
        if sender is not None and address.lower() == sender.lower():
            return f"your account {address}"
        contract = contract_at(deployment, address)
        return f"{CONTRACT_WORDS[contract]} ({address})" if contract else address
    return str(value)


def _show_dict(
    entry: Mapping[str, Any], value: Any, token: Token, deployment: Deployment, sender: str | None
) -> str:
    """A struct argument (Registry's prices) as ``name value`` pairs."""
    components = entry.get("components") or []
    if isinstance(value, dict):
        value = tuple(value[c["name"]] for c in components)
    parts = [
        f"{c['name']} {_show(c['type'], item, c['name'], token, deployment, sender)}"
        for c, item in zip(components, value, strict=False)
    ]
    return "{" + ", ".join(parts) + "}"


def words(
    call: DecodedCall, token: Token, deployment: Deployment, sender: str | None = None
) -> str:
    """What the call does, in the marketplace's words: ``Allow the marketplace (0x…) to
    spend up to 12.5 DATA``; a call without words of its own is shown as its contract,
    function and named arguments."""
    entry = _function_abi(call.contract, call.function) or {"inputs": []}
    shown = {}
    for spec, argument in zip(entry["inputs"], call.arguments, strict=False):
        if spec["type"] == "tuple":
            shown[argument.name] = _show_dict(spec, argument.value, token, deployment, sender)
        else:
            shown[argument.name] = _show(
                argument.type, argument.value, argument.name, token, deployment, sender
            )
    template = ACTIONS.get((call.contract, call.function))
    if template is not None:
        return template.format(**shown)
    listed = ", ".join(f"{name} {value}" for name, value in shown.items())
    return f"Call {call.function} on {CONTRACT_WORDS[call.contract]} ({listed or 'no arguments'})"


@dataclass(frozen=True)
class SignedTransaction:
    """A signed EIP-1559 transaction, read back: who signed it and what it does."""

    raw: str
    hash: str
    sender: str
    chain_id: int
    nonce: int
    to: str | None
    data: str
    value: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


class TransactionUnreadable(LedgerError, InvalidRequest):
    """Not a signed EIP-1559 transaction (the EIP-2718 envelope of type 2)."""

    code = "transaction_unreadable"
    status = 400


def read_signed(raw: str) -> SignedTransaction:
    """The fields and the recovered sender of a signed raw transaction (0x hex)."""
    from eth_account import Account
    from eth_account.typed_transactions import TypedTransaction  # type: ignore[attr-defined]

    if not _HEX.fullmatch(raw) or len(raw) < 4 or len(raw) % 2:
        raise TransactionUnreadable("the signed transaction is not 0x-prefixed hex")
    blob = bytes.fromhex(raw[2:])
    if blob[0] != 2:
        raise TransactionUnreadable("only EIP-1559 transactions (type 2) are accepted")
    try:
        fields = TypedTransaction.from_bytes(HexBytes(blob)).as_dict()
        sender = Account.recover_transaction(blob)
    except Exception as exc:  # rlp, signature and field errors of several libraries
        raise TransactionUnreadable(
            f"the signed transaction cannot be read: {str(exc)[:200]}"
        ) from exc
    to = fields.get("to")
    return SignedTransaction(
        raw=raw.lower(),
        hash="0x" + Web3.keccak(blob).hex().removeprefix("0x"),
        sender=to_checksum_address(sender),
        chain_id=int(fields["chainId"]),
        nonce=int(fields["nonce"]),
        to=to_checksum_address(to) if to else None,
        data="0x" + bytes(fields.get("data") or b"").hex(),
        value=int(fields.get("value") or 0),
        gas=int(fields["gas"]),
        max_fee_per_gas=int(fields["maxFeePerGas"]),
        max_priority_fee_per_gas=int(fields["maxPriorityFeePerGas"]),
    )


def ether(wei: int) -> str:
    """Wei as the chain's own currency (18 decimals), exact: what gas is paid in."""
    return Token("", "", 18).amount(wei)
