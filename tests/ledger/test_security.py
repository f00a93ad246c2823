"""Fixes from the contracts' security review, each with the attack it stops."""

from __future__ import annotations

import secrets

from kraken_market.ledger.errors import ChainConflict, InvalidTransaction, NotPermitted
from kraken_market.ledger.model import ModeCode, Prices, StakeStatus
from tests.ledger.conftest import DATA, Market, time_travel

LONG = 400 * 86400


def test_a_price_raised_before_the_purchase_refuses_it(local_market: Market) -> None:
    """Front-running: the seller raises the price between quote and purchase."""
    market = local_market
    buyer = market.funded(market.buyer)
    product = market.publish(prices=Prices(access=2 * DATA))
    market.grant(buyer, product, seconds=LONG)
    quoted = buyer.terms(product)[2].access
    market.seller.set_prices(product, Prices(access=500 * DATA))
    before = buyer.balance()
    with Market.refused(ChainConflict, "price_changed"):
        buyer.buy_access(product, 0, max_amount=quoted)
    assert buyer.balance() == before
    stream = market.publish(
        mode=ModeCode.STREAM, prices=Prices(subscription_per_second=1, subscription_min_seconds=10)
    )
    market.grant(buyer, stream, seconds=LONG)
    with Market.refused(ChainConflict, "price_changed"):
        buyer.subscribe(stream, 0, 100, max_amount=99)
    analytics = market.publish(mode=ModeCode.ANALYTICS, prices=Prices(computation=3 * DATA))
    market.grant(buyer, analytics, seconds=LONG)
    with Market.refused(ChainConflict, "price_changed"):
        buyer.request_computation(
            secrets.token_bytes(32), b"\x01" * 32, [analytics], 0, b"\x02" * 32, max_amount=DATA
        )
    assert buyer.balance() == before


def test_a_raised_claim_bond_refuses_the_claim(local_market: Market) -> None:
    market = local_market
    buyer = market.funded(market.buyer)
    product = market.publish()
    market.grant(buyer, product, seconds=LONG)
    purchase, _ = buyer.buy_access(product, 0)
    bond = int(buyer.parameters().claim_bond)
    with Market.refused(ChainConflict, "bond_changed"):
        buyer.transact(
            "file claim", "Market", "file_claim", purchase, bytes.fromhex(product[2:]),
            b"\x0e" * 32, bond - 1,
        )  # fmt: skip
    assert buyer.claim(purchase) is None


def test_a_free_or_undelivered_purchase_releases_no_stake(local_market: Market) -> None:
    """A seller buying its own product for free, or reclaiming its own computation,
    must not get its stake back by approving."""
    market = local_market
    seller = market.funded(market.seller)
    free = market.publish(prices=Prices(access=0))
    market.grant(seller, free, seconds=LONG)
    purchase, _ = seller.buy_access(free, 0)
    with Market.refused(ChainConflict, "free_purchase"):
        seller.approve_product(purchase, free)
    analytics = market.publish(mode=ModeCode.ANALYTICS, prices=Prices(computation=1 * DATA))
    market.grant(seller, analytics, seconds=LONG)
    request = secrets.token_bytes(32)
    bought, _ = seller.request_computation(request, b"\x01" * 32, [analytics], 0, b"\x02" * 32)
    time_travel(market, 3601)
    seller.reclaim(request)
    with Market.refused(ChainConflict, "not_delivered"):
        seller.approve_product(bought, analytics)
    assert seller.stake(analytics).status is StakeStatus.LOCKED
    market.assert_escrow_balanced()


def test_consent_belongs_to_the_current_owner(local_market: Market) -> None:
    """A member sold while the union is pending: the former owner's consent no longer
    counts for it, the new owner's does."""
    market = local_market
    seller, other, third = market.seller, market.funded(market.other), market.as_(5)
    mine, theirs = market.publish(), market.publish(other)
    union, _ = seller.propose_union({mine: 1, theirs: 1})
    other.transfer_product(theirs, third.address)
    third.accept_product(theirs)
    with Market.refused(NotPermitted, "consent_not_expected"):
        other.consent_union(union)  # owns no member any more
    assert seller.union(union)["status"] == "pending"  # type: ignore[index]
    third.consent_union(union)
    assert seller.union(union)["status"] == "active"  # type: ignore[index]


def test_union_weights_are_bounded(local_market: Market) -> None:
    """Huge weights would overflow the revenue split and lock claims forever."""
    market = local_market
    first, second = market.publish(), market.publish()
    with Market.refused(InvalidTransaction, "bad_weight"):
        market.seller.propose_union({first: 1, second: 1_000_001})
