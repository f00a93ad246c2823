"""A scripted chain history for the insight and pricing tests (no tests here).

The history is stored as the indexer stores it: each event's arguments through
``ledger.models.args_to_json`` and its lookup columns through ``lookup_keys``,
with the Market and Registry ABIs, and the events of a purchase in the order the
contract logs them (fee, payouts, then the purchase).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_utils.address import to_checksum_address
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from kraken_market.ledger.contracts import artifact
from kraken_market.ledger.model import purpose_code
from kraken_market.ledger.models import ChainEventRecord, args_to_json, lookup_keys
from kraken_market.trade.models import record_grant
from tests.conftest import Account

ABI = {
    contract: {e["name"]: e["inputs"] for e in artifact(contract).abi if e["type"] == "event"}
    for contract in ("Market", "Registry")
}
ADDRESS = {
    "Market": to_checksum_address("0x" + "11" * 20),
    "Registry": to_checksum_address("0x" + "22" * 20),
}
TREASURY = to_checksum_address("0x" + "33" * 20)
FEE_BPS = 250


def account() -> str:
    return to_checksum_address("0x" + secrets.token_hex(20))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class History:
    """Contract events written to ``chain_events`` as the indexer writes them."""

    def __init__(self, engine: Engine, chain_id: int = 1337) -> None:
        self.engine, self.chain_id = engine, chain_id
        self.block, self.purchases = 1000, 0

    def emit(self, contract: str, name: str, when: datetime, log: int, **args: Any) -> None:
        inputs = ABI[contract][name]
        row = {
            "chain_id": self.chain_id,
            "block_number": self.block,
            "log_index": log,
            "block_time": when,
            "tx_hash": "0x" + f"{self.block:064x}",
            "address": ADDRESS[contract],
            "contract": contract,
            "name": name,
            "args": args_to_json(inputs, args),
            **lookup_keys(inputs, args),
        }
        with self.engine.begin() as connection:
            connection.execute(insert(ChainEventRecord), [row])

    def _distribute(self, item: str, amount: int, purchase: int, when: datetime, log: int,
                    payees: dict[str, int]) -> int:  # fmt: skip
        """``Market._distribute``: fee to the treasury, the rest by weight; the next log index."""
        fee = amount * FEE_BPS // 10_000
        if fee:
            self.emit("Market", "FeePaid", when, log, purchase_id=purchase, treasury=TREASURY,
                      amount=fee)  # fmt: skip
            log += 1
        rest, total, paid = amount - fee, sum(payees.values()), 0
        for i, (payee, weight) in enumerate(payees.items()):
            share = rest - paid if i == len(payees) - 1 else rest * weight // total
            paid += share
            self.emit("Market", "Revenue", when, log, item=bytes.fromhex(item[2:]), payee=payee,
                      purchase_id=purchase, amount=share)  # fmt: skip
            log += 1
        return log

    def _next(self) -> int:
        self.block += 1
        self.purchases += 1
        return self.purchases

    def buy(self, item: str, buyer: str, amount: int, when: datetime, purpose: str = "research",
            payees: dict[str, int] | None = None, seconds: int = 0) -> int:  # fmt: skip
        """An access (or, with ``seconds``, a subscription) bought and paid out at once."""
        purchase = self._next()
        log = self._distribute(item, amount, purchase, when, 0, payees or {account(): 1})
        common = {"item": bytes.fromhex(item[2:]), "buyer": buyer, "purchase_id": purchase,
                  "purpose": purpose_code(purpose), "amount": amount}  # fmt: skip
        if seconds:
            paid_until = int(when.timestamp()) + seconds
            self.emit("Market", "Subscribed", when, log, **common, seconds=seconds,
                      paid_until=paid_until)  # fmt: skip
        else:
            self.emit("Market", "AccessPurchased", when, log, **common)
        return purchase

    def compute(self, items: dict[str, int], buyer: str, when: datetime,
                purpose: str = "research") -> tuple[bytes, int]:  # fmt: skip
        """A computation paid for and held: ``ComputationRequested`` and its items."""
        purchase, request = self._next(), secrets.token_bytes(32)
        ids = tuple(bytes.fromhex(i[2:]) for i in items)
        self.emit("Market", "ComputationRequested", when, 0, request_id=request, buyer=buyer,
                  purchase_id=purchase, function_id=b"\x01" * 32, items=ids,
                  purpose=purpose_code(purpose), result_key_hash=b"\x02" * 32,
                  amount=sum(items.values()), deadline=int(when.timestamp()) + 3600)  # fmt: skip
        for log, (item, amount) in enumerate(items.items(), start=1):
            self.emit("Market", "ComputationItem", when, log, item=bytes.fromhex(item[2:]),
                      request_id=request, amount=amount)  # fmt: skip
        return request, purchase

    def deliver(self, request: tuple[bytes, int], items: dict[str, int], when: datetime,
                payees: dict[str, dict[str, int]] | None = None) -> None:  # fmt: skip
        """The attestation that pays a held computation out, item by item."""
        self.block += 1
        log = 0
        for item, amount in items.items():
            owners = (payees or {}).get(item) or {account(): 1}
            log = self._distribute(item, amount, request[1], when, log, owners)
        self.emit("Market", "ComputationPaid", when, log, request_id=request[0],
                  amount=sum(items.values()))  # fmt: skip

    def reclaim(self, request: tuple[bytes, int], buyer: str, amount: int, when: datetime) -> None:
        self.block += 1
        self.emit("Market", "ComputationReclaimed", when, 0, request_id=request[0], buyer=buyer,
                  amount=amount)  # fmt: skip

    def refund(self, request: tuple[bytes, int], buyer: str, amount: int, when: datetime) -> None:
        """A compute node refused the held computation: the buyer refunded at once."""
        self.block += 1
        self.emit("Market", "ComputationRefused", when, 0, request_id=request[0], buyer=buyer,
                  node=account(), reason=b"envelope_tampered".ljust(32, b"\0"),
                  amount=amount)  # fmt: skip

    def union(self, union: str, members: dict[str, int], when: datetime) -> None:
        """A union proposed and activated: its members and weights in chain order."""
        self.block += 1
        ids = tuple(bytes.fromhex(m[2:]) for m in members)
        self.emit("Registry", "UnionProposed", when, 0, union_id=bytes.fromhex(union[2:]),
                  proposer=account(), members=ids, weights=tuple(members.values()))  # fmt: skip
        self.emit("Registry", "UnionCreated", when, 1, union_id=bytes.fromhex(union[2:]))
        for log, (member, weight) in enumerate(members.items(), start=2):
            self.emit("Registry", "UnionMemberAdded", when, log,
                      product_id=bytes.fromhex(member[2:]), union_id=bytes.fromhex(union[2:]),
                      weight=weight)  # fmt: skip


def granted(engine: Engine, item: str, buyer: str, categories: set[str], purpose: str,
            when: datetime) -> None:  # fmt: skip
    """The record GrantService writes after the chain accepted a grant."""
    with Session(engine) as session:
        record_grant(session, item=item, account=buyer, buyer_categories=frozenset(categories),
                     purpose=purpose, granted_at=when, expiry=when + timedelta(days=30),
                     tx_hash="0x" + "ab" * 32)  # fmt: skip


def insight(owner: Account, product: str, **params: str) -> dict[str, Any]:
    answer = owner.api.http.get(f"/api/v1/products/{product}/insight", params=params)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def money(gross: int, net: int) -> dict[str, str]:
    return {"gross": str(gross), "net": str(net)}


def net_of(amount: int) -> int:
    return amount - amount * FEE_BPS // 10_000
