"""What a node reads on chain before it touches any share of a job.

For request id r (``Market.computations(r)`` and its purchase record):

1. the computation request exists (else ``computation_unknown``);
2. its payment is *held*: paid by the buyer, not yet paid out, not reclaimed,
   not refunded (``payment_not_held`` / ``computation_closed``), and the chain's clock is
   before its deadline (``computation_expired``: after it, the buyer may
   reclaim the payment);
3. the job is what was paid for: the spec's digest is the request's
   ``function_id``, SHA-256 of the buyer's result key is its
   ``result_key_hash``, and the products are exactly those the purchased items
   cover (a union item covers its members) (``request_mismatch``);
4. the buyer holds a valid grant for every item, for the purpose recorded in
   the purchase (``grant_missing``), now, not only when it paid.

The chain is reached through :class:`ChainView` (the ledger client behind an
adapter), so tests inject the in-process chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kraken_market.ledger.client import Ledger, as_bytes32
from kraken_market.ledger.model import (
    ComputationRecord,
    PaymentStatus,
    PurchaseRecord,
    Refusal,
)
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.node.errors import (
    CohortBelowFloor,
    ComputationClosed,
    ComputationExpired,
    ComputationUnknown,
    GrantMissing,
    PaymentNotHeld,
    RequestMismatch,
)


class ChainView(Protocol):
    """The reads and the one write a compute node needs."""

    @property
    def account(self) -> str: ...

    def computation(self, request_id: str) -> ComputationRecord | None: ...

    def purchase(self, purchase_id: int) -> PurchaseRecord | None: ...

    def members(self, item: bytes) -> list[bytes] | None: ...

    def has_grant(self, buyer: str, item: bytes, purpose: int) -> bool: ...

    def now(self) -> int: ...

    def attest(self, request_id: str, commitment: bytes) -> str: ...

    def attestation(self, request_id: str, node_account: str) -> bytes: ...

    def refuse(self, request_id: str, reason: str) -> str:
        """Refuse the held computation (``smpc.node.refusal``); the transaction hash."""
        ...

    def refusal(self, request_id: str) -> Refusal | None: ...

    def product_owner(self, item: bytes) -> str | None: ...

    def paid_until(self, buyer: str, item: bytes) -> int: ...

    def registered_nodes(self) -> list[tuple[str, str]]:
        """(account, endpoint) of every compute node an admin registered."""
        ...

    def sign(self, text: str) -> str:
        """This node's EIP-191 signature of ``text`` (hex), for the other nodes."""
        ...


class LedgerChain:
    """:class:`ChainView` over the typed ledger client."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    @property
    def account(self) -> str:
        return self.ledger.address

    def computation(self, request_id: str) -> ComputationRecord | None:
        return self.ledger.computation(request_id)

    def purchase(self, purchase_id: int) -> PurchaseRecord | None:
        return self.ledger.purchase(purchase_id)

    def members(self, item: bytes) -> list[bytes] | None:
        union = self.ledger.union(item)
        return None if union is None else list(union["members"])

    def has_grant(self, buyer: str, item: bytes, purpose: int) -> bool:
        return self.ledger.has_grant(buyer, item, purpose)

    def now(self) -> int:
        return int(self.ledger.w3.eth.get_block("latest")["timestamp"])

    def attest(self, request_id: str, commitment: bytes) -> str:
        return self.ledger.attest(request_id, commitment).tx_hash

    def refuse(self, request_id: str, reason: str) -> str:
        return self.ledger.refuse(request_id, reason).tx_hash

    def refusal(self, request_id: str) -> Refusal | None:
        return self.ledger.refusal(request_id)

    def attestation(self, request_id: str, node_account: str) -> bytes:
        market = self.ledger.contracts["Market"]
        value = market.functions.attestations(as_bytes32(request_id), node_account).call()
        return bytes(value)

    def product_owner(self, item: bytes) -> str | None:
        """The product's current owner (key custody: only it may deposit and have keys
        released); None if no such product."""
        product = self.ledger.product(item)
        return None if product is None else product.owner

    def paid_until(self, buyer: str, item: bytes) -> int:
        """When the buyer's stream subscription to ``item`` ends (0: never subscribed)."""
        return self.ledger.paid_until(buyer, item)

    def registered_nodes(self) -> list[tuple[str, str]]:
        return [(node.account, node.endpoint) for node in self.ledger.nodes()]

    def sign(self, text: str) -> str:
        from eth_account.messages import encode_defunct

        signed = self.ledger.account.sign_message(encode_defunct(text=text))
        return "0x" + bytes(signed.signature).hex()


@dataclass(frozen=True)
class Authorisation:
    record: ComputationRecord
    purpose: int
    items: tuple[bytes, ...]


def authorise(
    chain: ChainView,
    request_id: str,
    spec: ComputationSpec,
    products: Sequence[str],
    result_public_key: bytes,
    *,
    min_cohort_floor: int,
) -> Authorisation:
    """The on-chain facts that allow this job, or the refusal (see the module docstring)."""
    if spec.min_cohort < min_cohort_floor:
        raise CohortBelowFloor(
            f"this node computes only over at least {min_cohort_floor} rows "
            f"(min_cohort {spec.min_cohort} asked)"
        )
    record = chain.computation(request_id)
    if record is None:
        raise ComputationUnknown(f"no computation request {request_id} on chain")
    if record.status == PaymentStatus.PAID:
        raise ComputationClosed(f"{request_id} was delivered and paid out already")
    if record.status == PaymentStatus.REFUNDED:
        refusal = chain.refusal(request_id)
        why = "" if refusal is None else f" ({refusal.reason}, by node {refusal.node})"
        raise PaymentNotHeld(
            f"a compute node refused {request_id}{why} and the buyer was refunded at once",
            details={"payment": "refunded"},
        )
    if record.status != PaymentStatus.HELD:
        raise PaymentNotHeld(
            f"the payment for {request_id} is {record.status.name.lower()}",
            details={"payment": record.status.name.lower()},
        )
    if chain.now() > record.deadline:
        raise ComputationExpired(
            f"{request_id} passed its deadline on chain; the buyer may reclaim"
        )
    purchase = chain.purchase(record.purchase_id)
    if purchase is None:  # pragma: no cover - the contract records both together
        raise ComputationUnknown(f"no purchase record for {request_id}")
    if record.function_id != spec.digest():
        raise RequestMismatch("the computation differs from the one paid for (function_id)")
    if record.result_key_hash != hashlib.sha256(result_public_key).digest():
        raise RequestMismatch("the result key is not the one named in the paid request")
    covered: set[bytes] = set()
    for item in purchase.items:
        covered.update(chain.members(item) or [item])
    asked = {as_bytes32(p) for p in products}
    if asked != covered or len(asked) != len(products):
        raise RequestMismatch("the products differ from those the request paid for")
    for item in purchase.items:
        if not chain.has_grant(record.buyer, item, purchase.purpose):
            raise GrantMissing(
                f"the buyer {record.buyer} holds no valid grant for 0x{item.hex()} "
                f"(purpose {purchase.purpose})"
            )
    return Authorisation(record, purchase.purpose, purchase.items)
