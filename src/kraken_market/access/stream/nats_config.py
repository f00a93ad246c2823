"""JetStream configuration of the NATS transport: per-product limits, stream and
consumer settings, and the names NATS accepts.

Limits come from the same settings as the relay's retention (``Settings.
stream_retention_messages``, ``stream_retention_seconds``,
``stream_max_frame_bytes``), so a stream keeps the same window on either
transport. Streams are file-backed and discard the oldest frames at a limit;
consumers acknowledge explicitly. A durable consumer idle for
``consumer_idle`` seconds, an ephemeral one for ``EPHEMERAL_IDLE``, is
removed by the server itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.js.api import ConsumerConfig, DeliverPolicy, DiscardPolicy, StorageType, StreamConfig

from kraken_market.errors import InvalidRequest
from kraken_market.settings import Settings

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EPHEMERAL_IDLE = 60.0
DUPLICATE_WINDOW = 120.0
"""Seconds within which a frame published twice (same ``Nats-Msg-Id``) is stored once."""


@dataclass(frozen=True)
class NatsLimits:
    """Per-product JetStream limits, and how long an idle durable consumer lives."""

    max_msgs: int = 10_000
    max_age: float = 7 * 86_400.0
    max_msg_size: int = 262_144
    max_bytes: int = 2**30
    consumer_idle: float = 86_400.0

    @classmethod
    def from_settings(cls, settings: Settings) -> NatsLimits:
        return cls(
            max_msgs=settings.stream_retention_messages,
            max_age=float(settings.stream_retention_seconds),
            max_msg_size=settings.stream_max_frame_bytes,
        )


def check_name(what: str, name: str | None) -> None:
    """Consumer names and subject prefixes: no dots, wildcards or spaces in NATS."""
    if name is not None and not _NAME.fullmatch(name):
        raise InvalidRequest(f"a NATS {what} name is 1-64 of A-Z a-z 0-9 _ -: {name!r}")


def stream_config(name: str, subject: str, limits: NatsLimits) -> StreamConfig:
    return StreamConfig(
        name=name,
        subjects=[subject],
        max_msgs=limits.max_msgs,
        max_age=limits.max_age,
        max_bytes=limits.max_bytes,
        max_msg_size=limits.max_msg_size,
        discard=DiscardPolicy.OLD,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW,
    )


def consumer_config(
    from_seq: int | None, from_time: float | None, limits: NatsLimits, *, durable: bool
) -> ConsumerConfig:
    """Where a new consumer starts: a sequence number (the stream's equals the frame's),
    a time, or the beginning. An existing durable consumer resumes instead."""
    config = ConsumerConfig(inactive_threshold=limits.consumer_idle if durable else EPHEMERAL_IDLE)
    if from_seq is not None and from_seq > 1:
        config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, from_seq
    elif from_time is not None:
        config.deliver_policy = DeliverPolicy.BY_START_TIME
        config.opt_start_time = datetime.fromtimestamp(from_time, UTC)
    return config
