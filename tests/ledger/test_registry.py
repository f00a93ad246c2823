"""Registry: products, their lineage and owners, and Data Unions with consent.

In process (``local_market``); publishing, a union's proposal and consent and
a lineage run on both backends in ``test_market``. Most refusals share a few
products published once for the module: a refusal changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import pytest

from kraken_market.catalog.ids import union_id
from kraken_market.ledger.client import ZERO_ADDRESS, Ledger, as_bytes32, dev_account
from kraken_market.ledger.contracts import artifact
from kraken_market.ledger.errors import (
    ChainConflict,
    InsufficientFunds,
    InvalidTransaction,
    NotOnChain,
    NotPermitted,
    Reverted,
)
from kraken_market.ledger.model import AvailabilityCode, ModeCode, Prices, Stake, StakeStatus
from kraken_market.types import ProductId
from tests.ledger.conftest import DATA, PARAMETERS, Market, time_travel

LONG = 400 * 86400
BATCH_PRICES = Prices(access=4 * DATA)
STREAM_PRICES = Prices(subscription_per_second=2, subscription_min_seconds=60)


def catalog_union(*members: str) -> bytes:
    return as_bytes32(union_id([ProductId(member) for member in members]))


def sorted_ids(*members: str) -> list[bytes]:
    return sorted(as_bytes32(member) for member in members)


def propose_raw(ledger: Ledger, members: list[bytes], weights: list[int]) -> None:
    """propose_union as sent, without the client's sorting (which hides these refusals)."""
    ledger.transact("propose union", "Registry", "propose_union", members, weights)


@pytest.fixture(scope="module", autouse=True)
def _two_run_estimates(local_market: Market) -> None:
    local_market.estimate_in_two_runs()


@dataclass
class Catalog:
    """Products published once for this module's tests."""

    batch: str
    batch_2: str
    stream: str
    retired: str
    others: str  # batch, owned by the other account


@pytest.fixture(scope="module")
def catalog(local_market: Market) -> Catalog:
    market = local_market
    for ledger in (market.seller, market.other):
        market.funded(ledger, 10_000 * DATA)
        ledger.ensure_allowance(1)
    retired = market.publish()
    market.seller.set_availability(retired, AvailabilityCode.RETIRED)
    return Catalog(
        batch=market.publish(),
        batch_2=market.publish(),
        stream=market.publish(mode=ModeCode.STREAM, prices=STREAM_PRICES),
        retired=retired,
        others=market.publish(market.other),
    )


# -- products ------------------------------------------------------------------------------


def test_publish_records_product_lineage_and_stake(local_market: Market, catalog: Catalog) -> None:
    seller = local_market.seller
    child, before = secrets.token_bytes(32), seller.balance()
    receipt = seller.publish(
        child,
        mode=ModeCode.STREAM,
        prices=STREAM_PRICES,
        metadata_hash=b"\x01" * 32,
        policy_hash=b"\x02" * 32,
        parents=[catalog.batch, catalog.others],  # another owner's product too
        stake=15 * DATA,
    )
    parents = (as_bytes32(catalog.batch), as_bytes32(catalog.others))
    published = receipt.first("ProductPublished").args
    assert (published["owner"], published["stake"], published["parents"]) == (
        seller.address,
        15 * DATA,
        parents,
    )
    assert receipt.first("StakeLocked").args["amount"] == 15 * DATA
    product = seller.product(child)
    assert product is not None
    assert (product.owner, product.pending_owner) == (seller.address, None)
    assert (product.metadata_hash, product.policy_hash) == (b"\x01" * 32, b"\x02" * 32)
    assert (product.mode, product.availability) == (ModeCode.STREAM, AvailabilityCode.LISTED)
    assert (product.prices, product.parents) == (STREAM_PRICES, parents)
    assert seller.terms(child) == (ModeCode.STREAM, True, STREAM_PRICES)
    assert seller.stake(child) == Stake(
        15 * DATA,
        StakeStatus.LOCKED,
        0,
        STREAM_PRICES.subscription_per_second * STREAM_PRICES.subscription_min_seconds,
    )
    assert before - seller.balance() == 15 * DATA
    # a grandchild: the lineage is a graph of published products
    grandchild = local_market.publish(parents=(child.hex(),))
    assert seller.parents_of(grandchild) == [child]
    assert seller.product(secrets.token_bytes(32)) is None
    local_market.assert_escrow_balanced()


