"""The relay serves a subscriber only while their paid time on chain covers now.

An in-process chain: the seller publishes the stream product on chain, the
buyer's bound account (dev account 8) is granted and subscribes with
``Market.subscribe``; the relay reads ``Market.paid_until`` and the test's
clock (set to chain time) decides what "now" is.
"""

from __future__ import annotations

import base64

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web3 import EthereumTesterProvider, Web3

from kraken_market.access.stream.relay import configure_relay
from kraken_market.ledger.client import dev_account
from kraken_market.ledger.model import ModeCode, Prices
from tests.access.stream.fakes import Clock
from tests.access.stream.people import frame, post, stream_product, subscriber
from tests.conftest import person
from tests.ledger.conftest import DATA, Market, _deploy


@pytest.fixture(scope="module")
def chain() -> Market:
    market = _deploy("in-process", Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))))
    market.estimate_in_two_runs()
    market.funded(market.seller, 10_000 * DATA)
    market.funded(market.buyer, 10_000 * DATA)
    return market


def on_chain(chain: Market, product_id: str) -> None:
    prices = Prices(subscription_per_second=10**12, subscription_min_seconds=60)
    chain.seller.publish(product_id, mode=ModeCode.STREAM, prices=prices, stake=20 * DATA)
    chain.grant(chain.buyer, product_id)


def test_only_paid_time_opens_the_stream_and_its_end_closes_it(app: FastAPI, chain: Market) -> None:
    clock = Clock(float(chain.now()))
    configure_relay(app, paid=chain.as_(0), clock=clock)
    seller = person(app, "sam")
    product = stream_product(seller)
    on_chain(chain, product)
    start_ms = int(clock.now * 1000)
    for seq in (1, 2, 3):
        assert post(app, seller, product, frame(product, seq, start_ms + seq))[0] == 201
    buyer, _ = subscriber(app, dev_account(8))
    http = TestClient(app, headers=buyer.headers)
    url = f"/api/v1/streams/{product}/messages"

    unpaid = http.get(url)
    assert (unpaid.status_code, unpaid.json()["code"]) == (402, "subscription_required")

    chain.buyer.subscribe(product, 0, 120)
    paid_until = chain.buyer.paid_until(dev_account(8).address, product)
    page = http.get(url).json()
    assert page["paid_until"] == paid_until and page["last_seq"] == 3
    assert [base64.b64decode(f) for f in page["frames"]] == [
        frame(product, s, start_ms + s) for s in (1, 2, 3)
    ]
    assert http.get(url, params={"after": 2}).json()["last_seq"] == 3
    assert len(http.get(url, params={"since": start_ms + 2}).json()["frames"]) == 2
    status = http.get(f"/api/v1/streams/{product}").json()
    assert (status["last_seq"], status["last_epoch"], status["frames"]) == (3, 1, 3)

    # A frame sent after the paid time is never served to this subscriber...
    late = frame(product, 4, (paid_until + 1) * 1000)
    assert post(app, seller, product, late)[0] == 201
    assert http.get(url, params={"after": 3}).json()["frames"] == []
    owner = TestClient(app, headers=seller.headers).get(url, params={"after": 3}).json()
    assert owner["frames"] == [base64.b64encode(late).decode()] and owner["paid_until"] is None

    # ...and once the paid time is over, nothing is.
    clock.now = float(paid_until)
    for path in (url, f"/api/v1/streams/{product}"):
        ended = http.get(path)
        assert (ended.status_code, ended.json()["code"]) == (402, "subscription_expired")
        assert ended.json()["details"]["paid_until"] == paid_until


def test_a_reader_must_have_bound_a_ledger_account(app: FastAPI, chain: Market) -> None:
    configure_relay(app, paid=chain.as_(0), clock=Clock(float(chain.now())))
    seller = person(app, "sam")
    product = stream_product(seller)
    stranger = person(app, "una")
    answer = TestClient(app).get(f"/api/v1/streams/{product}/messages", headers=stranger.headers)
    assert (answer.status_code, answer.json()["code"]) == (409, "binding_required")
