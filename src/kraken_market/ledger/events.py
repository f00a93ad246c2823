"""Typed domain events: the contract events fulfilment and the catalog act on.

Each is a frozen dataclass named as its contract event, with ids as ``0x`` hex
(like the catalog's) and codes as the enums of ``ledger.model``;
:data:`DOMAIN_EVENTS` maps event names to them. The indexer hands them out
through :meth:`kraken_market.ledger.indexer.IndexedEvent.typed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any, ClassVar, TypeVar, get_type_hints

from kraken_market.ledger.model import (
    Address,
    AvailabilityCode,
    ModeCode,
    Prices,
    RefusalCode,
    refusal_code,
)
from kraken_market.types import ProductId


@dataclass(frozen=True)
class DomainEvent:
    """A contract event as a typed value; ``contract`` names the contract emitting it."""

    contract: ClassVar[str]


@dataclass(frozen=True)
class ProductPublished(DomainEvent):
    contract: ClassVar[str] = "Registry"
    product_id: ProductId
    owner: Address
    metadata_hash: str
    policy_hash: str
    mode: ModeCode
    prices: Prices
    parents: tuple[ProductId, ...]
    stake: int


@dataclass(frozen=True)
class AvailabilityChanged(DomainEvent):
    contract: ClassVar[str] = "Registry"
    product_id: ProductId
    availability: AvailabilityCode


@dataclass(frozen=True)
class OwnershipTransferred(DomainEvent):
    contract: ClassVar[str] = "Registry"
    product_id: ProductId
    previous_owner: Address
    owner: Address


@dataclass(frozen=True)
class UnionCreated(DomainEvent):
    contract: ClassVar[str] = "Registry"
    union_id: ProductId


@dataclass(frozen=True)
class Granted(DomainEvent):
    contract: ClassVar[str] = "Market"
    item: ProductId
    buyer: Address
    purpose: int
    expiry: int


@dataclass(frozen=True)
class GrantRevoked(DomainEvent):
    contract: ClassVar[str] = "Market"
    item: ProductId
    buyer: Address
    purpose: int


@dataclass(frozen=True)
class AccessPurchased(DomainEvent):
    """The payment notification of a batch product or union."""

    contract: ClassVar[str] = "Market"
    item: ProductId
    buyer: Address
    purchase_id: int
    purpose: int
    amount: int


@dataclass(frozen=True)
class Subscribed(DomainEvent):
    """The payment notification of a stream: access until ``paid_until`` (unix time)."""

    contract: ClassVar[str] = "Market"
    item: ProductId
    buyer: Address
    purchase_id: int
    purpose: int
    seconds: int
    paid_until: int
    amount: int


@dataclass(frozen=True)
class ComputationRequested(DomainEvent):
    """The payment notification of an analytics request (held until attested)."""

    contract: ClassVar[str] = "Market"
    request_id: str
    buyer: Address
    purchase_id: int
    function_id: str
    items: tuple[ProductId, ...]
    purpose: int
    result_key_hash: str
    amount: int
    deadline: int


@dataclass(frozen=True)
class Attested(DomainEvent):
    contract: ClassVar[str] = "Market"
    request_id: str
    node: Address
    result_commitment: str


@dataclass(frozen=True)
class ComputationPaid(DomainEvent):
    contract: ClassVar[str] = "Market"
    request_id: str
    amount: int


@dataclass(frozen=True)
class ComputationReclaimed(DomainEvent):
    contract: ClassVar[str] = "Market"
    request_id: str
    buyer: Address
    amount: int


@dataclass(frozen=True)
class ComputationRefused(DomainEvent):
    """A compute node refused a held computation for a reason the buyer did not cause;
    ``amount`` went back to the buyer in the same transaction."""

    contract: ClassVar[str] = "Market"
    request_id: str
    buyer: Address
    node: Address
    reason: RefusalCode
    amount: int


@dataclass(frozen=True)
class Approved(DomainEvent):
    contract: ClassVar[str] = "Market"
    product_id: ProductId
    buyer: Address
    purchase_id: int


@dataclass(frozen=True)
class StakeLocked(DomainEvent):
    contract: ClassVar[str] = "Market"
    product_id: ProductId
    owner: Address
    amount: int


@dataclass(frozen=True)
class StakeReleased(DomainEvent):
    contract: ClassVar[str] = "Market"
    product_id: ProductId
    owner: Address
    amount: int


@dataclass(frozen=True)
class ClaimFiled(DomainEvent):
    contract: ClassVar[str] = "Market"
    product_id: ProductId
    claimant: Address
    purchase_id: int
    bond: int
    evidence_hash: str


@dataclass(frozen=True)
class ClaimRuled(DomainEvent):
    contract: ClassVar[str] = "Market"
    product_id: ProductId
    arbiter: Address
    purchase_id: int
    upheld: bool
    refund: int
    slashed: int


DOMAIN_EVENTS: dict[str, type[DomainEvent]] = {
    cls.__name__: cls
    for cls in (
        ProductPublished,
        AvailabilityChanged,
        OwnershipTransferred,
        UnionCreated,
        Granted,
        GrantRevoked,
        AccessPurchased,
        Subscribed,
        ComputationRequested,
        Attested,
        ComputationPaid,
        ComputationReclaimed,
        ComputationRefused,
        Approved,
        StakeLocked,
        StakeReleased,
        ClaimFiled,
        ClaimRuled,
    )
}
"""Event name -> its typed form, for the events fulfilment and the catalog act on."""

E = TypeVar("E", bound=DomainEvent)


_HINTS: dict[type[DomainEvent], dict[str, Any]] = {}


def _hints(cls: type[DomainEvent]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _domain_value(hint: Any, value: Any) -> Any:
    if hint is RefusalCode:
        return RefusalCode(refusal_code(bytes(value)))
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple):
        return tuple(_domain_value(None, item) for item in value)
    if hint is Prices:
        return Prices(**value)
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return hint(value)
    return value


def _typed(cls: type[E], args: Mapping[str, Any]) -> E:
    hints = _hints(cls)
    return cls(**{f.name: _domain_value(hints[f.name], args[f.name]) for f in fields(cls)})
