"""Golden vectors of the ledger side: Ethereum signatures (eth-account), contract call
data, DID-account bindings and DATA amounts (see tests/web/golden.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from kraken_market.errors import KrakenError
from kraken_market.identity import binding
from kraken_market.identity.keys import DidKey
from kraken_market.ledger.amounts import format_amount, parse_amount
from kraken_market.types import UINT256_MAX

Seed = Callable[[str], bytes]
AUDIENCE = "https://market.example"
CHAIN_ID = 31337
SPENDER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

TYPED_DATA: dict[str, Any] = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        "PriceChange": [
            {"name": "product", "type": "bytes32"},
            {"name": "price", "type": "uint256"},
            {"name": "note", "type": "string"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ],
    },
    "primaryType": "PriceChange",
    "domain": {
        "name": "Kraken Market",
        "version": "1",
        "chainId": CHAIN_ID,
        "verifyingContract": SPENDER,
    },
    "message": {
        "product": "0x" + "ab" * 32,
        "price": 1_500_000_000_000_000_000,
        "note": "prix réduit ✓",
        "nonce": 3,
        "deadline": 1_796_126_400,
    },
}


def _call_data(signature: str, types: list[str], args: list[Any]) -> str:
    from eth_abi.abi import encode
    from eth_utils.abi import function_signature_to_4byte_selector

    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, args)).hex()


def eth(seed: Seed) -> dict[str, Any]:
    from eth_account import Account
    from eth_account.messages import encode_defunct, encode_typed_data
    from eth_utils.address import to_checksum_address

    account = Account.from_key(seed("eth account"))
    messages = ["hello", "", "Zoë ✓ 🦑", "a.b.c" * 40]
    approve = _call_data("approve(address,uint256)", ["address", "uint256"], [SPENDER, 10**18])
    transactions: list[dict[str, Any]] = [
        {"to": SPENDER, "value": 10**18, "data": "0x", "nonce": 0, "gas": 21_000},
        {"to": SPENDER, "value": 0, "data": approve, "nonce": 7, "gas": 100_000},
    ]
    signed_transactions = []
    for tx in transactions:
        full = {
            "type": 2,
            "chainId": CHAIN_ID,
            "maxFeePerGas": 2_000_000_000,
            "maxPriorityFeePerGas": 1_000_000_000,
            "accessList": [],
            **tx,
        }
        signed = account.sign_transaction(full)
        signed_transactions.append(
            {
                "transaction": {**full, "value": str(full["value"])},
                "raw": "0x" + bytes(signed.raw_transaction).hex(),
                "hash": "0x" + bytes(signed.hash).hex(),
            }
        )
    typed = account.sign_message(encode_typed_data(full_message=TYPED_DATA))
    typed_message = {**TYPED_DATA["message"], "price": str(TYPED_DATA["message"]["price"])}
    lower = ["0x" + seed(n)[:20].hex() for n in ("a1", "a2")] + [SPENDER.lower()]
    return {
        "private_key": "0x" + account.key.hex(),
        "address": account.address,
        "personal_sign": [
            {
                "message": m,
                "signature": "0x"
                + bytes(account.sign_message(encode_defunct(text=m)).signature).hex(),
            }
            for m in messages
        ],
        "personal_sign_raw": [
            {
                "message": "0x" + raw.hex(),
                "signature": "0x"
                + bytes(account.sign_message(encode_defunct(primitive=raw)).signature).hex(),
            }
            for raw in (bytes(range(40)), b"\xff" * 3)
        ],
        "typed_data": {
            "data": {**TYPED_DATA, "message": typed_message},
            "signature": "0x" + bytes(typed.signature).hex(),
        },
        "transactions": signed_transactions,
        "checksum": [{"lower": a, "checksum": to_checksum_address(a)} for a in lower],
        "call_data": [
            {
                "contract": "DataToken",
                "function": "approve",
                "args": [SPENDER, str(10**18)],
                "data": approve,
            },
            {
                "contract": "DataToken",
                "function": "transfer",
                "args": [SPENDER, "0"],
                "data": _call_data(
                    "transfer(address,uint256)", ["address", "uint256"], [SPENDER, 0]
                ),
            },
        ],
    }


def bindings(did_key: Callable[[str], DidKey], seed: Seed, now: datetime) -> dict[str, Any]:
    from eth_account import Account

    holder, account = did_key("alice"), Account.from_key(seed("eth account"))
    cases = []
    for service in (None, "https://depute.example/api"):
        made = binding.bind(holder, account, audience=AUDIENCE, now=now, service=service)
        cases.append(
            {
                "did_seed": holder.seed.hex(),
                "account_key": "0x" + account.key.hex(),
                "audience": AUDIENCE,
                "now": int(now.timestamp()),
                "service": service,
                "did": made.did,
                "account": made.account,
                "jws": made.jws,
                "account_signature": made.account_signature,
            }
        )
    return {"cases": cases}


def _outcome(call: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"result": call()}
    except KrakenError as exc:
        return {"error": exc.code, "message": exc.message}
    except ValueError as exc:
        return {"error": "value_error", "message": str(exc)}


PARSE = [
    ("5", 18),
    ("0.25", 18),
    ("1.50", 6),
    (" 4.5 ", 18),
    (".5", 18),
    ("5.", 18),
    ("0", 18),
    ("000123.4500", 6),
    ("0.000001", 6),
    ("1", 0),
    ("\u00a07\u2003", 2),
    ("1", 77),
    (format_amount(UINT256_MAX, 18), 18),
    (str(UINT256_MAX), 0),
    ("-1", 18),
    ("-0.5", 18),
    ("-", 18),
    ("1e5", 18),
    ("NaN", 18),
    ("Infinity", 18),
    ("1,000", 18),
    ("", 18),
    (".", 18),
    ("+1", 18),
    ("1.2.3", 18),
    ("0x10", 18),
    ("0.0000001", 6),
    ("1.5", 0),
    ("٣", 18),
    ("5 DATA", 18),
    ("it's", 18),
    ('say "hi"', 18),
    ("1" * 50 + "x", 18),
    (str(UINT256_MAX + 1), 0),
    ("1" * 100, 18),
    (format_amount(UINT256_MAX, 18) + "1", 18),
    ("1", 78),
    ("1", -1),
]
FORMAT = [
    (0, 18),
    (1, 18),
    (1_500_000, 6),
    (10**18, 18),
    (UINT256_MAX, 18),
    (UINT256_MAX, 0),
    (5, 77),
    (123, 0),
    (120, 1),
    (-1, 18),
    (1, 78),
]


def _parsed(text: str, decimals: int) -> str:
    return str(parse_amount(text, decimals, what="--price"))


def amounts() -> dict[str, Any]:
    return {
        "parse": [
            {
                "text": t,
                "decimals": d,
                "what": "--price",
                "symbol": "DATA",
                **_outcome(partial(_parsed, t, d)),
            }
            for t, d in PARSE
        ],
        "format": [
            {"units": str(u), "decimals": d, **_outcome(partial(format_amount, u, d))}
            for u, d in FORMAT
        ],
    }
