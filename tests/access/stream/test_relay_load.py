"""The relay under many readers: one database read per new frame for all waiting readers,
the chain asked once per subscriber, a cursor older than the kept window still served,
and long-polls beyond the worker's limit answered 503 with Retry-After."""

from __future__ import annotations

import asyncio
import base64

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.access.stream import tails
from kraken_market.settings import Settings
from tests.access.stream.fakes import Clock
from tests.access.stream.people import frame, post, stream_product, subscriber
from tests.access.stream.test_relay_rules import NOW_MS, relay_app
from tests.conftest import person

READERS = 40


@pytest.mark.anyio
async def test_waiting_readers_share_one_read_of_each_new_frame(
    settings: Settings, engine: Engine
) -> None:
    app = relay_app(settings, engine)
    sam = person(app, "sam")
    product = stream_product(sam)
    buyer, account = subscriber(app)
    context = app.state.stream_relay
    context.paid.inner.until[account.lower()] = int(Clock().now) + 3600
    url = f"/api/v1/streams/{product}/messages"
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://relay", timeout=30
    ) as http:
        first = await http.get(url, headers=buyer.headers)  # reads the tail once
        assert first.json()["frames"] == []
        reads, chain_reads = context.tails.reads, context.paid.reads

        async def publish_later() -> None:
            await asyncio.sleep(0.3)
            answer = await http.post(
                url,
                content=frame(product, 1, NOW_MS),
                headers={**sam.headers, "Content-Type": "application/octet-stream"},
            )
            assert answer.status_code == 201

        waiting = [
            http.get(url, params={"wait": 10}, headers=buyer.headers) for _ in range(READERS)
        ]
        *pages, _ = await asyncio.gather(*waiting, publish_later())
    for page in pages:
        assert page is not None
        assert page.status_code == 200, page.text
        assert [base64.b64decode(f) for f in page.json()["frames"]] == [frame(product, 1, NOW_MS)]
    # One read for the new frame (two if a one-second look fell in the wait), not one
    # per reader; the chain was asked for the subscriber's paid time once in all.
    assert context.tails.reads - reads <= 2
    assert context.paid.reads == chain_reads == 1


def test_a_cursor_older_than_the_kept_window_is_read_from_the_database(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tails, "MAX_FRAMES", 3)
    app = relay_app(settings, engine)
    sam = person(app, "sam")
    product = stream_product(sam)
    for seq in range(1, 7):
        assert post(app, sam, product, frame(product, seq, NOW_MS + seq))[0] == 201
    http = TestClient(app, headers=sam.headers)
    url = f"/api/v1/streams/{product}/messages"
    for after in (0, 2, 3, 5, 6):
        page = http.get(url, params={"after": after}).json()
        expected = [frame(product, seq, NOW_MS + seq) for seq in range(after + 1, 7)]
        assert [base64.b64decode(f) for f in page["frames"]] == expected, after
    since = http.get(url, params={"since": NOW_MS + 5}).json()["frames"]
    assert len(since) == 2


@pytest.mark.anyio
async def test_long_polls_beyond_the_limit_are_503_with_retry_after(
    settings: Settings, engine: Engine
) -> None:
    app = relay_app(settings, engine, max_long_polls=1)
    sam = person(app, "sam")
    product = stream_product(sam)
    url = f"/api/v1/streams/{product}/messages"
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://relay", timeout=30
    ) as http:
        holding = asyncio.ensure_future(http.get(url, params={"wait": 2}, headers=sam.headers))
        for _ in range(200):  # until the first reader holds the one place (not a fixed time)
            if app.state.long_polls.inside:
                break
            await asyncio.sleep(0.01)
        refused = await http.get(url, params={"wait": 2}, headers=sam.headers)
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "overloaded"
        assert refused.headers["Retry-After"] == "1"
        instant = await http.get(url, headers=sam.headers)  # no wait: never refused
        assert instant.status_code == 200
        assert (await holding).status_code == 200
        again = await http.get(url, params={"wait": 0.1}, headers=sam.headers)
        assert again.status_code == 200  # the place was given back
