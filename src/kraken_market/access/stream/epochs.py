"""Epochs: the publisher's key schedule, and the key custody interfaces on both sides.

A stream is encrypted under a sequence of *epoch keys*: each is 256 fresh
random bits (``secrets``, the OS CSPRNG), used for one epoch only, and
replaced after ``seconds`` of wall time or ``messages`` messages, whichever
comes first. Rotation bounds what a subscriber can read: the compute nodes
hand out an epoch's key only to buyers whose paid time (``Market.paid_until``
on chain) covers that epoch, so a subscription that ends stops decrypting at
the next rotation at the latest (the stream's enforcement with NATS, where no
server checks payment).

Before a new key encrypts anything it is deposited with the key custody
(``EpochKeyCustody.deposit``: Shamir-shared to the compute nodes, so the seller
need not be online when someone subscribes). A deposit that fails leaves no
epoch open: nothing is ever published under a key nobody could fetch, and
the next attempt uses a new key and a new epoch number (the failed deposit may
have reached some nodes, and an epoch number is never given two keys).
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from kraken_market.access.stream.errors import EpochScheduleInvalid
from kraken_market.access.stream.messages import FIELD_MAX, KEY_BYTES

MAX_MESSAGES_PER_EPOCH = 2**32
"""At most this many messages under one key (the nonce's counter never comes near wrapping)."""


class EpochKeyCustody(Protocol):
    """Where the seller's publisher deposits each epoch key (the compute nodes)."""

    def deposit(self, item: bytes, epoch: int, key: bytes, not_before: int) -> None:
        """Keep ``key`` of ``epoch`` of product ``item``; release it to subscribers whose
        paid time covers ``not_before`` (unix seconds, when the epoch starts)."""
        ...


class EpochKeySource(Protocol):
    """Where a subscriber fetches epoch keys (threshold recombination of node shares)."""

    def key_for(self, item: bytes, epoch: int) -> bytes:
        """The 32-byte key of ``epoch`` of product ``item``. Raises
        :class:`~kraken_market.access.stream.errors.EpochKeyDenied`, or a
        ``PaymentRequired`` error (``subscription_expired``, ``not_paid``...), when the
        subscriber is not entitled to it."""
        ...


def new_epoch_key() -> bytes:
    """A fresh AES-256 key from the OS CSPRNG."""
    return secrets.token_bytes(KEY_BYTES)


@dataclass(frozen=True)
class EpochSchedule:
    """When the publisher rotates: after ``seconds`` or ``messages``, whichever first
    (``None`` disables that rule; at least one must be set)."""

    seconds: float | None = 3600.0
    messages: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is None and self.messages is None:
            raise EpochScheduleInvalid("rotate by time, by count, or both: not by neither")
        if self.seconds is not None and not (math.isfinite(self.seconds) and self.seconds > 0):
            raise EpochScheduleInvalid(
                "an epoch lasts a positive, finite number of seconds",
                details={"seconds": self.seconds},
            )
        if self.messages is not None and not 1 <= self.messages <= MAX_MESSAGES_PER_EPOCH:
            raise EpochScheduleInvalid(
                f"an epoch carries 1 to {MAX_MESSAGES_PER_EPOCH} messages",
                details={"messages": self.messages},
            )

    def due(self, epoch: Epoch, now: float) -> bool:
        """Whether ``epoch`` must be replaced before the next message (sent at ``now``)."""
        if epoch.messages >= min(self.messages or MAX_MESSAGES_PER_EPOCH, MAX_MESSAGES_PER_EPOCH):
            return True
        return self.seconds is not None and now - epoch.started >= self.seconds


@dataclass
class Epoch:
    """The publisher's open epoch."""

    number: int
    key: bytes = field(repr=False)
    started: float
    messages: int = 0


class EpochRotation:
    """The publisher's current epoch of one product: opens the next one when the
    schedule says so, depositing its key first.

    An epoch's number is the unix millisecond it opened at, or one more than the
    previous number if that is not larger: numbers only grow, and a restarted
    publisher never gives an epoch number a second key even when the transport
    no longer holds its last frame (NATS drops frames by age). ``skip_to`` raises
    the floor to what the transport shows.
    """

    def __init__(
        self,
        item: bytes,
        custody: EpochKeyCustody,
        schedule: EpochSchedule,
        *,
        next_number: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.item = item
        self.custody = custody
        self.schedule = schedule
        self.clock = clock
        self.next_number = next_number
        self.epoch: Epoch | None = None

    def due(self, now: float) -> bool:
        return self.epoch is None or self.schedule.due(self.epoch, now)

    def rotate(self, now: float) -> Epoch:
        """Open a new epoch at ``now``: a fresh key, deposited before it is returned."""
        number = max(self.next_number, int(now * 1000))
        if number > FIELD_MAX:
            raise EpochScheduleInvalid("the stream has used every epoch number")
        self.epoch = None  # the old key is never used again, whatever happens next
        self.next_number = number + 1
        key = new_epoch_key()
        self.custody.deposit(self.item, number, key, int(now))
        self.epoch = Epoch(number=number, key=key, started=now)
        return self.epoch

    def current(self) -> Epoch:
        """The epoch the next message goes out in (rotating first if due)."""
        now = self.clock()
        if self.epoch is None or self.schedule.due(self.epoch, now):
            return self.rotate(now)
        return self.epoch

    def retire(self) -> None:
        """Forget the open epoch (after a failed send): the next message opens a new one."""
        self.epoch = None

    def skip_to(self, number: int) -> None:
        """Never use an epoch number below ``number`` (seen on the transport)."""
        self.next_number = max(self.next_number, number)