@pytest.mark.parametrize(
    ("mode", "prices"),
    [
        pytest.param(ModeCode.BATCH, Prices(access=1, subscription_per_second=1), id="batch-sps"),
        pytest.param(ModeCode.BATCH, Prices(access=1, subscription_min_seconds=1), id="batch-min"),
        pytest.param(ModeCode.BATCH, Prices(access=1, computation=1), id="batch-computation"),
        pytest.param(ModeCode.STREAM, Prices(subscription_per_second=1), id="stream-no-min"),
        pytest.param(
            ModeCode.STREAM,
            Prices(access=1, subscription_per_second=1, subscription_min_seconds=1),
            id="stream-access",
        ),
        pytest.param(
            ModeCode.STREAM,
            Prices(computation=1, subscription_min_seconds=1),
            id="stream-computation",
        ),
        pytest.param(ModeCode.ANALYTICS, Prices(computation=1, access=1), id="analytics-access"),
        pytest.param(
            ModeCode.ANALYTICS, Prices(computation=1, subscription_per_second=1), id="analytics-sps"
        ),
        pytest.param(
            ModeCode.ANALYTICS,
            Prices(computation=1, subscription_min_seconds=1),
            id="analytics-min",
        ),
    ],
)
def test_only_the_modes_own_prices(
    local_market: Market, catalog: Catalog, mode: ModeCode, prices: Prices
) -> None:
    seller = local_market.seller
    with Market.refused(InvalidTransaction, "bad_prices"):
        seller.publish(secrets.token_bytes(32), mode=mode, prices=prices, stake=10 * DATA)
    product = {ModeCode.BATCH: catalog.batch, ModeCode.STREAM: catalog.stream}.get(mode)
    if product:
        with Market.refused(InvalidTransaction, "bad_prices"):
            seller.set_prices(product, prices)
        assert seller.product(product).prices != prices  # type: ignore[union-attr]


def test_publish_refusals(local_market: Market, catalog: Catalog) -> None:
    seller, fresh = local_market.seller, secrets.token_bytes(32)
    before = seller.balance()

    def publish(
        kind: type[Reverted],
        reason: str,
        product_id: bytes,
        mode: int = ModeCode.BATCH,
        prices: Prices = BATCH_PRICES,
        parents: tuple[str, ...] = (),
        stake: int = 10 * DATA,
    ) -> None:
        with Market.refused(kind, reason):
            seller.publish(
                product_id,
                mode=cast("ModeCode", mode),
                prices=prices,
                parents=parents,
                stake=stake,
            )

    publish(InvalidTransaction, "bad_product_id", bytes(32))
    publish(ChainConflict, "product_exists", as_bytes32(catalog.batch))
    publish(ChainConflict, "product_exists", as_bytes32(catalog.others))
    publish(InvalidTransaction, "bad_mode", fresh, mode=0, prices=Prices())
    publish(InvalidTransaction, "bad_mode", fresh, mode=4, prices=Prices())
    publish(InvalidTransaction, "stake_too_low", fresh, stake=PARAMETERS["min_stake"] - 1)
    unknown = "0x" + secrets.token_hex(32)
    publish(NotOnChain, "unknown_parent", fresh, parents=(catalog.batch, unknown))
    assert seller.product(fresh) is None
    assert seller.balance() == before


def test_the_stake_is_pulled_with_allowance_and_balance(
    local_market: Market, catalog: Catalog
) -> None:
    other = local_market.other
    other.approve_spending(0)
    before = other.balance()
    try:
        with Market.refused(InsufficientFunds, "erc20: insufficient allowance"):
            # raw: the client's publish would approve the Market first
            other.transact(
                "publish",
                "Registry",
                "publish",
                secrets.token_bytes(32),
                bytes(32),
                bytes(32),
                int(ModeCode.BATCH),
                BATCH_PRICES.as_tuple(),
                [],
                10 * DATA,
            )
        with Market.refused(InsufficientFunds, "erc20: transfer amount exceeds balance"):
            other.publish(  # approves the Market for the stake, but has not got it
                secrets.token_bytes(32), mode=ModeCode.BATCH, prices=BATCH_PRICES, stake=before + 1
            )
        assert other.balance() == before
    finally:
        other.approve_spending(2**256 - 1)
    local_market.assert_escrow_balanced()


