"""What the contracts store, as typed Python values.

Codes are the contracts' small integers; the names are the catalog's
vocabulary (``kraken_market.catalog.vocabulary``), so a grant or a purchase
means the same thing on and off chain. Purpose codes are the index of the
purpose in that vocabulary, which is append-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, NewType

from kraken_market.catalog.vocabulary import AccessMode, Availability, Purpose

Address = str
"""A checksummed 0x-address."""


class ModeCode(IntEnum):
    BATCH = 1
    STREAM = 2
    ANALYTICS = 3

    @classmethod
    def of(cls, mode: AccessMode) -> ModeCode:
        return cls[mode.name]

    @property
    def mode(self) -> AccessMode:
        return AccessMode[self.name]


class AvailabilityCode(IntEnum):
    LISTED = 1
    PAUSED = 2
    RETIRED = 3
    DELISTED = 4

    @classmethod
    def of(cls, availability: Availability) -> AvailabilityCode:
        return cls[availability.name]


class StakeStatus(IntEnum):
    NONE = 0
    LOCKED = 1
    RELEASED = 2
    SLASHED = 3


class PurchaseKind(IntEnum):
    ACCESS = 1
    SUBSCRIPTION = 2
    COMPUTATION = 3


class ClaimStatus(IntEnum):
    NONE = 0
    OPEN = 1
    UPHELD = 2
    REJECTED = 3


class PaymentStatus(IntEnum):
    NONE = 0
    HELD = 1
    PAID = 2
    RECLAIMED = 3
    REFUNDED = 4
    """A compute node refused the computation for a reason the buyer did not cause:
    the held amount went back to the buyer at once (``Market.refuse``)."""


PURPOSE_CODES: dict[Purpose, int] = {purpose: i for i, purpose in enumerate(Purpose)}


def purpose_code(purpose: Purpose | str) -> int:
    return PURPOSE_CODES[Purpose(purpose)]


def purpose_of(code: int) -> Purpose | None:
    members = list(Purpose)
    return members[code] if 0 <= code < len(members) else None


@dataclass(frozen=True)
class Prices:
    """Prices in base units of the token (``Ledger.token()``); only the product's mode's are set."""

    access: int = 0
    subscription_per_second: int = 0
    subscription_min_seconds: int = 0
    computation: int = 0

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (
            self.access,
            self.subscription_per_second,
            self.subscription_min_seconds,
            self.computation,
        )

    @classmethod
    def from_tuple(cls, value: Any) -> Prices:
        return cls(*(int(part) for part in value))


@dataclass(frozen=True)
class ProductOnChain:
    product_id: bytes
    owner: Address
    pending_owner: Address | None
    metadata_hash: bytes
    policy_hash: bytes
    mode: ModeCode
    availability: AvailabilityCode
    prices: Prices
    published_at: int
    parents: tuple[bytes, ...]


@dataclass(frozen=True)
class Stake:
    amount: int
    status: StakeStatus
    open_claims: int
    price_floor: int = 0
    """The least a purchase must have paid to approve the product (its list price when
    it was published)."""
    release_at: int = 0
    """0 until the first real approval; then the chain time from which the stake may
    be released to the owner (``release_stake``), unless a claim is open."""


@dataclass(frozen=True)
class PurchaseRecord:
    purchase_id: int
    buyer: Address
    kind: PurchaseKind
    purpose: int
    amount: int
    time: int
    items: tuple[bytes, ...]


@dataclass(frozen=True)
class ClaimRecord:
    purchase_id: int
    product_id: bytes
    claimant: Address
    bond: int
    evidence_hash: bytes
    status: ClaimStatus


@dataclass(frozen=True)
class ComputationRecord:
    request_id: bytes
    buyer: Address
    purchase_id: int
    function_id: bytes
    result_key_hash: bytes
    amount: int
    deadline: int
    attestations: int
    status: PaymentStatus


REFUSAL_REASON_BYTES = 32
RefusalCode = NewType("RefusalCode", str)
"""A compute node's error code, carried on chain as a ``bytes32`` refusal reason."""


def refusal_reason(code: str) -> bytes:
    """A node's error code as the ``bytes32`` reason of ``Market.refuse``: ASCII,
    zero-padded, so the chain and every event reader show the code itself."""
    raw = code.encode("ascii")
    if not raw or len(raw) > REFUSAL_REASON_BYTES:
        raise ValueError(f"a refusal reason is 1-32 ASCII characters, not {code!r}")
    return raw.ljust(REFUSAL_REASON_BYTES, b"\x00")


def refusal_code(reason: bytes) -> RefusalCode:
    """The code in a ``bytes32`` refusal reason (the inverse of :func:`refusal_reason`)."""
    return RefusalCode(reason.rstrip(b"\x00").decode("ascii", errors="replace"))


@dataclass(frozen=True)
class Refusal:
    """Why and by whom a held computation was refused and refunded (``Market.refusals``)."""

    request_id: bytes
    node: Address
    reason: RefusalCode
    """The node's error code (``refusal_code``)."""
    block_number: int
    tx_hash: str | None = None
    """The transaction that refunded the buyer (from its ``ComputationRefused`` event)."""


@dataclass(frozen=True)
class Node:
    account: Address
    hpke_public_key: bytes
    endpoint: str


@dataclass(frozen=True)
class Parameters:
    """The market's terms, set by the admin (``Authority.set_parameters``)."""

    treasury: Address
    fee_bps: int = 250
    min_stake: int = 0
    claim_window: int = 7 * 86400
    claim_bond: int = 10 * 10**18
    """In base units: 10 DATA of DataToken (18 decimals); deployers of another token
    give it in that token's units (``ledger.deploy.token_units``)."""
    computation_deadline: int = 3600
    attestations_required: int = 2

    def as_args(self) -> tuple[Any, ...]:
        return (
            self.treasury,
            self.fee_bps,
            self.min_stake,
            self.claim_window,
            self.claim_bond,
            self.computation_deadline,
            self.attestations_required,
        )


@dataclass(frozen=True)
class Receipt:
    """A mined, successful transaction and the events it emitted."""

    tx_hash: str
    block_number: int
    gas_used: int
    events: tuple[ChainEvent, ...]
    contract_address: str | None = None

    def first(self, name: str) -> ChainEvent:
        for event in self.events:
            if event.name == name:
                return event
        raise LookupError(f"the transaction emitted no {name} event")


@dataclass(frozen=True)
class ChainEvent:
    """One decoded contract event, located on chain."""

    name: str
    contract: str
    args: dict[str, Any]
    block_number: int
    tx_hash: str
    log_index: int
