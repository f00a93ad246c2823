"""The relay's rules: who may append what (each refusal changes nothing), retention,
long-polling, and the relay switched off when streams go over NATS."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.access.stream.nats import NatsTransport
from kraken_market.access.stream.relay import configure_relay
from kraken_market.access.stream.relay_client import RelayTransport
from kraken_market.access.stream.transport import transport_from_settings
from kraken_market.api.app import create_app
from kraken_market.settings import Settings
from tests.access.stream.fakes import Clock, FakePaidTime
from tests.access.stream.people import frame, post, stream_product, subscriber
from tests.conftest import Account, person
from tests.factories import product_body

NOW_MS = int(Clock().now * 1000)


def relay_app(settings: Settings, engine: Engine, **changes: object) -> FastAPI:
    app = create_app(settings.model_copy(update=changes), engine=engine)
    configure_relay(app, paid=FakePaidTime(), clock=Clock())
    return app


def status(app: FastAPI, who: Account, product: str) -> dict[str, Any]:
    answer = TestClient(app).get(f"/api/v1/streams/{product}", headers=who.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_only_the_owner_appends_well_formed_frames_in_sequence(
    settings: Settings, engine: Engine
) -> None:
    app = relay_app(settings, engine, stream_max_frame_bytes=1024)
    sam, bob = person(app, "sam"), person(app, "bob")
    product = stream_product(sam)
    assert post(app, sam, product, frame(product, 1, NOW_MS)) == (
        201,
        {"product": product, "seq": 1, "epoch": 1, "timestamp_ms": NOW_MS},
    )
    other = stream_product(sam)
    analytics = sam.api.create_product(product_body("analytics"))["id"]
    refusals = [
        (bob, product, frame(product, 2, NOW_MS), 403, "not_owner"),
        (sam, product, frame(product, 1, NOW_MS), 409, "stream_sequence_conflict"),
        (sam, product, frame(other, 2, NOW_MS), 422, "frame_wrong_product"),
        (sam, product, b"not a frame at all" * 5, 422, "frame_malformed"),
        (sam, product, frame(product, 2, NOW_MS, b"x" * 1000), 413, "frame_too_large"),
        (sam, analytics, frame(analytics, 1, NOW_MS), 409, "not_a_stream"),
        (sam, "0x" + "00" * 32, frame(product, 2, NOW_MS), 404, "product_not_found"),
    ]
    for who, target, data, code, name in refusals:
        answer = post(app, who, target, data)
        assert (answer[0], answer[1]["code"]) == (code, name), answer
    empty = TestClient(app).post(
        f"/api/v1/streams/{product}/messages",
        content=b"",
        headers={**sam.headers, "Content-Type": "application/octet-stream"},
    )
    assert empty.status_code == 422
    anonymous = TestClient(app).post(f"/api/v1/streams/{product}/messages", content=b"x")
    assert anonymous.status_code == 401
    sam.api.retire_product(product)
    assert post(app, sam, product, frame(product, 2, NOW_MS))[1]["code"] == "product_retired"
    assert status(app, sam, product)["frames"] == 1  # nothing was stored by the refusals
    assert status(app, sam, other)["last_seq"] is None


def test_retention_keeps_the_newest_frames(settings: Settings, engine: Engine) -> None:
    app = relay_app(settings, engine, stream_retention_messages=3, stream_retention_seconds=60)
    clock = app.state.stream_relay.clock
    sam = person(app, "sam")
    product, quiet = stream_product(sam), stream_product(sam)
    for seq in range(1, 6):
        post(app, sam, product, frame(product, seq, NOW_MS + seq))
    post(app, sam, quiet, frame(quiet, 1, NOW_MS))
    assert (status(app, sam, product)["first_seq"], status(app, sam, product)["frames"]) == (3, 3)
    clock.advance(61)
    post(app, sam, product, frame(product, 6, NOW_MS + 61_000))
    assert status(app, sam, product)["first_seq"] == 6  # older than 60 s: dropped
    # A stream's newest frame stays (a restarted publisher continues after it) but is
    # no longer served.
    assert status(app, sam, quiet)["last_seq"] == 1
    page = TestClient(app, headers=sam.headers).get(f"/api/v1/streams/{quiet}/messages")
    assert page.json()["frames"] == []


@pytest.mark.anyio
async def test_a_long_poll_returns_as_soon_as_a_frame_is_stored(
    settings: Settings, engine: Engine
) -> None:
    app = relay_app(settings, engine)
    sam = person(app, "sam")
    product = stream_product(sam)
    buyer, account = subscriber(app)
    app.state.stream_relay.paid.inner.until[account.lower()] = int(Clock().now) + 3600
    url = f"/api/v1/streams/{product}/messages"
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://relay", timeout=30
    ) as http:
        started = time.monotonic()
        idle = await http.get(url, params={"wait": 0.3}, headers=buyer.headers)
        assert idle.json()["frames"] == [] and time.monotonic() - started >= 0.3

        async def publish_later() -> None:
            await asyncio.sleep(0.2)
            answer = await http.post(
                url,
                content=frame(product, 1, NOW_MS),
                headers={**sam.headers, "Content-Type": "application/octet-stream"},
            )
            assert answer.status_code == 201

        started = time.monotonic()
        waiting = http.get(url, params={"wait": 20}, headers=buyer.headers)
        answer, _ = await asyncio.gather(waiting, publish_later())
        assert time.monotonic() - started < 5
        assert base64.b64decode(answer.json()["frames"][0]) == frame(product, 1, NOW_MS)


def test_the_relay_is_off_when_streams_go_over_nats(settings: Settings, engine: Engine) -> None:
    app = relay_app(settings, engine, stream_transport="nats")
    sam = person(app, "sam")
    product = stream_product(sam)
    answer = post(app, sam, product, frame(product, 1, NOW_MS))
    assert (answer[0], answer[1]["code"]) == (409, "stream_relay_disabled")
    read = TestClient(app, headers=sam.headers).get(f"/api/v1/streams/{product}/messages")
    assert read.json()["code"] == "stream_relay_disabled"


def test_reads_validate_their_cursor(app: FastAPI, alice: Account, tmp_path: Path) -> None:
    configure_relay(app, paid=FakePaidTime(), clock=Clock())
    product = stream_product(alice)
    http = TestClient(app, headers=alice.headers)
    for params in ({"after": -1}, {"wait": 26}, {"wait": "nan"}, {"limit": 0}, {"since": 2**63}):
        assert http.get(f"/api/v1/streams/{product}/messages", params=params).status_code == 422
    assert http.get("/api/v1/streams/0x12/messages").status_code == 422
    assert TestClient(app).get(f"/api/v1/streams/{product}/messages").status_code == 401


def test_without_a_chain_a_reader_gets_a_clear_503(settings: Settings, engine: Engine) -> None:
    app = create_app(settings, engine=engine)  # the relay reads the configured chain
    sam = person(app, "sam")
    product = stream_product(sam)
    buyer, _ = subscriber(app)
    answer = TestClient(app, headers=buyer.headers).get(f"/api/v1/streams/{product}/messages")
    assert (answer.status_code, answer.json()["code"]) == (503, "not_deployed")
    assert TestClient(app, headers=sam.headers).get(f"/api/v1/streams/{product}").status_code == 200


def test_the_settings_choose_the_transport(settings: Settings) -> None:
    relay = transport_from_settings(settings, token="t0ken")
    assert isinstance(relay, RelayTransport)
    assert str(relay.http.base_url).rstrip("/") == settings.resolved_api_url
    assert relay.http.headers["Authorization"] == "Bearer t0ken"
    nats = transport_from_settings(
        settings.model_copy(
            update={
                "stream_transport": "nats",
                "nats_url": "nats://n:4222",
                "stream_retention_messages": 7,
            }
        ),
        consumer="rhea",
    )
    assert isinstance(nats, NatsTransport)
    assert (nats.url, nats.consumer, nats.limits.max_msgs) == ("nats://n:4222", "rhea", 7)
