"""StreamPublisher and StreamSubscriber over an in-memory transport and key custody."""

from __future__ import annotations

import asyncio

import pytest

from kraken_market.access.stream.epochs import EpochSchedule
from kraken_market.access.stream.errors import (
    FrameReplayed,
    FrameTampered,
    FrameWrongProduct,
    SubscriptionExpired,
    SubscriptionRequired,
)
from kraken_market.access.stream.messages import FrameHeader, StreamMessage, seal
from kraken_market.access.stream.publisher import StreamPublisher
from kraken_market.access.stream.subscriber import StreamSubscriber
from kraken_market.smpc.node.errors import PaymentRequired
from tests.access.stream.fakes import Clock, MemoryCustody, MemoryTransport, drain

PRODUCT = "0x" + "ab" * 32
pytestmark = pytest.mark.anyio


def make(messages: int = 2, *, paid_until: int | None = None, fail_next: bool = False):
    clock, transport = Clock(), MemoryTransport()
    keys = MemoryCustody(paid_until=paid_until, fail_next=fail_next)
    schedule = EpochSchedule(seconds=None, messages=messages)
    publisher = StreamPublisher(transport, keys, PRODUCT, schedule=schedule, clock=clock)
    return clock, transport, keys, publisher


async def read(subscriber: StreamSubscriber, **cursor: int | float) -> list[StreamMessage]:
    return [m async for m in subscriber.messages(follow=False, **cursor)]  # type: ignore[arg-type]


async def test_messages_arrive_in_order_and_in_clear_across_rotations() -> None:
    _, transport, keys, publisher = make(messages=2)
    sent = [await publisher.publish(f"m{i}".encode()) for i in range(5)]
    assert [h.seq for h in sent] == [1, 2, 3, 4, 5]
    assert len({h.epoch for h in sent}) == 3
    received = await read(StreamSubscriber(transport, keys, PRODUCT))
    assert [m.payload for m in received] == [b"m0", b"m1", b"m2", b"m3", b"m4"]
    assert [m.header for m in received] == sent
    assert keys.fetched == sorted({h.epoch for h in sent})  # one key fetch per epoch


async def test_cursors_by_sequence_and_by_time() -> None:
    clock, transport, keys, publisher = make()
    for i in range(4):
        await publisher.publish(b"%d" % i)
        clock.advance(10)
    subscriber = StreamSubscriber(transport, keys, PRODUCT)
    assert [m.seq for m in await read(subscriber, from_seq=3)] == [3, 4]
    assert [m.seq for m in await read(subscriber, from_time=1_800_000_015.0)] == [3, 4]


async def test_a_restarted_publisher_continues_after_the_last_frame_in_a_new_epoch() -> None:
    clock, transport, keys, publisher = make(messages=100)
    first = await publisher.publish(b"before")
    again = StreamPublisher(transport, keys, PRODUCT, clock=clock)
    second = await again.publish(b"after")
    assert second.seq == first.seq + 1 and second.epoch > first.epoch
    messages = await read(StreamSubscriber(transport, keys, PRODUCT))
    assert [m.payload for m in messages] == [b"before", b"after"]


async def test_a_failed_send_is_never_followed_by_the_same_key_and_seq() -> None:
    _, transport, keys, publisher = make(messages=100)
    first = await publisher.publish(b"one")
    transport.fail_next = True
    with pytest.raises(ConnectionError):
        await publisher.publish(b"lost")
    third = await publisher.publish(b"two")
    assert third.seq == first.seq + 1  # resynchronised with what the transport holds
    assert third.epoch > first.epoch  # ...under a new key: the lost (key, seq) is spent
    assert len(keys.deposits) == 2


async def test_a_failed_deposit_publishes_nothing() -> None:
    _, transport, _, publisher = make(fail_next=True)
    with pytest.raises(ConnectionError):
        await publisher.publish(b"m")
    assert transport.frames == {}
    assert (await publisher.publish(b"m")).seq == 1


