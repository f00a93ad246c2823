"""The Market as escrow: stakes released on approval, claims, bonds and rulings.

In process (``local_market``): claim windows need the clock moved. An upheld
claim and the payouts also run on both backends in ``test_market``. Every
scenario that moves DATA ends with the escrow invariant: the Market's DATA
balance is exactly its stakes + bonds + held computation payments.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
import vyper

from kraken_market.ledger.client import Ledger, as_bytes32, dev_account
from kraken_market.ledger.deploy import Roles, deploy
from kraken_market.ledger.errors import (
    ChainConflict,
    InsufficientFunds,
    NotOnChain,
    NotPermitted,
)
from kraken_market.ledger.model import (
    AvailabilityCode,
    ClaimStatus,
    ModeCode,
    Parameters,
    PaymentStatus,
    Prices,
    Stake,
    StakeStatus,
)
from tests.ledger.conftest import DATA, PARAMETERS, Market, time_travel

LONG = 400 * 86400
BOND = PARAMETERS["claim_bond"]
EVIDENCE = b"\x0e" * 32


@pytest.fixture(scope="module", autouse=True)
def _two_run_estimates(local_market: Market) -> None:
    local_market.estimate_in_two_runs()


@dataclass
class Parties:
    seller: Ledger
    buyer: Ledger
    other: Ledger  # a second buyer
    arbiter: Ledger


@pytest.fixture(scope="module")
def parties(local_market: Market) -> Parties:
    market = local_market
    for ledger in (market.seller, market.buyer, market.other):
        market.funded(ledger, 10_000 * DATA)
        ledger.ensure_allowance(1)
    return Parties(market.seller, market.buyer, market.other, market.arbiter)


def sold(
    market: Market, *buyers: Ledger, stake: int = 20 * DATA, price: int = 4 * DATA
) -> tuple[str, list[int]]:
    """A fresh product and one purchase of it by each of ``buyers``."""
    product = market.publish(prices=Prices(access=price), stake=stake)
    purchases = []
    for buyer in buyers:
        if not buyer.has_grant(buyer.address, product, 0):
            market.grant(buyer, product, seconds=LONG)
        purchases.append(buyer.buy_access(product, 0)[0])
    return product, purchases


def test_approval_releases_the_stake_one_claim_window_later(
    local_market: Market, parties: Parties
) -> None:
    seller, buyer, other = parties.seller, parties.buyer, parties.other
    product, (mine, theirs) = sold(local_market, buyer, other)
    with Market.refused(NotOnChain, "unknown_purchase"):
        buyer.approve_product(10**9, product)
    with Market.refused(NotPermitted, "not_buyer"):
        other.approve_product(mine, product)
    with Market.refused(NotPermitted, "not_purchased"):
        buyer.approve_product(mine, secrets.token_bytes(32))
    with Market.refused(ChainConflict, "not_approved"):
        seller.release_stake(product)
    before = seller.balance()
    receipt = buyer.approve_product(mine, product)
    due = receipt.first("StakeReleaseScheduled").args["release_at"]
    assert due == local_market.now() + PARAMETERS["claim_window"]
    assert seller.balance() == before  # other buyers may still object
    assert seller.stake(product) == Stake(20 * DATA, StakeStatus.LOCKED, 0, 4 * DATA, due)
    with Market.refused(ChainConflict, "release_not_due"):
        other.release_stake(product)
    approved = buyer.contracts["Market"].functions.approved
    assert approved(mine, as_bytes32(product)).call()
    assert not approved(theirs, as_bytes32(product)).call()
    with Market.refused(ChainConflict, "already_approved"):
        buyer.approve_product(mine, product)
    with Market.refused(ChainConflict, "already_approved"):
        buyer.file_claim(mine, product, EVIDENCE)
    receipt = other.approve_product(theirs, product)  # a second approval moves nothing
    assert [event.name for event in receipt.events] == ["Approved"]
    time_travel(local_market, PARAMETERS["claim_window"])
    receipt = other.release_stake(product)  # anyone may send it: it pays the owner
    assert receipt.first("StakeReleased").args["amount"] == 20 * DATA
    assert seller.balance() - before == 20 * DATA
    assert seller.stake(product) == Stake(0, StakeStatus.RELEASED, 0, 4 * DATA, due)
    with Market.refused(ChainConflict, "stake_not_locked"):
        seller.release_stake(product)
    local_market.assert_escrow_balanced()


def test_only_a_real_purchase_approves(local_market: Market, parties: Parties) -> None:
    """A seller cutting its price to 1 wei to buy and approve its product, or buying it
    at full price from its own account, gets no stake back."""
    market, seller, buyer = local_market, parties.seller, parties.buyer
    product, _ = sold(market)
    seller.set_prices(product, Prices(access=1))
    market.grant(buyer, product, seconds=LONG)
    cheap, _ = buyer.buy_access(product, 0)
    with Market.refused(ChainConflict, "below_floor"):
        buyer.approve_product(cheap, product)
    seller.set_prices(product, Prices(access=4 * DATA))
    market.grant(seller, product, seconds=LONG)
    own, _ = seller.buy_access(product, 0)
    with Market.refused(ChainConflict, "own_product"):
        seller.approve_product(own, product)
    assert seller.stake(product).release_at == 0
    market.assert_escrow_balanced()


def test_a_claim_after_an_approval_holds_and_can_slash_the_stake(
    local_market: Market, parties: Parties
) -> None:
    market, seller, buyer, other = local_market, parties.seller, parties.buyer, parties.other
    product, (mine, theirs) = sold(market, buyer, other)
    buyer.approve_product(mine, product)
    other.file_claim(theirs, product, EVIDENCE)  # within the window: the stake is held
    time_travel(market, PARAMETERS["claim_window"])
    with Market.refused(ChainConflict, "claim_open"):
        seller.release_stake(product)
    parties.arbiter.rule(theirs, uphold=True)
    assert seller.stake(product).status is StakeStatus.SLASHED
    with Market.refused(ChainConflict, "stake_not_locked"):
        seller.release_stake(product)
    market.assert_escrow_balanced()


def test_an_open_claim_holds_the_stake(local_market: Market, parties: Parties) -> None:
    market = local_market
    seller, buyer, other, arbiter = parties.seller, parties.buyer, parties.other, parties.arbiter
    product, (mine, theirs) = sold(market, buyer, other)
    bonds, before = buyer.escrow_totals()["bonds"], buyer.balance()
    receipt = buyer.file_claim(mine, product, EVIDENCE)
    assert receipt.first("ClaimFiled").args == {
        "product_id": as_bytes32(product),
        "claimant": buyer.address,
        "purchase_id": mine,
        "bond": BOND,
        "evidence_hash": EVIDENCE,
    }
    assert before - buyer.balance() == BOND  # the bond is pulled
    assert buyer.escrow_totals()["bonds"] - bonds == BOND
    assert buyer.stake(product) == Stake(20 * DATA, StakeStatus.LOCKED, 1, 4 * DATA, 0)
    with Market.refused(ChainConflict, "already_claimed"):  # one claim per purchase
        buyer.approve_product(mine, product)
    with Market.refused(ChainConflict, "claim_open"):  # nobody releases the stake meanwhile
        other.approve_product(theirs, product)
    with Market.refused(ChainConflict, "already_claimed"):
        buyer.file_claim(mine, product, EVIDENCE)
    # the product changes hands: a rejected claim's bond goes to the current owner
    new_owner = market.as_(5)
    seller.transfer_product(product, new_owner.address)
    new_owner.accept_product(product)
    owner_before, seller_before = new_owner.balance(), seller.balance()
    with Market.refused(NotPermitted, "not_authorised"):
        other.rule(mine, uphold=False)
    arbiter.rule(mine, uphold=False)
    assert new_owner.balance() - owner_before == BOND
    assert seller.balance() == seller_before
    assert buyer.claim(mine).status is ClaimStatus.REJECTED  # type: ignore[union-attr]
    with Market.refused(ChainConflict, "already_claimed"):
        buyer.approve_product(mine, product)  # still: this purchase had its claim
    other.approve_product(theirs, product)  # the claim is closed: the release is scheduled
    time_travel(market, PARAMETERS["claim_window"])
    new_owner.release_stake(product)
    assert new_owner.balance() - owner_before == BOND + 20 * DATA
    market.assert_escrow_balanced()


def test_the_claim_window_closes(local_market: Market, parties: Parties) -> None:
    product, (purchase,) = sold(local_market, parties.buyer)
    time_travel(local_market, PARAMETERS["claim_window"] + 1)
    before = parties.buyer.balance()
    with Market.refused(ChainConflict, "claim_window_closed"):
        parties.buyer.file_claim(purchase, product, EVIDENCE)
    assert parties.buyer.balance() == before
    assert parties.buyer.claim(purchase) is None


def test_an_upheld_refund_is_capped_at_the_stake(local_market: Market, parties: Parties) -> None:
    market = local_market
    buyer, seller, arbiter = parties.buyer, parties.seller, parties.arbiter
    treasury = market.treasury.address
    # the price (30) is more than the stake (10); the buyer bought three times
    product, (first, second, unclaimed) = sold(
        market, buyer, buyer, buyer, stake=10 * DATA, price=30 * DATA
    )
    buyer.file_claim(first, product, EVIDENCE)
    buyer.file_claim(second, product, EVIDENCE)
    with Market.refused(NotOnChain, "no_open_claim"):
        arbiter.rule(unclaimed, uphold=True)
    before = [buyer.balance(), buyer.balance(treasury)]
    receipt = arbiter.rule(first, uphold=True)
    ruled = receipt.first("ClaimRuled").args
    assert (ruled["refund"], ruled["slashed"]) == (10 * DATA, 0)
    assert [buyer.balance(), buyer.balance(treasury)] == [before[0] + BOND + 10 * DATA, before[1]]
    assert buyer.stake(product) == Stake(0, StakeStatus.SLASHED, 1, 30 * DATA)
    # the second claim finds the stake gone: the bond comes back, nothing more
    arbiter.rule(second, uphold=True)
    assert buyer.balance() == before[0] + 2 * BOND + 10 * DATA
    assert buyer.claim(second).status is ClaimStatus.UPHELD  # type: ignore[union-attr]
    # the product is delisted, for good
    assert buyer.terms(product)[1] is False
    assert seller.product(product).availability is AvailabilityCode.DELISTED  # type: ignore[union-attr]
    with Market.refused(ChainConflict, "product_closed"):
        seller.set_availability(product, AvailabilityCode.LISTED)
    with Market.refused(ChainConflict, "not_listed"):
        buyer.buy_access(product, 0)
    market.assert_escrow_balanced()


def test_an_upheld_claim_refunds_only_what_was_paid_for_that_product(
    local_market: Market, parties: Parties
) -> None:
    """A purchase may pay for several products (a computation over several, a
    union): the claim on one refunds its part, never the others' (found by the
    property test: a 1 DATA share once drew 10 DATA from the claimed stake)."""
    market, buyer, arbiter = local_market, parties.buyer, parties.arbiter
    cheap = market.publish(mode=ModeCode.ANALYTICS, prices=Prices(computation=1 * DATA))
    dear = market.publish(mode=ModeCode.ANALYTICS, prices=Prices(computation=9 * DATA))
    for product in (cheap, dear):
        market.grant(buyer, product, seconds=LONG)
    request = secrets.token_bytes(32)
    purchase, _ = buyer.request_computation(request, b"\x01" * 32, [cheap, dear], 0, b"\x02" * 32)
    for node in (4, 5):
        market.as_(node).attest(request, b"\x03" * 32)
    buyer.file_claim(purchase, cheap, EVIDENCE)
    ruled = arbiter.rule(purchase, uphold=True).first("ClaimRuled").args
    assert (ruled["refund"], ruled["slashed"]) == (1 * DATA, 19 * DATA)

    # a union of weights 1 and 3 sold for 4 + 4 DATA: the first member's part is 2
    other = market.funded(parties.other)
    first, second = market.publish(), market.publish(other)
    union, _ = market.seller.propose_union({first: 1, second: 3})
    other.consent_union(union)
    market.grant(buyer, union, seconds=LONG)
    bought, _ = buyer.buy_access(union, 0)
    buyer.file_claim(bought, first, EVIDENCE)
    ruled = arbiter.rule(bought, uphold=True).first("ClaimRuled").args
    assert (ruled["refund"], ruled["slashed"]) == (2 * DATA, 18 * DATA)
    market.assert_escrow_balanced()


def test_no_claim_on_a_computation_that_was_not_delivered(
    local_market: Market, parties: Parties
) -> None:
    """A held payment is the buyer's to reclaim (or refunded when a node refuses the
    job), not to claim on as well (that paid the buyer twice: the payment back, and a
    refund out of the stake)."""
    market, buyer = local_market, parties.buyer
    product = market.publish(mode=ModeCode.ANALYTICS, prices=Prices(computation=3 * DATA))
    market.grant(buyer, product, seconds=LONG)
    request = secrets.token_bytes(32)
    purchase, _ = buyer.request_computation(request, b"\x01" * 32, [product], 0, b"\x02" * 32)
    with Market.refused(ChainConflict, "not_delivered"):
        buyer.file_claim(purchase, product, EVIDENCE)  # held
    time_travel(market, PARAMETERS["computation_deadline"] + 1)
    buyer.reclaim(request)
    with Market.refused(ChainConflict, "not_delivered"):
        buyer.file_claim(purchase, product, EVIDENCE)  # reclaimed
    refused = secrets.token_bytes(32)
    purchase, _ = buyer.request_computation(refused, b"\x01" * 32, [product], 0, b"\x02" * 32)
    market.as_(6).refuse(refused, "manifest_invalid")
    with Market.refused(ChainConflict, "not_delivered"):
        buyer.file_claim(purchase, product, EVIDENCE)  # refunded
    market.assert_escrow_balanced()
    # delivered: a claim is the buyer's remedy
    delivered = secrets.token_bytes(32)
    purchase, _ = buyer.request_computation(delivered, b"\x01" * 32, [product], 0, b"\x02" * 32)
    market.as_(4).attest(delivered, b"\x03" * 32)
    market.as_(5).attest(delivered, b"\x03" * 32)
    assert buyer.computation(delivered).status is PaymentStatus.PAID  # type: ignore[union-attr]
    buyer.file_claim(purchase, product, EVIDENCE)
    assert buyer.claim(purchase).status is ClaimStatus.OPEN  # type: ignore[union-attr]
    market.assert_escrow_balanced()


FALSE_TOKEN = """
# pragma version ~=0.4.3
@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    return False
"""


def test_a_token_that_returns_false_is_refused(local_market: Market) -> None:
    """ERC-20 tokens may report failure by returning false instead of reverting
    (EIP-20); the Market must not count such a transfer as made."""
    market, admin = local_market, local_market.admin
    compiled = vyper.compile_code(FALSE_TOKEN, output_formats=["abi", "bytecode"])
    factory = market.w3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    token = admin.sender.transact(factory.constructor(), "deploy a false token").contract_address
    assert token is not None
    parameters = Parameters(treasury=market.treasury.address, **PARAMETERS)
    deployment = deploy(market.w3, dev_account(0), parameters, Roles(token_address=token))
    seller = Ledger(market.w3, deployment, dev_account(7))
    product = secrets.token_bytes(32)
    with Market.refused(InsufficientFunds, "transfer_failed"):
        # raw: the client's publish would read the token's allowance first
        seller.transact(
            "publish",
            "Registry",
            "publish",
            product,
            bytes(32),
            bytes(32),
            int(ModeCode.BATCH),
            Prices(access=DATA).as_tuple(),
            [],
            PARAMETERS["min_stake"],
        )
    assert seller.product(product) is None
