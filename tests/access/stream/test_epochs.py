"""The publisher's epoch schedule: rotation by count and by time (injected clock), keys
deposited before use, never a key or an epoch number twice."""

from __future__ import annotations

import math

import pytest

from kraken_market.access.stream.epochs import (
    MAX_MESSAGES_PER_EPOCH,
    Epoch,
    EpochRotation,
    EpochSchedule,
    new_epoch_key,
)
from kraken_market.access.stream.errors import EpochScheduleInvalid
from tests.access.stream.fakes import Clock, MemoryCustody

ITEM = b"\x01" * 32


def rotation(schedule: EpochSchedule, clock: Clock, custody: MemoryCustody) -> EpochRotation:
    return EpochRotation(ITEM, custody, schedule, clock=clock)


def send(rot: EpochRotation, count: int) -> list[int]:
    """The epoch number of each of ``count`` messages."""
    numbers = []
    for _ in range(count):
        epoch = rot.current()
        epoch.messages += 1
        numbers.append(epoch.number)
    return numbers


def test_rotation_by_count() -> None:
    clock, custody = Clock(), MemoryCustody()
    numbers = send(rotation(EpochSchedule(seconds=None, messages=3), clock, custody), 7)
    first = numbers[0]
    assert first == int(clock.now * 1000)  # an epoch is numbered by its opening millisecond
    assert numbers == [first] * 3 + [first + 1] * 3 + [first + 2]
    assert [d.epoch for d in custody.deposits] == [first, first + 1, first + 2]
    assert len({d.key for d in custody.deposits}) == 3


def test_rotation_by_time() -> None:
    clock, custody = Clock(), MemoryCustody()
    rot = rotation(EpochSchedule(seconds=60), clock, custody)
    start = rot.current()
    clock.advance(59.999)
    assert rot.current() is start
    clock.advance(0.001)
    later = rot.current()
    assert later.number == int(clock.now * 1000) and later.key != start.key
    assert [d.not_before for d in custody.deposits] == [1_800_000_000, 1_800_000_060]


def test_rotation_by_whichever_comes_first() -> None:
    clock, custody = Clock(), MemoryCustody()
    rot = rotation(EpochSchedule(seconds=10, messages=2), clock, custody)
    send(rot, 2)
    assert len(custody.deposits) == 1
    send(rot, 1)  # count reached
    clock.advance(10)
    send(rot, 1)  # time reached
    assert len(custody.deposits) == 3


def test_the_key_is_deposited_before_the_epoch_is_used() -> None:
    clock, custody = Clock(), MemoryCustody()
    rot = rotation(EpochSchedule(), clock, custody)
    epoch = rot.current()
    assert custody.deposits[-1].key == epoch.key and custody.deposits[-1].epoch == epoch.number


def test_a_failed_deposit_opens_no_epoch_and_the_retry_uses_a_new_number_and_key() -> None:
    clock, custody = Clock(), MemoryCustody(fail_next=True)
    rot = rotation(EpochSchedule(), clock, custody)
    with pytest.raises(ConnectionError):
        rot.current()
    assert rot.epoch is None and custody.deposits == []
    epoch = rot.current()
    assert epoch.number == int(clock.now * 1000) + 1


def test_numbers_only_grow_even_when_the_clock_goes_back() -> None:
    clock, custody = Clock(), MemoryCustody()
    rot = rotation(EpochSchedule(seconds=1), clock, custody)
    first = rot.current().number
    clock.advance(-3600)
    rot.retire()
    assert rot.current().number == first + 1
    rot.skip_to(first + 100)
    rot.retire()
    assert rot.current().number == first + 100


def test_keys_are_fresh_256_bit() -> None:
    keys = {new_epoch_key() for _ in range(64)}
    assert len(keys) == 64 and {len(k) for k in keys} == {32}


@pytest.mark.parametrize(
    ("seconds", "messages"),
    [
        (None, None),
        (0, None),
        (-1, None),
        (math.inf, None),
        (math.nan, None),
        (None, 0),
        (None, MAX_MESSAGES_PER_EPOCH + 1),
    ],
)
def test_bad_schedules_are_refused(seconds: float | None, messages: int | None) -> None:
    with pytest.raises(EpochScheduleInvalid) as caught:
        EpochSchedule(seconds=seconds, messages=messages)
    assert caught.value.code == "epoch_schedule_invalid"


def test_an_epoch_never_exceeds_the_per_key_limit() -> None:
    schedule = EpochSchedule(seconds=None, messages=MAX_MESSAGES_PER_EPOCH)
    full = Epoch(number=1, key=b"k" * 32, started=0, messages=MAX_MESSAGES_PER_EPOCH)
    assert schedule.due(full, 0)
    assert EpochSchedule(seconds=5).due(full, 0)
    assert "k" * 32 not in repr(full)  # keys stay out of logs
