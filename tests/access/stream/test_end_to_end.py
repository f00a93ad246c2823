"""Publisher to subscriber over each transport, keys from an in-memory custody; the
subscription stops with ``subscription_expired`` when the paid time ends."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from kraken_market.access.stream.epochs import EpochSchedule
from kraken_market.access.stream.errors import SubscriptionExpired
from kraken_market.access.stream.models import StreamFrame
from kraken_market.access.stream.nats import NatsTransport
from kraken_market.access.stream.publisher import StreamPublisher
from kraken_market.access.stream.relay import configure_relay
from kraken_market.access.stream.relay_client import RelayTransport
from kraken_market.access.stream.subscriber import StreamSubscriber
from kraken_market.access.stream.transport import StreamTransport
from tests.access.stream.fakes import Clock, FakePaidTime, MemoryCustody, drain
from tests.access.stream.people import stream_product, subscriber
from tests.access.stream.test_nats import nats_url  # noqa: F401 (fixture)
from tests.conftest import Account, person

pytestmark = pytest.mark.anyio
COUNT = 5


def relay(app: FastAPI, who: Account) -> RelayTransport:
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://relay", headers=who.headers
    )
    return RelayTransport(http, wait=0.2)


async def exchange(
    publisher_side: StreamTransport,
    subscriber_side: StreamTransport,
    product: str,
    clock: Clock,
    custody: MemoryCustody,
) -> list[bytes]:
    """Publish COUNT messages (two per epoch) and read them back."""
    publisher = StreamPublisher(
        publisher_side,
        custody,
        product,
        schedule=EpochSchedule(seconds=None, messages=2),
        clock=clock,
    )
    for i in range(COUNT):
        await publisher.publish(b"reading %d" % i)
        clock.advance(1)
    reader = StreamSubscriber(subscriber_side, custody, product)
    return [m.payload async for m in reader.messages(follow=False)]


async def test_over_the_relay(app: FastAPI) -> None:
    clock, custody, paid = Clock(), MemoryCustody(), FakePaidTime()
    configure_relay(app, paid=paid, clock=clock)
    seller = person(app, "sam")
    product = stream_product(seller)
    buyer, account = subscriber(app)
    paid.until[account.lower()] = int(clock.now) + 3600
    received = await exchange(relay(app, seller), relay(app, buyer), product, clock, custody)
    assert received == [b"reading %d" % i for i in range(COUNT)]
    assert len(custody.deposits) == 3
    with app.state.engine.connect() as connection:  # the backend stored ciphertext only
        stored = connection.execute(select(StreamFrame.frame)).scalars().all()
    assert len(stored) == COUNT and not any(b"reading" in frame for frame in stored)
    assert not any(d.key in frame for d in custody.deposits for frame in stored)

    clock.now = paid.until[account.lower()]  # the relay refuses from now on
    reader = StreamSubscriber(relay(app, buyer), custody, product)
    with pytest.raises(SubscriptionExpired) as caught:
        await anext(reader.messages())
    assert caught.value.details["paid_until"] == paid.until[account.lower()]
    await reader.close()


@pytest.fixture
async def nats_pair(nats_url: str) -> AsyncIterator[tuple[NatsTransport, NatsTransport]]:  # noqa: F811
    prefix = "e" + secrets.token_hex(6)
    publisher = NatsTransport(nats_url, prefix=prefix, fetch_wait=0.5)
    reader = NatsTransport(nats_url, prefix=prefix, consumer="rhea", fetch_wait=0.5)
    yield publisher, reader
    for item in list(publisher._ready):
        await publisher.delete(item)
    await publisher.close()
    await reader.close()


async def test_over_nats_where_the_keys_alone_enforce_payment(
    nats_pair: tuple[NatsTransport, NatsTransport],
) -> None:
    publisher_side, subscriber_side = nats_pair
    clock, custody = Clock(), MemoryCustody()
    product = "0x" + secrets.token_hex(32)
    received = await exchange(publisher_side, subscriber_side, product, clock, custody)
    assert received == [b"reading %d" % i for i in range(COUNT)]

    # The durable consumer resumes after what it acknowledged: nothing new.
    again = StreamSubscriber(subscriber_side, custody, product)
    assert [m async for m in again.messages(from_seq=1, follow=False)] == []

    # Paid until the start of the third epoch: NATS still delivers its frames, but
    # the custody refuses the key, and the subscriber stops and says why.
    custody.paid_until = custody.deposits[2].not_before
    fresh = NatsTransport(subscriber_side.url, prefix=subscriber_side.prefix, fetch_wait=0.5)
    reader = StreamSubscriber(fresh, custody, product)
    seen: list[bytes] = []
    with pytest.raises(SubscriptionExpired) as caught:
        await drain(reader.messages(from_seq=1, follow=False), seen)
    await reader.close()
    assert seen == [b"reading 0", b"reading 1", b"reading 2", b"reading 3"]
    assert caught.value.details == {
        "epoch": custody.deposits[2].epoch,
        "seq": 5,
        "cause": "epoch_key_denied",
    }
