"""A repeat purchase is asked for: a file this account bought before, or time added to
a stream subscription still paid, is refused before anything is asked or paid, from the
chain alone (no session needed), unless the buyer says so (``again`` / ``extend``)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from kraken_market.client import MarketClient
from kraken_market.trade.buy import AlreadyBought, SubscriptionActive, buy_access, subscribe
from kraken_market.trade.publish import publish_on_chain
from tests.factories import product_body
from tests.ledger.conftest import DATA, Market, time_travel
from tests.trade.test_market_flow import bound, chain, forwarder, market_app  # noqa: F401

UNREACHABLE = "http://127.0.0.1:9"  # a buyer who is logged out, or whose API is down


def test_a_file_bought_before_is_paid_again_only_on_purpose(
    market_app: FastAPI,  # noqa: F811
    chain: Market,  # noqa: F811
) -> None:
    seller, seller_ledger = bound(market_app, chain, "sam", 7)
    product = seller.api.create_product(product_body("batch"))["id"]
    publish_on_chain(seller.api, seller_ledger, product, stake=20 * DATA, wait=0)
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    first = buy_access(buyer.api, ledger, product, "research")
    balance = ledger.balance()
    logged_out = MarketClient.connect(UNREACHABLE)  # the chain says it, not the API
    with logged_out, pytest.raises(AlreadyBought) as refused:
        buy_access(logged_out, ledger, product, "research")
    assert refused.value.code == "already_bought"
    assert refused.value.details["purchases"] == [first.purchase_id]
    assert f"purchase {first.purchase_id}" in refused.value.message
    assert ledger.balance() == balance  # nothing paid
    second = buy_access(buyer.api, ledger, product, "research", again=True)
    assert second.purchase_id != first.purchase_id
    assert ledger.balance() == balance - second.amount
    with pytest.raises(AlreadyBought) as twice:
        buy_access(buyer.api, ledger, product, "research")
    assert twice.value.details["purchases"] == [first.purchase_id, second.purchase_id]
    other_buyer, other = bound(market_app, chain, "una", 9, category="research-institution")
    assert buy_access(other_buyer.api, other, product, "research").amount == 5000  # per buyer


def test_a_stream_subscription_still_paid_is_extended_only_on_purpose(
    market_app: FastAPI,  # noqa: F811
    chain: Market,  # noqa: F811
) -> None:
    seller, seller_ledger = bound(market_app, chain, "sol", 7)
    product = seller.api.create_product(product_body("stream"))["id"]
    publish_on_chain(seller.api, seller_ledger, product, stake=20 * DATA, wait=0)
    buyer, ledger = bound(market_app, chain, "tom", 8, category="research-institution")
    first = subscribe(buyer.api, ledger, product, "research", 3600)
    assert first.paid_until == ledger.paid_until(ledger.address, product)
    balance = ledger.balance()
    with pytest.raises(SubscriptionActive) as refused:
        subscribe(buyer.api, ledger, product, "research", 3600)
    assert refused.value.details["paid_until"] == first.paid_until
    assert "is paid until 20" in refused.value.message  # an ISO 8601 time, chain clock
    assert ledger.balance() == balance
    extended = subscribe(buyer.api, ledger, product, "research", 3600, extend=True)
    assert extended.paid_until == first.paid_until + 3600  # added to the time left
    time_travel(chain, 2 * 3600 + 1)  # run out: a new subscription needs no --extend
    renewed = subscribe(buyer.api, ledger, product, "research", 3600)
    assert renewed.paid_until is not None and renewed.paid_until > extended.paid_until