def test_the_registry_is_wired_to_one_market(local_market: Market) -> None:
    market = local_market
    admin, other = market.admin, market.other
    with Market.refused(ChainConflict, "market_already_set"):
        admin.transact("wire", "Registry", "set_market", other.address)
    # a registry not wired yet refuses to publish
    built = artifact("Registry")
    factory = market.w3.eth.contract(abi=built.abi, bytecode=built.bytecode)
    receipt = admin.sender.transact(factory.constructor(market.deployment.authority), "deploy")
    unwired = market.deployment.model_copy(update={"registry": receipt.contract_address})
    seller = Ledger(market.w3, unwired, dev_account(7))
    with Market.refused(ChainConflict, "market_not_set"):
        seller.publish(secrets.token_bytes(32), mode=ModeCode.BATCH, prices=BATCH_PRICES)
    with Market.refused(NotPermitted, "not_admin"):
        seller.transact("wire", "Registry", "set_market", market.deployment.market)
    with Market.refused(InvalidTransaction, "zero_address"):
        Ledger(market.w3, unwired, dev_account(0)).transact(
            "wire", "Registry", "set_market", ZERO_ADDRESS
        )


def test_only_the_market_delists(local_market: Market, catalog: Catalog) -> None:
    with Market.refused(NotPermitted, "not_market"):
        local_market.admin.transact("delist", "Registry", "delist", as_bytes32(catalog.batch))
    assert local_market.admin.terms(catalog.batch)[1]


# -- owners --------------------------------------------------------------------------------


def test_owner_updates_the_product(local_market: Market) -> None:
    seller = local_market.seller
    product = local_market.publish()
    receipt = seller.set_metadata(product, b"\x05" * 32)
    assert receipt.first("MetadataChanged").args == {
        "product_id": as_bytes32(product),
        "metadata_hash": b"\x05" * 32,
    }
    seller.set_policy(product, b"\x06" * 32)
    seller.set_prices(product, Prices(access=9 * DATA))
    receipt = seller.set_availability(product, AvailabilityCode.PAUSED)
    assert receipt.first("AvailabilityChanged").args["availability"] == AvailabilityCode.PAUSED
    updated = seller.product(product)
    assert updated is not None
    assert (updated.metadata_hash, updated.policy_hash) == (b"\x05" * 32, b"\x06" * 32)
    assert seller.terms(product) == (ModeCode.BATCH, False, Prices(access=9 * DATA))
    seller.set_availability(product, AvailabilityCode.LISTED)
    assert seller.terms(product)[1]


def test_owner_only_updates(local_market: Market, catalog: Catalog) -> None:
    other, seller = local_market.other, local_market.seller
    before = seller.product(catalog.batch)
    product, unknown = catalog.batch, secrets.token_bytes(32)
    not_owner: list[Callable[[], object]] = [
        lambda: other.set_metadata(product, b"\x01" * 32),
        lambda: other.set_policy(product, b"\x01" * 32),
        lambda: other.set_prices(product, Prices(access=1)),
        lambda: other.set_availability(product, AvailabilityCode.PAUSED),
        lambda: other.transfer_product(product, other.address),
    ]
    for call in not_owner:
        with Market.refused(NotPermitted, "not_owner"):
            call()
    unknown_product: list[Callable[[], object]] = [
        lambda: seller.set_metadata(unknown, b"\x01" * 32),
        lambda: seller.set_availability(unknown, AvailabilityCode.PAUSED),
        lambda: other.accept_product(unknown),
    ]
    for call in unknown_product:
        with Market.refused(NotOnChain, "unknown_product"):
            call()
    assert seller.product(catalog.batch) == before


def test_availability_rules(local_market: Market, catalog: Catalog) -> None:
    seller = local_market.seller
    for code in (0, 4):  # DELISTED is the arbiter's, through the Market
        with Market.refused(InvalidTransaction, "bad_availability"):
            seller.set_availability(catalog.batch, cast("AvailabilityCode", code))
    with Market.refused(ChainConflict, "unchanged"):
        seller.set_availability(catalog.batch, AvailabilityCode.LISTED)
    # retired is final (delisted too: see test_escrow)
    for code in AvailabilityCode.LISTED, AvailabilityCode.PAUSED, AvailabilityCode.RETIRED:
        with Market.refused(ChainConflict, "product_closed"):
            seller.set_availability(catalog.retired, code)
    assert seller.terms(catalog.retired)[1] is False


