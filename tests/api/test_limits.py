"""Write limits: a bucket per identity and per anonymous address, 429 with Retry-After,
and an SDK that waits as told."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.api.app import create_app
from kraken_market.api.limits import RateLimiter
from kraken_market.client import MarketClient
from kraken_market.settings import Settings
from tests.conftest import person
from tests.factories import product_body


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.wait_for("alice") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.wait_for("alice") == 0.5  # empty: one token refills in half a second
    assert limiter.wait_for("bob") == 0.0  # everyone has their own
    clock.now = 0.5
    assert limiter.wait_for("alice") == 0.0
    assert limiter.wait_for("alice") > 0
    clock.now = 100.0  # refills up to the burst, no more
    assert [limiter.wait_for("alice") for _ in range(4)][-1] > 0


def limited(settings: Settings, engine: Engine) -> FastAPI:
    update = {
        "write_burst": 3,
        "write_rate": 1.0,
        "anonymous_write_burst": 2,
        "anonymous_write_rate": 0.1,
    }
    return create_app(settings.model_copy(update=update), engine=engine)


def test_writes_beyond_the_limit_are_429_with_retry_after(
    settings: Settings, engine: Engine
) -> None:
    app = limited(settings, engine)
    alice = person(app, "alice")
    http = TestClient(app)
    for _ in range(3):
        answer = http.post("/api/v1/products", json=product_body(), headers=alice.headers)
        assert answer.status_code == 201, answer.text
    refused = http.post("/api/v1/products", json=product_body(), headers=alice.headers)
    assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
    assert refused.headers["Retry-After"] == "1"
    assert http.get("/api/v1/products", headers=alice.headers).status_code == 200  # reads go on
    assert len(alice.api.search_products()["items"]) == 3  # the refused one changed nothing
    # The SDK waits as told and gets through.
    sdk = MarketClient(TestClient(app, headers=alice.headers))
    assert sdk.create_product(product_body())["owner"] == alice.principal.did


def test_writes_without_a_valid_session_are_limited_by_address(
    settings: Settings, engine: Engine
) -> None:
    app = limited(settings, engine)
    http = TestClient(app)
    junk = {"Authorization": "Bearer junk"}  # no way around it with a made-up header
    assert http.post("/api/v1/auth/challenge", headers=junk).status_code == 200
    assert http.post("/api/v1/products", json=product_body(), headers=junk).status_code == 401
    refused = http.post("/api/v1/auth/challenge")
    assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
    assert int(refused.headers["Retry-After"]) >= 1
    again = http.post("/api/v1/products", json=product_body(), headers=junk)
    assert again.status_code == 429  # a failed authentication counts too


def test_logins_beyond_the_workers_limit_are_503_and_the_sdk_waits(
    settings: Settings, engine: Engine
) -> None:
    import threading

    from kraken_market.identity import presentations
    from kraken_market.identity.credential_types import CredentialType
    from kraken_market.identity.keys import DidKey

    app = create_app(settings.model_copy(update={"max_concurrent_logins": 1}), engine=engine)
    key = DidKey.generate()
    issued = app.state.identity.demo_issuer.issue(
        CredentialType.PERSON,
        {"id": key.did, "name": "lea"},
        registry_url=app.state.identity.base_url,
    )
    sdk = MarketClient(TestClient(app))

    def presentation() -> str:
        challenge = sdk.challenge()
        return presentations.present(
            key, [issued], audience=challenge["audience"], nonce=challenge["nonce"]
        )

    busy = app.state.logins.enter()
    busy.__enter__()  # another login is being verified
    refused = TestClient(app).post("/api/v1/auth/login", json={"presentation": presentation()})
    assert (refused.status_code, refused.json()["code"]) == (503, "overloaded")
    assert refused.headers["Retry-After"] == "1"
    threading.Timer(0.3, busy.__exit__, (None, None, None)).start()
    session = sdk.login(presentation())  # waits as told, then gets in
    assert session["acting_as"] == key.did
    assert app.state.logins.inside == 0 and app.state.logins.refused == 2
