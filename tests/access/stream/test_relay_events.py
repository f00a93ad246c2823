"""Following a stream over Server-Sent Events, against the API served over real HTTP
(uvicorn in a thread: an event stream never completes, so the in-process transport
cannot carry it): frames in order as they are stored, the end of paid time as an
``expired`` event, and the SDK's transport on top."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from kraken_market.access.stream.errors import SubscriptionExpired
from kraken_market.access.stream.relay_client import RelayTransport
from kraken_market.settings import Settings
from tests.access.stream.fakes import Clock
from tests.access.stream.people import frame, post, stream_product, subscriber
from tests.access.stream.test_relay_rules import NOW_MS
from tests.cli.test_cli import free_port
from tests.conftest import person

pytestmark = pytest.mark.anyio


@pytest.fixture
def served(settings: Settings, engine: Engine) -> Iterator[tuple[FastAPI, str, Clock]]:
    from kraken_market.access.stream.relay import configure_relay
    from kraken_market.api.app import create_app
    from tests.access.stream.fakes import FakePaidTime

    app = create_app(settings, engine=engine)
    clock = Clock()
    configure_relay(app, paid=FakePaidTime(), clock=clock)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.05)
    try:
        yield app, f"http://127.0.0.1:{port}", clock
    finally:
        server.should_exit = True
        thread.join(10)


async def test_a_subscriber_follows_frames_as_they_are_stored_until_its_paid_time_ends(
    served: tuple[FastAPI, str, Clock],
) -> None:
    app, url, clock = served
    sam = person(app, "sam")
    product = stream_product(sam)
    buyer, account = subscriber(app)
    app.state.stream_relay.paid.inner.until[account.lower()] = int(clock.now) + 3600
    for seq in (1, 2):
        assert post(app, sam, product, frame(product, seq, NOW_MS + seq))[0] == 201
    relay = RelayTransport(httpx2.AsyncClient(base_url=url, headers=buyer.headers))
    got: list[bytes] = []

    async def follow() -> None:
        async for data in relay.subscribe(bytes.fromhex(product[2:]), from_seq=1):
            got.append(data)

    following = asyncio.ensure_future(follow())
    deadline = time.monotonic() + 10
    while len(got) < 2:
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.05)
    started = time.monotonic()
    for seq in (3, 4, 5):
        await asyncio.to_thread(post, app, sam, product, frame(product, seq, NOW_MS + seq))
    while len(got) < 5:
        assert time.monotonic() - started < 5, got  # pushed as stored, not polled for
        await asyncio.sleep(0.02)
    assert got == [frame(product, seq, NOW_MS + seq) for seq in range(1, 6)]
    assert app.state.long_polls.inside == 1  # the open stream holds one reader's place

    clock.advance(3601)  # the paid time is over, and the chain shows no more
    with pytest.raises(SubscriptionExpired, match="paid time for this stream ended"):
        await asyncio.wait_for(following, 10)
    await relay.close()
    deadline = time.monotonic() + 5
    while app.state.long_polls.inside:  # the place is given back when the stream ends
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_event_streams_beyond_the_limit_are_503_and_end_when_asked(
    served: tuple[FastAPI, str, Clock],
) -> None:
    app, url, _clock = served
    app.state.long_polls.limit = 1
    sam = person(app, "sam")
    product = stream_product(sam)
    async with httpx2.AsyncClient(base_url=url, headers=sam.headers, timeout=10) as http:
        path = f"/api/v1/streams/{product}/events"
        async with http.sse(path, params={"seconds": 1}) as source:
            refused = await http.get(path)
            assert (refused.status_code, refused.json()["code"]) == (503, "overloaded")
            assert refused.headers["Retry-After"] == "1"
            events = [event async for event in source]  # ends after one second
        assert all(event.event == "message" and not event.data for event in events)


async def test_every_follower_gets_each_new_frame_without_waiting_for_a_poll(
    served: tuple[FastAPI, str, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many followers share one read of each frame; none of them may miss the wake-up
    and wait for the next periodic look (made 30 s here, so a miss shows)."""
    from kraken_market.access.stream import routes, tails

    monkeypatch.setattr(routes, "POLL_SLICE", 30.0)
    monkeypatch.setattr(tails, "POLL_SLICE", 30.0)
    app, url, _clock = served
    sam = person(app, "sam")
    product = stream_product(sam)
    got: dict[int, list[int]] = {i: [] for i in range(12)}
    async with httpx2.AsyncClient(base_url=url, headers=sam.headers, timeout=60) as http:

        async def follow(i: int) -> None:
            path = f"/api/v1/streams/{product}/events"
            async with http.sse(path, params={"seconds": 30}) as source:
                async for event in source:
                    if event.data:
                        got[i].append(int(event.id))
                        if len(got[i]) == 3:
                            return

        followers = [asyncio.ensure_future(follow(i)) for i in got]
        await asyncio.sleep(0.5)
        for seq in (1, 2, 3):
            await asyncio.to_thread(post, app, sam, product, frame(product, seq, NOW_MS + seq))
            await asyncio.sleep(0.2)
        await asyncio.wait_for(asyncio.gather(*followers), 10)
    assert all(seqs == [1, 2, 3] for seqs in got.values()), got