def test_two_step_transfer_hands_over_revenue_and_stake(local_market: Market) -> None:
    market = local_market
    seller, other, buyer = market.seller, market.other, market.funded(market.buyer)
    product = market.publish(stake=20 * DATA)
    seller.transfer_product(product, buyer.address)
    seller.transfer_product(product, ZERO_ADDRESS)  # cancelled
    with Market.refused(NotPermitted, "not_pending_owner"):
        buyer.accept_product(product)
    receipt = seller.transfer_product(product, other.address)
    assert receipt.first("OwnershipTransferStarted").args["pending_owner"] == other.address
    pending = seller.product(product)
    assert pending is not None
    assert (pending.owner, pending.pending_owner) == (seller.address, other.address)
    with Market.refused(NotPermitted, "not_pending_owner"):
        buyer.accept_product(product)  # not the one it is transferred to
    receipt = other.accept_product(product)
    assert receipt.first("OwnershipTransferred").args == {
        "product_id": as_bytes32(product),
        "previous_owner": seller.address,
        "owner": other.address,
    }
    moved = other.product(product)
    assert moved is not None
    assert (moved.owner, moved.pending_owner) == (other.address, None)
    with Market.refused(NotPermitted, "not_owner"):
        seller.set_metadata(product, b"\x01" * 32)
    # the new owner is paid for sales and gets the stake back
    market.grant(buyer, product, seconds=LONG)
    seller_before, other_before = seller.balance(), other.balance()
    purchase, _ = buyer.buy_access(product, 0)
    buyer.approve_product(purchase, product)
    time_travel(market, PARAMETERS["claim_window"])
    seller.release_stake(product)  # anyone may send it; the owner is paid
    assert other.balance() - other_before == 4 * DATA * 9750 // 10000 + 20 * DATA
    assert seller.balance() == seller_before
    market.assert_escrow_balanced()


# -- unions --------------------------------------------------------------------------------


def test_union_member_refusals(local_market: Market, catalog: Catalog) -> None:
    seller, buyer = local_market.seller, local_market.buyer
    a, b = sorted_ids(catalog.batch, catalog.batch_2)
    cases: list[tuple[type[Reverted], str, list[bytes], list[int]]] = [
        (InvalidTransaction, "too_few_members", [], []),
        (InvalidTransaction, "too_few_members", [a], [1]),
        (InvalidTransaction, "weights_mismatch", [a, b], [1]),
        (InvalidTransaction, "weights_mismatch", [a, b], [1, 1, 1]),
        (InvalidTransaction, "members_not_sorted", [b, a], [1, 1]),
        (InvalidTransaction, "members_not_sorted", [a, a], [1, 1]),  # a repeat
        (InvalidTransaction, "bad_weight", [a, b], [1, 0]),
        (NotOnChain, "unknown_product", sorted_ids(catalog.batch, "0x" + "00" * 31 + "01"), [1, 1]),
        (InvalidTransaction, "mixed_modes", sorted_ids(catalog.batch, catalog.stream), [1, 1]),
        (ChainConflict, "product_closed", sorted_ids(catalog.batch, catalog.retired), [1, 1]),
    ]
    for kind, reason, members, weights in cases:
        with Market.refused(kind, reason):
            propose_raw(seller, members, weights)
    # the client sorts and de-duplicates, but sends one member as one
    with Market.refused(InvalidTransaction, "too_few_members"):
        seller.propose_union({catalog.batch: 1})
    with Market.refused(NotPermitted, "not_member_owner"):
        buyer.propose_union({catalog.batch: 1, catalog.others: 1})
    assert seller.union(catalog_union(catalog.batch, catalog.others)) is None