async def test_the_subscription_stops_when_the_custody_refuses_the_next_epoch() -> None:
    clock, transport, keys, publisher = make(messages=2)
    for _ in range(2):
        await publisher.publish(b"paid")
    clock.advance(60)
    await publisher.publish(b"after the paid time")
    keys.paid_until = int(clock.now) - 30  # covers the first epoch only
    subscriber = StreamSubscriber(transport, keys, PRODUCT)
    seen: list[bytes] = []
    with pytest.raises(SubscriptionExpired) as caught:
        await drain(subscriber.messages(follow=False), seen)
    assert seen == [b"paid", b"paid"]
    assert caught.value.code == "subscription_expired" and caught.value.status == 402
    assert caught.value.details["cause"] == "epoch_key_denied"


async def test_a_payment_error_of_the_custody_says_its_cause() -> None:
    class NotPaid(PaymentRequired):
        code = "not_paid"

    class Refusing(MemoryCustody):
        def key_for(self, item: bytes, epoch: int) -> bytes:
            raise NotPaid("paid until before the epoch")

    _, transport, keys, publisher = make()
    await publisher.publish(b"m")
    with pytest.raises(SubscriptionExpired) as caught:
        await read(StreamSubscriber(transport, Refusing(deposits=keys.deposits), PRODUCT))
    assert caught.value.details["cause"] == "not_paid"

    class Never(MemoryCustody):
        def key_for(self, item: bytes, epoch: int) -> bytes:
            raise SubscriptionRequired("subscribe first")

    with pytest.raises(SubscriptionRequired):
        await read(StreamSubscriber(transport, Never(), PRODUCT))


async def test_an_honest_subscriber_stops_inside_an_epoch_at_its_paid_time() -> None:
    clock, transport, keys, publisher = make(messages=100)
    await publisher.publish(b"in time")
    clock.advance(120)
    await publisher.publish(b"too late")
    paid = [int(clock.now) - 60]
    subscriber = StreamSubscriber(transport, keys, PRODUCT, paid_until=lambda: paid[0])
    seen: list[bytes] = []
    with pytest.raises(SubscriptionExpired) as caught:
        await drain(subscriber.messages(follow=False), seen)
    assert seen == [b"in time"] and caught.value.details["paid_until"] == paid[0]
    paid[0] += 3600  # extended on chain: read again
    assert len(await read(subscriber)) == 2


async def test_replayed_foreign_and_tampered_frames_stop_the_subscriber() -> None:
    _, transport, keys, publisher = make()
    await publisher.publish(b"one")
    await publisher.publish(b"two")
    frames = transport.frames[publisher.item]
    subscriber = StreamSubscriber(transport, keys, PRODUCT)
    frames.append(frames[0])
    with pytest.raises(FrameReplayed):
        await read(subscriber)
    frames[-1] = seal(FrameHeader(b"\xcd" * 32, 1, 3, 0), b"k" * 32, b"x")
    with pytest.raises(FrameWrongProduct):
        await read(subscriber)
    tampered = bytearray(frames[1])
    tampered[-1] ^= 1
    frames[1:] = [bytes(tampered)]
    seen: list[bytes] = []
    with pytest.raises(FrameTampered):
        await drain(subscriber.messages(follow=False), seen)
    assert seen == [b"one"]


async def test_a_following_subscriber_gets_messages_as_they_are_published() -> None:
    _, transport, keys, publisher = make()
    subscriber = StreamSubscriber(transport, keys, PRODUCT)

    async def first_three() -> list[bytes]:
        out = []
        async for message in subscriber.messages():
            out.append(message.payload)
            if len(out) == 3:
                return out
        return out

    reading = asyncio.create_task(first_three())
    for i in range(3):
        await asyncio.sleep(0.01)
        await publisher.publish(b"%d" % i)
    assert await asyncio.wait_for(reading, 5) == [b"0", b"1", b"2"]
    await subscriber.close()
    assert transport.closed
