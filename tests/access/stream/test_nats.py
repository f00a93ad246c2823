"""The NATS JetStream transport against the real server at 127.0.0.1:4222.

Each test uses its own subject/stream prefix and deletes its streams after.
Without a reachable server the tests are skipped, except on CI (``CI`` set),
where they fail.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator

import pytest

from kraken_market.access.stream.errors import (
    FrameTooLarge,
    StreamNotFound,
    StreamSequenceConflict,
    StreamTransportUnavailable,
)
from kraken_market.access.stream.nats import NatsLimits, NatsTransport
from kraken_market.access.stream.transport import StreamPosition
from kraken_market.errors import InvalidRequest
from tests.access.stream.people import frame

NATS_URL = os.environ.get("KRAKEN_TEST_NATS_URL", "nats://127.0.0.1:4222")
pytestmark = pytest.mark.anyio


def _reachable() -> bool:
    host, port = NATS_URL.rsplit("/", 1)[-1].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def nats_url() -> str:
    if not _reachable():
        if os.environ.get("CI"):
            pytest.fail(f"CI requires the NATS server at {NATS_URL}")
        pytest.skip(f"no NATS server at {NATS_URL}")
    return NATS_URL


@pytest.fixture
async def created(nats_url: str) -> AsyncIterator[list[NatsTransport]]:
    """Transports made by the test (``make``); their streams are deleted afterwards."""
    made: list[NatsTransport] = []
    yield made
    for transport in made:
        for item in list(transport._ready):
            await transport.delete(item)
        await transport.close()


def transport_for(created: list[NatsTransport], url: str, **kwargs) -> NatsTransport:
    kwargs.setdefault("prefix", "t" + secrets.token_hex(6))
    kwargs.setdefault("fetch_wait", 0.5)
    transport = NatsTransport(url, **kwargs)
    created.append(transport)
    return transport


def new_item() -> tuple[str, bytes]:
    item = secrets.token_bytes(32)
    return "0x" + item.hex(), item


async def collect(transport: NatsTransport, item: bytes, **cursor) -> list[bytes]:
    return [f async for f in transport.subscribe(item, follow=False, **cursor)]


async def test_frames_round_trip_in_order_with_cursors(
    nats_url: str, created: list[NatsTransport]
) -> None:
    transport = transport_for(created, nats_url)
    product, item = new_item()
    assert await transport.position(item) is None
    frames = [frame(product, seq, 1000 * seq, epoch=7) for seq in (1, 2, 3)]
    for data in frames:
        await transport.publish(item, data)
    assert await transport.position(item) == StreamPosition(3, 7)
    assert await collect(transport, item) == frames
    assert await collect(transport, item, from_seq=2) == frames[1:]
    assert await collect(transport, item, from_seq=9) == []
    info = await (await transport._js()).stream_info(transport.stream_name(item))
    assert info.config.subjects == [f"{transport.prefix}.streams.{item.hex()}"]
    assert (info.config.max_msgs, info.config.max_msg_size) == (10_000, 262_144)


async def test_out_of_sequence_and_oversized_frames_are_refused(
    nats_url: str, created: list[NatsTransport]
) -> None:
    transport = transport_for(created, nats_url, limits=NatsLimits(max_msg_size=1024))
    product, item = new_item()
    await transport.publish(item, frame(product, 1, 1))
    for seq in (1, 3):
        with pytest.raises(StreamSequenceConflict):
            await transport.publish(item, frame(product, seq, 1))
    with pytest.raises(FrameTooLarge):
        await transport.publish(item, frame(product, 2, 1, b"x" * 1024))
    assert await transport.position(item) == StreamPosition(1, 1)


async def test_a_durable_subscriber_resumes_where_it_acknowledged(
    nats_url: str, created: list[NatsTransport]
) -> None:
    publisher = transport_for(created, nats_url)
    product, item = new_item()
    for seq in (1, 2, 3):
        await publisher.publish(item, frame(product, seq, seq))
    reader = transport_for(created, nats_url, prefix=publisher.prefix, consumer="rhea")
    stream = reader.subscribe(item, follow=False)
    first = [await anext(stream), await anext(stream)]
    await stream.aclose()  # frame 1 was acknowledged, frame 2 not yet
    await publisher.publish(item, frame(product, 4, 4))
    again = await collect(reader, item)
    assert first == [frame(product, s, s) for s in (1, 2)]
    assert again == [frame(product, s, s) for s in (2, 3, 4)]


async def test_missing_streams_and_servers_are_clear_errors(
    nats_url: str, created: list[NatsTransport]
) -> None:
    _, item = new_item()
    with pytest.raises(StreamNotFound):
        await collect(transport_for(created, nats_url), item)
    nowhere = transport_for(created, "nats://127.0.0.1:1", connect_timeout=1)
    with pytest.raises(StreamTransportUnavailable):
        await nowhere.position(item)
    with pytest.raises(InvalidRequest):
        NatsTransport(nats_url, consumer="no.dots")