def test_a_union_exists_once_every_owner_consented(local_market: Market, catalog: Catalog) -> None:
    market = local_market
    seller, other, third = market.seller, market.other, market.funded(market.as_(5))
    products = [
        catalog.batch,
        catalog.batch_2,  # two of the seller's: one consent
        catalog.others,
        market.publish(third, prices=Prices(access=1 * DATA)),
    ]
    union, receipt = seller.propose_union(dict(zip(products, [1, 2, 3, 4], strict=True)))
    assert union == catalog_union(*products)  # the catalog's id
    weights = dict(zip(map(as_bytes32, products), [1, 2, 3, 4], strict=True))
    proposed = receipt.first("UnionProposed").args
    assert proposed["members"] == tuple(sorted(weights))
    assert proposed["weights"] == tuple(weights[m] for m in sorted(weights))
    pending = seller.union(union)
    assert pending is not None
    assert (pending["status"], pending["consents_missing"]) == ("pending", 2)
    assert seller.terms(union) == (None, False, Prices())  # not for sale yet
    with Market.refused(ChainConflict, "union_exists"):
        seller.propose_union(dict.fromkeys(products, 9))  # same members: same id
    with Market.refused(ChainConflict, "already_consented"):
        seller.consent_union(union)  # the proposer consented by proposing
    with Market.refused(NotPermitted, "consent_not_expected"):
        market.buyer.consent_union(union)  # owns no member
    other.consent_union(union)
    with Market.refused(ChainConflict, "already_consented"):
        other.consent_union(union)  # once
    assert seller.union(union)["consents_missing"] == 1  # type: ignore[index]
    receipt = third.consent_union(union)
    assert [event.name for event in receipt.events] == [
        "UnionConsented",
        "UnionCreated",
        *["UnionMemberAdded"] * 4,
    ]
    active = seller.union(union)
    assert active is not None
    assert (active["status"], active["members"]) == ("active", weights)
    assert seller.terms(union) == (ModeCode.BATCH, True, Prices(access=13 * DATA))
    for ledger, unknown in ((other, union), (other, secrets.token_bytes(32))):
        with Market.refused(ChainConflict, "union_not_pending"):
            ledger.consent_union(unknown)
    with Market.refused(ChainConflict, "product_exists"):
        seller.publish(union, mode=ModeCode.BATCH, prices=BATCH_PRICES, stake=10 * DATA)
    # the views the Market relies on (not wrapped by the client)
    registry = seller.contracts["Registry"].functions
    payees, payee_weights = registry.payees(union).call()
    owner = {as_bytes32(p): seller.product(p).owner for p in products}  # type: ignore[union-attr]
    assert payees == [owner[m] for m in sorted(weights)]
    assert tuple(payee_weights) == proposed["weights"]
    assert registry.covers(union, as_bytes32(products[2])).call()
    assert not registry.covers(union, as_bytes32(catalog.stream)).call()
    assert registry.owner_of(as_bytes32(products[3])).call() == third.address
    assert registry.consent_of(union, third.address).call() == 2  # given
    assert registry.product_exists(as_bytes32(products[0])).call()
    assert not registry.product_exists(union).call()  # a union is not a product
    # any member not listed: the union is not listed
    third.set_availability(products[3], AvailabilityCode.PAUSED)
    assert seller.terms(union) == (ModeCode.BATCH, False, Prices(access=13 * DATA))


def test_a_pending_union_can_be_rejected_or_lapses(local_market: Market) -> None:
    """A first proposal of some members with its weights does not take them forever:
    a member's owner rejects it, or it lapses after 30 days unconsented; consents
    given to it never count for the next proposal."""
    market = local_market
    seller, other, stranger = market.seller, market.funded(market.other), market.buyer
    mine, theirs = market.publish(), market.publish(other)
    union, _ = seller.propose_union({mine: 9, theirs: 1})
    with Market.refused(NotPermitted, "not_member_owner"):
        stranger.reject_union(union)
    receipt = other.reject_union(union)
    assert receipt.first("UnionRejected").args["by"] == other.address
    assert seller.union(union) is None
    with Market.refused(ChainConflict, "union_not_pending"):
        other.reject_union(union)
    again, _ = other.propose_union({mine: 1, theirs: 1})  # the same members, fair weights
    assert again == union
    registry = seller.contracts["Registry"].functions
    assert registry.consent_of(union, seller.address).call() == 1  # the old one lapsed
    time_travel(market, 30 * 86400 + 1)  # unconsented for 30 days: anyone's members again
    seller.propose_union({mine: 2, theirs: 1})
    assert registry.consent_of(union, other.address).call() == 1
    other.consent_union(union)
    active = seller.union(union)
    assert active is not None and active["status"] == "active"
    with Market.refused(ChainConflict, "union_not_pending"):
        other.reject_union(union)  # an active union is not withdrawn


def test_a_union_of_streams_takes_the_longest_shortest_subscription(
    local_market: Market, catalog: Catalog
) -> None:
    market = local_market
    longer = market.publish(
        mode=ModeCode.STREAM, prices=Prices(subscription_per_second=3, subscription_min_seconds=90)
    )
    union, _ = market.seller.propose_union({catalog.stream: 1, longer: 1})  # one owner
    assert market.seller.union(union)["status"] == "active"  # type: ignore[index]
    assert market.seller.terms(union) == (
        ModeCode.STREAM,
        True,
        Prices(subscription_per_second=5, subscription_min_seconds=90),
    )
