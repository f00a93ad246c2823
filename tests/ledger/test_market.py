"""Market: grants, purchases (access, subscriptions, computations) and payouts.

Both backends (``market``): the marketplace's main path through every
contract - the faucet and the Market's allowance (DataToken), publishing with
a lineage and a union with consent (Registry), the pause switch and the
compute nodes (Authority), and in the Market a grant and its revocation, an
access purchase paid to the owner minus the fee, a union's revenue split by
weight, a held computation payment paid out at the attestation threshold, and
an upheld claim. That is the representative subset: a ``chain serve``
backend costs seconds to start per module, so the other contract modules run
in process only. In process (``local_market``): every refusal, subscriptions,
and what needs the clock moved (an expired grant, a reclaim after the deadline).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from kraken_market.catalog.ids import union_id
from kraken_market.ledger.client import ZERO_ADDRESS, Ledger, as_bytes32
from kraken_market.ledger.errors import (
    ChainConflict,
    GrantRequired,
    InsufficientFunds,
    InvalidTransaction,
    MarketPaused,
    NotOnChain,
    NotPermitted,
    Reverted,
)
from kraken_market.ledger.model import (
    AvailabilityCode,
    ClaimStatus,
    ModeCode,
    PaymentStatus,
    Prices,
    PurchaseKind,
    Stake,
    StakeStatus,
)
from kraken_market.types import ProductId
from tests.ledger.conftest import DATA, PARAMETERS, Market, time_travel

LONG = 400 * 86400  # grants outlive any time travel in this module
FEE_BPS = PARAMETERS["fee_bps"]
KEY = b"\x4b" * 32  # hash of a result key
FUNCTION = b"\x46" * 32
Case = tuple[type[Reverted], str, Callable[[], object]]


def fee(amount: int) -> int:
    return amount * FEE_BPS // 10_000


def split(amount: int, weights: list[int]) -> list[int]:
    """The Market's payout: fee off, the rest by weight, the remainder to the last payee."""
    rest = amount - fee(amount)
    shares = [rest * weight // sum(weights) for weight in weights[:-1]]
    return [*shares, rest - sum(shares)]


def balances(ledger: Ledger, *accounts: str) -> list[int]:
    return [ledger.balance(account) for account in accounts]


def request_id() -> bytes:
    return secrets.token_bytes(32)


def assert_refused(cases: list[Case]) -> None:
    for kind, reason, call in cases:
        with Market.refused(kind, reason):
            call()


@pytest.fixture(scope="module", autouse=True)
def _two_run_estimates(local_market: Market) -> None:
    local_market.estimate_in_two_runs()


# -- both backends -------------------------------------------------------------------------


@dataclass
class Goods:
    """Products, a union and the buyer's grants, made once per backend."""

    batch: str  # the seller's, 4 DATA
    batch_other: str  # the other account's, 3 DATA + 1 (a split with a remainder)
    analytics: str  # the seller's, 3 DATA; its parents: the two batch products
    analytics_other: str  # the other account's, 5 DATA
    union: bytes  # batch (weight 2) and batch_other (weight 5)


@pytest.fixture(scope="module")
def goods(market: Market) -> Goods:
    if market.backend == "in-process":
        market.estimate_in_two_runs()
    seller, other, buyer = market.seller, market.other, market.buyer
    for ledger in (seller, other, buyer):
        market.funded(ledger, 10_000 * DATA)
        ledger.ensure_allowance(1)
    batch, batch_other = market.publish(), market.publish(other, prices=Prices(access=3 * DATA + 1))
    union, _ = seller.propose_union({batch: 2, batch_other: 5})
    other.consent_union(union)
    goods = Goods(
        batch=batch,
        batch_other=batch_other,
        analytics=market.publish(mode=ModeCode.ANALYTICS, parents=(batch, batch_other)),
        analytics_other=market.publish(
            other, mode=ModeCode.ANALYTICS, prices=Prices(computation=5 * DATA)
        ),
        union=union,
    )
    for item in (goods.analytics, goods.analytics_other, union.hex()):
        market.grant(buyer, item, seconds=LONG)
    return goods


def test_products_union_and_lineage_as_published(market: Market, goods: Goods) -> None:
    seller = market.seller
    analytics = seller.product(goods.analytics)
    assert analytics is not None
    assert (analytics.owner, analytics.mode, analytics.availability) == (
        seller.address,
        ModeCode.ANALYTICS,
        AvailabilityCode.LISTED,
    )
    assert analytics.parents == (as_bytes32(goods.batch), as_bytes32(goods.batch_other))
    assert seller.stake(goods.analytics) == Stake(20 * DATA, StakeStatus.LOCKED, 0, 3 * DATA)
    union = seller.union(goods.union)
    assert union is not None
    assert union["status"] == "active"
    assert union["members"] == {as_bytes32(goods.batch): 2, as_bytes32(goods.batch_other): 5}
    members = [ProductId(goods.batch), ProductId(goods.batch_other)]
    assert union["union_id"] == as_bytes32(union_id(members))


def test_grant_then_buy_access(market: Market, goods: Goods) -> None:
    verifier, seller, buyer = market.verifier, market.seller, market.buyer
    treasury = market.treasury.address
    expiry = market.now() + LONG
    receipt = verifier.grant(buyer.address, goods.batch, 1, expiry)
    assert receipt.first("Granted").args == {
        "item": as_bytes32(goods.batch),
        "buyer": buyer.address,
        "purpose": 1,
        "expiry": expiry,
    }
    assert buyer.has_grant(buyer.address, goods.batch, 1)
    assert not buyer.has_grant(buyer.address, goods.batch, 0)  # grants are per purpose
    market_views = buyer.contracts["Market"].functions
    assert market_views.grants(buyer.address, as_bytes32(goods.batch), 1).call() == expiry
    count = market_views.purchase_count().call()
    before = balances(buyer, buyer.address, seller.address, treasury)
    purchase, receipt = buyer.buy_access(goods.batch, 1)
    price = 4 * DATA
    assert balances(buyer, buyer.address, seller.address, treasury) == [
        before[0] - price,
        before[1] + price - fee(price),
        before[2] + fee(price),
    ]
    assert receipt.first("Revenue").args["amount"] == price - fee(price)
    record = buyer.purchase(purchase)
    assert record is not None
    assert (record.buyer, record.kind, record.purpose) == (buyer.address, PurchaseKind.ACCESS, 1)
    assert (record.amount, record.items) == (price, (as_bytes32(goods.batch),))
    assert purchase == count + 1 == market_views.purchase_count().call()
    assert buyer.purchase(purchase + 1) is None
    receipt = verifier.revoke_grant(buyer.address, goods.batch, 1)
    assert receipt.first("GrantRevoked").args["purpose"] == 1
    assert not buyer.has_grant(buyer.address, goods.batch, 1)
    with market.refused(GrantRequired, "no_grant"):
        buyer.buy_access(goods.batch, 1)
    market.assert_escrow_balanced()


def test_buying_a_union_splits_revenue_by_weight(market: Market, goods: Goods) -> None:
    seller, other, buyer = market.seller, market.other, market.buyer
    treasury = market.treasury.address
    assert buyer.terms(goods.union) == (ModeCode.BATCH, True, Prices(access=7 * DATA + 1))
    before = balances(buyer, seller.address, other.address, treasury)
    purchase, receipt = buyer.buy_access(goods.union, 0)
    price = 7 * DATA + 1
    owners = {as_bytes32(goods.batch): seller.address, as_bytes32(goods.batch_other): other.address}
    weights = {as_bytes32(goods.batch): 2, as_bytes32(goods.batch_other): 5}
    order = sorted(owners)  # payees in member order: the last one gets the remainder
    payees = [owners[member] for member in order]
    shares = dict(zip(payees, split(price, [weights[m] for m in order]), strict=True))
    assert sum(shares.values()) + fee(price) == price
    assert balances(buyer, seller.address, other.address, treasury) == [
        before[0] + shares[seller.address],
        before[1] + shares[other.address],
        before[2] + fee(price),
    ]
    assert [e.args["payee"] for e in receipt.events if e.name == "Revenue"] == payees
    assert buyer.purchase(purchase).items == (goods.union,)  # type: ignore[union-attr]
    market.assert_escrow_balanced()


def test_computation_is_paid_out_at_the_attestation_threshold(market: Market, goods: Goods) -> None:
    seller, other, buyer = market.seller, market.other, market.buyer
    items, request = [goods.analytics, goods.analytics_other], request_id()
    before = balances(buyer, buyer.address, seller.address, other.address)
    purchase, receipt = buyer.request_computation(request, FUNCTION, items, 0, KEY)
    assert receipt.first("ComputationRequested").args["items"] == tuple(map(as_bytes32, items))
    assert [e.args["amount"] for e in receipt.events if e.name == "ComputationItem"] == [
        3 * DATA,
        5 * DATA,
    ]
    held = buyer.computation(request)
    assert held is not None
    assert (held.purchase_id, held.amount, held.status) == (purchase, 8 * DATA, PaymentStatus.HELD)
    assert buyer.awaiting_delivery(request)
    market.assert_escrow_balanced()
    market.as_(4).attest(request, b"\x01" * 32)
    assert buyer.computation(request).attestations == 1  # type: ignore[union-attr]
    assert buyer.balance(seller.address) == before[1]  # below the threshold: still held
    receipt = market.as_(5).attest(request, b"\x01" * 32)
    assert receipt.first("ComputationPaid").args["amount"] == 8 * DATA
    assert not buyer.awaiting_delivery(request)
    # each item's owner is paid its own item's price, minus the fee
    assert balances(buyer, buyer.address, seller.address, other.address) == [
        before[0] - 8 * DATA,
        before[1] + 3 * DATA - fee(3 * DATA),
        before[2] + 5 * DATA - fee(5 * DATA),
    ]
    with market.refused(ChainConflict, "computation_not_held"):
        market.as_(6).attest(request, b"\x01" * 32)
    market.assert_escrow_balanced()


def test_a_node_refusal_refunds_the_buyer_at_once(market: Market, goods: Goods) -> None:
    """A node that cannot compute for a reason the buyer did not cause (here: its share
    file was tampered with) refuses: the whole held amount is the buyer's again in the
    same transaction, the sellers get nothing, and nothing can settle it again."""
    seller, other, buyer, node = market.seller, market.other, market.buyer, market.as_(6)
    items, request = [goods.analytics, goods.analytics_other], request_id()
    before = balances(buyer, buyer.address, seller.address, other.address, node.address)
    purchase, _ = buyer.request_computation(request, FUNCTION, items, 0, KEY)
    assert buyer.balance() == before[0] - 8 * DATA
    receipt = node.refuse(request, "envelope_tampered")
    refused = receipt.first("ComputationRefused").args
    assert refused == {
        "request_id": request,
        "buyer": buyer.address,
        "node": node.address,
        "reason": b"envelope_tampered".ljust(32, b"\x00"),
        "amount": 8 * DATA,
    }
    assert balances(buyer, buyer.address, seller.address, other.address, node.address) == before
    record = buyer.computation(request)
    assert record is not None and record.status is PaymentStatus.REFUNDED
    assert not buyer.awaiting_delivery(request)
    refusal = buyer.refusal(request)
    assert refusal is not None
    assert (refusal.node, refusal.reason, refusal.tx_hash) == (
        node.address,
        "envelope_tampered",
        receipt.tx_hash,
    )
    assert buyer.refusal(request_id()) is None
    market.assert_escrow_balanced()
    # refunded is final: no attestation, second refusal, reclaim, approval or claim
    assert_refused(
        [
            (ChainConflict, "computation_not_held", lambda: market.as_(4).attest(request, KEY)),
            (ChainConflict, "computation_not_held", lambda: market.as_(5).refuse(request, "x")),
            (ChainConflict, "computation_not_held", lambda: buyer.reclaim(request)),
            (ChainConflict, "not_delivered", lambda: buyer.approve_product(purchase, items[0])),
            (ChainConflict, "not_delivered", lambda: buyer.file_claim(purchase, items[0], KEY)),
        ]
    )
    assert buyer.balance() == before[0]
    market.assert_escrow_balanced()


def test_an_upheld_claim_refunds_from_the_stake(market: Market, goods: Goods) -> None:
    seller, buyer, arbiter = market.seller, market.buyer, market.arbiter
    treasury, bond = market.treasury.address, PARAMETERS["claim_bond"]
    product = market.publish(stake=20 * DATA)
    market.grant(buyer, product)
    purchase, _ = buyer.buy_access(product, 0)
    spent = buyer.balance()
    buyer.file_claim(purchase, product, b"\x0e" * 32)
    assert spent - buyer.balance() == bond
    claim = buyer.claim(purchase)
    assert claim is not None
    assert (claim.claimant, claim.bond, claim.status) == (buyer.address, bond, ClaimStatus.OPEN)
    assert buyer.stake(product) == Stake(20 * DATA, StakeStatus.LOCKED, 1, 4 * DATA)
    market.assert_escrow_balanced()
    before = balances(buyer, buyer.address, seller.address, treasury)
    # bond back, the price paid (4) refunded out of the stake (20), the rest of the
    # stake to the treasury, the product delisted
    receipt = arbiter.rule(purchase, uphold=True)
    ruled = receipt.first("ClaimRuled").args
    assert (ruled["refund"], ruled["slashed"]) == (4 * DATA, 16 * DATA)
    assert balances(buyer, buyer.address, seller.address, treasury) == [
        before[0] + bond + 4 * DATA,
        before[1],
        before[2] + 16 * DATA,
    ]
    assert buyer.stake(product) == Stake(0, StakeStatus.SLASHED, 0, 4 * DATA)
    assert buyer.product(product).availability is AvailabilityCode.DELISTED  # type: ignore[union-attr]
    assert buyer.claim(purchase).status is ClaimStatus.UPHELD  # type: ignore[union-attr]
    with market.refused(NotOnChain, "no_open_claim"):
        arbiter.rule(purchase, uphold=True)
    market.assert_escrow_balanced()


def test_a_paused_market_refuses_purchases(market: Market, goods: Goods) -> None:
    admin, buyer = market.admin, market.buyer
    admin.pause()
    try:
        assert buyer.paused()
        before = buyer.balance()
        with market.refused(MarketPaused, "paused"):
            buyer.buy_access(goods.union, 0)
        assert buyer.balance() == before
    finally:
        admin.unpause()
    assert not buyer.paused()


def test_buying_needs_the_markets_allowance(market: Market, goods: Goods) -> None:
    buyer = market.buyer
    buyer.approve_spending(0)
    try:
        before = buyer.balance()
        with market.refused(InsufficientFunds, "erc20: insufficient allowance"):
            # raw: the client's buy_access would approve the Market first
            buyer.transact("buy access", "Market", "buy_access", goods.union, 0, 2**256 - 1)
        assert buyer.balance() == before
    finally:
        buyer.approve_spending(2**256 - 1)


# -- in process: refusals, subscriptions and the clock -------------------------------------


@dataclass
class Shop:
    """Products and grants made once for this module's in-process tests."""

    batch: str
    stream: str
    analytics: str
    analytics_paused: str
    analytics_ungranted: str  # the buyer has no grant for it


@pytest.fixture(scope="module")
def shop(local_market: Market) -> Shop:
    market = local_market
    for ledger in (market.seller, market.buyer):
        market.funded(ledger, 10_000 * DATA)
        ledger.ensure_allowance(1)
    analytics_paused = market.publish(mode=ModeCode.ANALYTICS)
    market.seller.set_availability(analytics_paused, AvailabilityCode.PAUSED)
    shop = Shop(
        batch=market.publish(),
        stream=market.publish(mode=ModeCode.STREAM),  # 10**15 per second, 60 s at least
        analytics=market.publish(mode=ModeCode.ANALYTICS),  # 3 DATA
        analytics_paused=analytics_paused,
        analytics_ungranted=market.publish(mode=ModeCode.ANALYTICS),
    )
    for item in (shop.batch, shop.stream, shop.analytics):
        market.grant(market.buyer, item, seconds=LONG)
    return shop


def test_subscriptions_add_up(local_market: Market, shop: Shop) -> None:
    buyer, seller = local_market.buyer, local_market.seller
    before = balances(buyer, buyer.address, seller.address)
    purchase, receipt = buyer.subscribe(shop.stream, 0, 60)
    first = buyer.paid_until(buyer.address, shop.stream)
    assert receipt.first("Subscribed").args["paid_until"] == first
    assert buyer.purchase(purchase).kind is PurchaseKind.SUBSCRIPTION  # type: ignore[union-attr]
    # from the end of the time already paid, not from now
    buyer.subscribe(shop.stream, 0, 120)
    assert buyer.paid_until(buyer.address, shop.stream) - first == 120
    paid = [60 * 10**15, 120 * 10**15]
    assert balances(buyer, buyer.address, seller.address) == [
        before[0] - sum(paid),
        before[1] + sum(amount - fee(amount) for amount in paid),
    ]


def test_grant_refusals(local_market: Market, shop: Shop) -> None:
    verifier, other, buyer = local_market.verifier, local_market.other, local_market.buyer
    now = local_market.now()
    expiry = now + LONG
    assert_refused(
        [
            (
                NotPermitted,
                "not_authorised",
                lambda: other.grant(buyer.address, shop.batch, 4, expiry),
            ),
            (
                InvalidTransaction,
                "zero_address",
                lambda: verifier.grant(ZERO_ADDRESS, shop.batch, 4, expiry),
            ),
            (
                InvalidTransaction,
                "grant_expired",
                lambda: verifier.grant(buyer.address, shop.batch, 4, now),
            ),
            (
                InvalidTransaction,
                "grant_expired",
                lambda: verifier.grant(buyer.address, shop.batch, 4, 1),
            ),
            (
                NotPermitted,
                "not_authorised",
                lambda: other.revoke_grant(buyer.address, shop.batch, 0),
            ),
            (
                NotOnChain,
                "unknown_grant",
                lambda: verifier.revoke_grant(buyer.address, shop.batch, 4),
            ),
        ]
    )
    assert not buyer.has_grant(buyer.address, shop.batch, 4)
    assert buyer.has_grant(buyer.address, shop.batch, 0)


def test_an_expired_grant_is_refused_at_purchase(local_market: Market, shop: Shop) -> None:
    verifier, buyer = local_market.verifier, local_market.buyer
    verifier.grant(buyer.address, shop.batch, 2, local_market.now() + 100)
    assert buyer.has_grant(buyer.address, shop.batch, 2)
    time_travel(local_market, 101)
    assert not buyer.has_grant(buyer.address, shop.batch, 2)
    before = buyer.balance()
    with local_market.refused(GrantRequired, "no_grant"):
        buyer.buy_access(shop.batch, 2)
    assert buyer.balance() == before


def test_purchase_refusals(local_market: Market, shop: Shop) -> None:
    buyer, other = local_market.buyer, local_market.other
    before = buyer.balance()
    unknown = secrets.token_bytes(32)
    assert_refused(
        [
            (NotOnChain, "unknown_product", lambda: buyer.buy_access(unknown, 0)),
            (InvalidTransaction, "wrong_access_mode", lambda: buyer.buy_access(shop.stream, 0)),
            (InvalidTransaction, "wrong_access_mode", lambda: buyer.subscribe(shop.batch, 0, 60)),
            (GrantRequired, "no_grant", lambda: buyer.buy_access(shop.batch, 3)),  # per purpose
            (GrantRequired, "no_grant", lambda: other.buy_access(shop.batch, 0)),  # per buyer
            (
                InvalidTransaction,
                "subscription_too_short",
                lambda: buyer.subscribe(shop.stream, 0, 59),
            ),
        ]
    )
    assert buyer.balance() == before


def test_request_computation_refusals(local_market: Market, shop: Shop) -> None:
    buyer = local_market.buyer
    taken = request_id()
    buyer.request_computation(taken, FUNCTION, [shop.analytics], 0, KEY)
    before = buyer.balance()
    a, fresh = shop.analytics, request_id()

    def request(request: bytes, items: list[str | bytes], key: bytes = KEY) -> Callable[[], object]:
        return lambda: buyer.request_computation(request, FUNCTION, items, 0, key)

    assert_refused(
        [
            (InvalidTransaction, "bad_request_id", request(bytes(32), [a])),
            (ChainConflict, "request_exists", request(taken, [a])),
            (InvalidTransaction, "no_items", request(fresh, [])),
            (InvalidTransaction, "bad_result_key", request(fresh, [a], bytes(32))),
            (InvalidTransaction, "duplicate_item", request(fresh, [a, a])),
            (NotOnChain, "unknown_product", request(fresh, [a, secrets.token_bytes(32)])),
            (InvalidTransaction, "wrong_access_mode", request(fresh, [a, shop.batch])),
            (ChainConflict, "not_listed", request(fresh, [shop.analytics_paused])),
            (GrantRequired, "no_grant", request(fresh, [a, shop.analytics_ungranted])),
        ]
    )
    assert buyer.balance() == before
    assert buyer.computation(fresh) is None


def test_attest_refusals(local_market: Market, shop: Shop) -> None:
    market = local_market
    request, node = request_id(), market.as_(4)
    market.buyer.request_computation(request, FUNCTION, [shop.analytics], 0, KEY)
    assert_refused(
        [
            (NotPermitted, "not_node", lambda: market.buyer.attest(request, b"\x01" * 32)),
            (ChainConflict, "computation_not_held", lambda: node.attest(request_id(), KEY)),
            (InvalidTransaction, "bad_commitment", lambda: node.attest(request, bytes(32))),
        ]
    )
    receipt = node.attest(request, b"\x01" * 32)
    assert receipt.first("Attested").args["node"] == node.address
    with market.refused(ChainConflict, "already_attested"):
        node.attest(request, b"\x02" * 32)
    assert market.buyer.computation(request).attestations == 1  # type: ignore[union-attr]
    attestations = market.buyer.contracts["Market"].functions.attestations
    assert attestations(request, node.address).call() == b"\x01" * 32


def test_reclaim_after_the_deadline(local_market: Market, shop: Shop) -> None:
    market = local_market
    buyer, other = market.buyer, market.other
    request = request_id()
    buyer.request_computation(request, FUNCTION, [shop.analytics], 0, KEY)
    assert_refused(
        [
            (NotOnChain, "unknown_request", lambda: buyer.reclaim(request_id())),
            (NotPermitted, "not_buyer", lambda: other.reclaim(request)),
            (ChainConflict, "deadline_not_passed", lambda: buyer.reclaim(request)),
        ]
    )
    time_travel(market, PARAMETERS["computation_deadline"] + 1)
    before = buyer.balance()
    receipt = buyer.reclaim(request)
    assert receipt.first("ComputationReclaimed").args["amount"] == 3 * DATA
    assert buyer.balance() - before == 3 * DATA
    assert buyer.computation(request).status is PaymentStatus.RECLAIMED  # type: ignore[union-attr]
    assert not buyer.awaiting_delivery(request)
    assert_refused(
        [
            (ChainConflict, "computation_not_held", lambda: buyer.reclaim(request)),
            (ChainConflict, "computation_not_held", lambda: market.as_(4).attest(request, KEY)),
        ]
    )
    market.assert_escrow_balanced()


def test_refuse_refusals(local_market: Market, shop: Shop) -> None:
    """Only a registered node refuses, with a reason, a held payment that no node
    attested yet (an attestation means every node computed: a refund then would give
    the result away), and not while the market is paused (the buyer may reclaim)."""
    market = local_market
    buyer, node = market.buyer, market.as_(4)
    request = request_id()
    buyer.request_computation(request, FUNCTION, [shop.analytics], 0, KEY)
    before = buyer.balance()
    assert_refused(
        [
            (NotPermitted, "not_node", lambda: buyer.refuse(request, "object_not_found")),
            (ChainConflict, "computation_not_held", lambda: node.refuse(request_id(), "x")),
            (
                InvalidTransaction,
                "bad_refusal_reason",
                lambda: node.transact("refuse", "Market", "refuse", request, bytes(32)),
            ),
        ]
    )
    market.admin.pause()
    try:
        with market.refused(MarketPaused, "paused"):
            node.refuse(request, "object_not_found")
    finally:
        market.admin.unpause()
    node.attest(request, b"\x01" * 32)
    for refuser in (node, market.as_(5)):  # the attester, and a node that did not attest
        with market.refused(ChainConflict, "delivery_attested"):
            refuser.refuse(request, "object_not_found")
    record = buyer.computation(request)
    assert record is not None and record.status is PaymentStatus.HELD
    assert buyer.balance() == before
    market.as_(5).attest(request, b"\x01" * 32)  # delivered and paid out as usual
    assert buyer.computation(request).status is PaymentStatus.PAID  # type: ignore[union-attr]
    with market.refused(ChainConflict, "computation_not_held"):
        market.as_(6).refuse(request, "object_not_found")
    with pytest.raises(ValueError, match="1-32 ASCII"):
        node.refuse(request, "a_reason_longer_than_thirty_two_bytes")
    market.assert_escrow_balanced()


def test_a_removed_node_cannot_refuse(local_market: Market, shop: Shop) -> None:
    market = local_market
    request, node = request_id(), market.as_(6)
    market.buyer.request_computation(request, FUNCTION, [shop.analytics], 0, KEY)
    market.admin.remove_node(node.address)
    try:
        with market.refused(NotPermitted, "not_node"):
            node.refuse(request, "object_not_found")
    finally:
        market.admin.register_node(node.address, bytes([6]) * 32, "https://node6.test")
    node.refuse(request, "object_not_found")
    assert market.buyer.computation(request).status is PaymentStatus.REFUNDED  # type: ignore[union-attr]


def test_a_paid_computation_cannot_be_reclaimed(local_market: Market, shop: Shop) -> None:
    market = local_market
    request = request_id()
    market.buyer.request_computation(request, FUNCTION, [shop.analytics], 0, KEY)
    market.as_(5).attest(request, KEY)
    market.as_(6).attest(request, KEY)
    time_travel(market, PARAMETERS["computation_deadline"] + 1)
    with market.refused(ChainConflict, "computation_not_held"):
        market.buyer.reclaim(request)
    record = market.buyer.computation(request)
    assert record is not None
    assert (record.status, record.attestations) == (PaymentStatus.PAID, 2)


def test_only_the_registry_locks_stakes(local_market: Market) -> None:
    seller, product = local_market.seller, secrets.token_bytes(32)
    with local_market.refused(NotPermitted, "not_registry"):
        seller.transact("lock stake", "Market", "lock_stake", product, seller.address, DATA, 0)
