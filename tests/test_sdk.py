"""The data scientist's ``Marketplace`` counts in DATA: prices, balances and what was
paid as exact Decimals, the most one pays given in DATA; against the API and an
in-process chain (the SDK's collaborators injected, as ``Marketplace.login`` makes them)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI

from kraken_market.ledger.errors import InvalidAmount, Reverted
from kraken_market.ledger.indexer import Indexer
from kraken_market.sdk import Marketplace
from kraken_market.trade.publish import publish_on_chain
from tests.factories import product_body
from tests.ledger.conftest import DATA, Market
from tests.trade import test_chain_stake as staked
from tests.trade.test_market_flow import bound

chain, forwarder, indexer, market_app = (
    staked.chain,
    staked.forwarder,
    staked.indexer,
    staked.market_app,
)


def test_the_sdk_shows_and_takes_amounts_in_data(
    market_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    seller, seller_ledger = bound(market_app, chain, "sam", 7)
    body = product_body("batch", prices={"access": str(25 * DATA // 10)}, stake="0")
    product = seller.api.create_product(body)["id"]
    publish_on_chain(seller.api, seller_ledger, product, stake=12 * DATA, wait=0)
    indexer.poll_once()
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    market = Marketplace(buyer.api, ledger, tmp_path)

    assert (market.token.symbol, market.token.decimals) == ("DATA", 18)
    assert market.price(product) == Decimal("2.5")
    [found] = [p for p in market.search("heart") if p["id"] == product]
    assert (found["prices_data"], found["stake_data"]) == ({"access": "2.5"}, "12")
    assert found["prices"]["access"] == str(25 * DATA // 10)  # the API's units stay
    assert market.search("heart", price_max="2.4") == []
    assert market.product(product)["stake_data"] == "12"

    before = market.balance()
    assert before == Decimal(ledger.balance()) / 10**18
    with pytest.raises(Reverted) as too_dear:
        market.buy_access(product, max_price="2.4999")
    assert too_dear.value.reason == "price_changed"
    assert market.balance() == before  # nothing paid
    bought = market.buy_access(product, max_price=Decimal("2.5"))
    assert (bought.price, bought.price_units) == (Decimal("2.5"), 25 * DATA // 10)
    assert market.balance() == before - Decimal("2.5")

    for wrong in (0.1, True, "-1", "0.0000000000000000001"):
        with pytest.raises(InvalidAmount, match="max_price"):
            market.units(wrong, "max_price")  # type: ignore[arg-type]
