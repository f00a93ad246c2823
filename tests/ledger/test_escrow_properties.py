"""The escrow's accounting under random sequences of marketplace calls.

A hypothesis state machine drives the in-process chain the way the
marketplace does, at random: sellers publish products with random stakes,
the verifier grants, buyers buy access, subscribe and request computations,
compute nodes attest or refuse (refunding the buyer at once), buyers reclaim,
approve and file claims (inside or past
the window), anyone releases an approved stake (before or after its claim
window), the arbiter upholds or rejects, owners change availability and
transfer products, the admin pauses, and the clock jumps past deadlines.
Calls the contracts must refuse are attempted too: each must fail with the
expected :class:`~kraken_market.ledger.errors.Reverted` subclass and reason,
and mine nothing. A small Python model predicts every outcome; after every
step the chain must agree with it:

1. the DATA supply is unchanged, and the accounts and the Market hold all of it;
2. the Market holds exactly the open stakes, bonds and held computation
   payments: ``balanceOf(Market) == total_staked + total_bonds + total_held``,
   the model's sums;
3. nothing is released twice: every account holds what the model says, and
   each stake, ruling and held payment is settled by at most one event (and,
   read at the end of each example, is in the model's state);
4. while a claim on a product is open, approving it fails with ``claim_open``
   and its stake stays locked;
5. a stake goes to its owner only from a real approval (a purchase that paid at
   least the list price the product was published at, not by its owner), and
   only one claim window later, with no claim open then.

The marketplace is deployed once per module and a fixed opening is played on
it (products of each mode, purchases, an open claim, a half-attested
computation and an unattested one), so that every example starts mid-market; each example starts
from the eth-tester snapshot taken then, with fresh clients (a client caches
its nonce) and a copy of the opening's model.
"""

from __future__ import annotations

import copy
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import pytest
import vyper
from eth_abi.abi import decode
from eth_tester import EthereumTester, PyEVMBackend
from eth_utils.address import to_checksum_address
from eth_utils.conversions import to_bytes
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from kraken_market.ledger.chain.estimator import optimistic_gas_search
from kraken_market.ledger.client import ZERO_ADDRESS, Ledger, dev_account
from kraken_market.ledger.errors import (
    ChainConflict,
    GrantRequired,
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
    Receipt,
    Stake,
    StakeStatus,
)
from tests.ledger.conftest import DATA, PARAMETERS, Market, _deploy, time_travel

ADMIN, ARBITER, VERIFIER, TREASURY = 0, 1, 2, 3
NODES = (4, 5, 6)
TRADERS = (7, 8, 9)  # they publish, buy and claim
ADDRESS = {index: str(dev_account(index).address) for index in range(10)}
FUNDS = 100_000 * DATA
FEE_BPS = PARAMETERS["fee_bps"]
MIN_STAKE = PARAMETERS["min_stake"]
CLAIM_WINDOW = PARAMETERS["claim_window"]
CLAIM_BOND = PARAMETERS["claim_bond"]
DEADLINE = PARAMETERS["computation_deadline"]
ATTESTATIONS = PARAMETERS["attestations_required"]
DAY = 86400
UNKNOWN_REQUEST = b"\xee" * 32
FUNCTION_ID = b"\x01" * 32
RESULT_KEY_HASH = b"\x02" * 32
CLOCK_SLACK = 10
"""Seconds the next block's timestamp may run ahead of ``max(latest + 1, now)``."""

REFUSALS: dict[str, type[Reverted]] = {
    "paused": MarketPaused,
    "not_authorised": NotPermitted,
    "not_owner": NotPermitted,
    "not_pending_owner": NotPermitted,
    "not_buyer": NotPermitted,
    "not_node": NotPermitted,
    "not_purchased": NotPermitted,
    "no_grant": GrantRequired,
    "unknown_purchase": NotOnChain,
    "unknown_request": NotOnChain,
    "unknown_grant": NotOnChain,
    "no_open_claim": NotOnChain,
    "product_exists": ChainConflict,
    "request_exists": ChainConflict,
    "product_closed": ChainConflict,
    "not_listed": ChainConflict,
    "unchanged": ChainConflict,
    "already_approved": ChainConflict,
    "already_claimed": ChainConflict,
    "already_attested": ChainConflict,
    "claim_open": ChainConflict,
    "claim_window_closed": ChainConflict,
    "stake_not_locked": ChainConflict,
    "computation_not_held": ChainConflict,
    "deadline_not_passed": ChainConflict,
    "delivery_attested": ChainConflict,
    "not_delivered": ChainConflict,
    "free_purchase": ChainConflict,
    "below_floor": ChainConflict,
    "own_product": ChainConflict,
    "not_approved": ChainConflict,
    "release_not_due": ChainConflict,
    "stake_too_low": InvalidTransaction,
    "wrong_access_mode": InvalidTransaction,
    "subscription_too_short": InvalidTransaction,
    "duplicate_item": InvalidTransaction,
    "grant_expired": InvalidTransaction,
    "bad_commitment": InvalidTransaction,
    "bad_refusal_reason": InvalidTransaction,
    "bad_availability": InvalidTransaction,
}
"""What the client must raise for each reason the machine provokes."""

SETTINGS = settings(
    # A transaction costs ~0.1 s of CPU on eth-tester (py-evm, pure Python),
    # so ~200 steps fit the 60 s budget on CI; every example starts mid-market.
    max_examples=10,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# -- the model ---------------------------------------------------------------------------


@dataclass
class Product:
    mode: ModeCode
    prices: Prices
    owner: int
    stake: int  # still locked in the escrow
    price_floor: int  # what an approving purchase must have paid: the list price then
    stake_status: StakeStatus = StakeStatus.LOCKED
    release_at: int = 0  # set by the first real approval
    open_claims: int = 0
    availability: AvailabilityCode = AvailabilityCode.LISTED
    pending_owner: int | None = None


@dataclass
class Claim:
    product: str
    claimant: int
    bond: int
    status: ClaimStatus = ClaimStatus.OPEN


@dataclass
class Purchase:
    buyer: int
    kind: PurchaseKind
    amount: int
    items: tuple[str, ...]
    time: int = 0
    request: bytes | None = None  # a computation's
    approved: set[str] = field(default_factory=set)
    claim: Claim | None = None


@dataclass
class Computation:
    buyer: int
    purchase_id: int
    amounts: dict[str, int]  # per item, in request order
    deadline: int
    attesters: set[int] = field(default_factory=set)
    status: PaymentStatus = PaymentStatus.HELD


@dataclass
class Model:
    """What the chain must hold."""

    balances: dict[str, int]  # DATA per address
    products: dict[str, Product] = field(default_factory=dict)
    purchases: dict[int, Purchase] = field(default_factory=dict)
    computations: dict[bytes, Computation] = field(default_factory=dict)
    grants: dict[tuple[int, str, int], int] = field(default_factory=dict)  # -> expiry
    settlements: Counter[tuple[str, object]] = field(default_factory=Counter)


# -- the chain ---------------------------------------------------------------------------


BOOKS = """
# pragma version ~=0.4.3
from ethereum.ercs import IERC20

struct Stake:
    amount: uint256
    status: uint8
    open_claims: uint256
    price_floor: uint256
    release_at: uint256

struct Claim:
    product_id: bytes32
    claimant: address
    bond: uint256
    evidence_hash: bytes32
    status: uint8

struct Computation:
    buyer: address
    purchase_id: uint256
    function_id: bytes32
    result_key_hash: bytes32
    amount: uint256
    deadline: uint256
    attestations: uint256
    status: uint8

interface IMarket:
    def total_staked() -> uint256: view
    def total_bonds() -> uint256: view
    def total_held() -> uint256: view
    def stakes(product_id: bytes32) -> Stake: view
    def claims(purchase_id: uint256) -> Claim: view
    def computations(request_id: bytes32) -> Computation: view

@external
@view
def read(
    token: address,
    market: address,
    holders: DynArray[address, 16],
    products: DynArray[bytes32, 64],
    purchases: uint256,
    requests: DynArray[bytes32, 64],
) -> DynArray[uint256, 512]:
    values: DynArray[uint256, 512] = [
        staticcall IERC20(token).totalSupply(),
        staticcall IMarket(market).total_staked(),
        staticcall IMarket(market).total_bonds(),
        staticcall IMarket(market).total_held(),
    ]
    for holder: address in holders:
        values.append(staticcall IERC20(token).balanceOf(holder))
    for product_id: bytes32 in products:
        stake: Stake = staticcall IMarket(market).stakes(product_id)
        values.append(stake.amount)
        values.append(convert(stake.status, uint256))
        values.append(stake.open_claims)
    for purchase_id: uint256 in range(1, purchases + 1, bound=128):
        claim: Claim = staticcall IMarket(market).claims(purchase_id)
        values.append(convert(claim.status, uint256))
        values.append(claim.bond)
    for request_id: bytes32 in requests:
        computation: Computation = staticcall IMarket(market).computations(request_id)
        values.append(convert(computation.status, uint256))
        values.append(computation.attestations)
    return values
"""
"""A view contract that reads, in one call, what the invariants compare: the
money after every step, every record at the end of an example. Separate reads
would cost about ten times more, on every step."""


@dataclass(frozen=True)
class Books:
    """The escrow as the chain has it."""

    supply: int
    totals: tuple[int, int, int]  # staked, bonds, held
    balances: dict[str, int]  # DATA per address
    stakes: dict[str, tuple[int, StakeStatus, int]]  # amount, status, open claims
    claims: dict[int, tuple[ClaimStatus, int]]  # status, bond
    computations: dict[bytes, tuple[PaymentStatus, int]]  # status, attestations


@dataclass(frozen=True)
class Escrow:
    """The deployment under test, and where every example starts from."""

    market: Market
    tester: Any  # eth_tester.EthereumTester (untyped)
    books: Contract  # the BOOKS contract
    holders: tuple[str, ...]  # every account, and the Market
    supply: int
    opening: Model
    snapshot: int | None = None

    def read_books(self, model: Model, *, records: bool) -> Books:
        """The chain's side of what ``model`` expects, at the latest block: the
        money, and with ``records`` every stake, claim and held payment too."""
        products = list(model.products) if records else []
        requests = list(model.computations) if records else []
        purchases = len(model.purchases) if records else 0
        deployment = self.market.deployment
        call = self.books.encode_abi(
            "read",
            [
                deployment.token,
                deployment.market,
                self.holders,
                products,
                purchases,
                requests,
            ],
        )
        raw = self.tester.call({"from": ADDRESS[ADMIN], "to": self.books.address, "data": call})
        (values,) = decode(["uint256[]"], to_bytes(hexstr=raw))
        supply, staked, bonds, held, *rest = values
        balances = dict(zip(self.holders, rest, strict=False))
        rest = rest[len(self.holders) :]
        stakes = {}
        for index, product_id in enumerate(products):
            amount, status, open_claims = rest[3 * index : 3 * index + 3]
            stakes[product_id] = (amount, StakeStatus(status), open_claims)
        rest = rest[3 * len(products) :]
        claims = {
            purchase_id: (ClaimStatus(rest[2 * purchase_id - 2]), rest[2 * purchase_id - 1])
            for purchase_id in range(1, purchases + 1)
        }
        rest = rest[2 * purchases :]
        computations = {
            request_id: (PaymentStatus(rest[2 * index]), rest[2 * index + 1])
            for index, request_id in enumerate(requests)
        }
        return Books(supply, (staked, bonds, held), balances, stakes, claims, computations)


@pytest.fixture(scope="module")
def escrow() -> Escrow:
    backend = PyEVMBackend()
    backend.chain.gas_estimator = optimistic_gas_search  # 2 runs per estimate, not 13
    tester = EthereumTester(backend)
    w3 = Web3(EthereumTesterProvider(tester))
    market = _deploy("in-process", w3)
    for index in TRADERS:
        trader = market.funded(market.as_(index), FUNDS)
        trader.approve_spending(2**256 - 1)  # the client never needs to approve again
    compiled = vyper.compile_code(BOOKS, output_formats=["abi", "bytecode"])
    factory = w3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    deployed = market.admin.sender.transact(factory.constructor(), "deploy the books")
    assert deployed.contract_address
    books = w3.eth.contract(
        address=to_checksum_address(deployed.contract_address), abi=compiled["abi"]
    )
    holders = (*ADDRESS.values(), market.deployment.market)
    bare = Escrow(market, tester, books, holders, supply=0, opening=Model({}))
    start = bare.read_books(bare.opening, records=False)
    bare = replace(bare, supply=start.supply, opening=Model(start.balances))

    class Opening(EscrowMachine):
        escrow = bare

    opening = Opening()
    opening.open_the_market()
    opening.escrow_holds_exactly_what_it_owes()
    return replace(bare, opening=opening.model, snapshot=tester.take_snapshot())


# -- the machine -------------------------------------------------------------------------


def _fee(amount: int) -> int:
    return amount * FEE_BPS // 10_000


class EscrowMachine(RuleBasedStateMachine):
    """Drives the marketplace at random and keeps the model of what it did."""

    escrow: ClassVar[Escrow]

    def __init__(self) -> None:
        super().__init__()
        if self.escrow.snapshot is not None:
            self.escrow.tester.revert_to_snapshot(self.escrow.snapshot)
        self.market = self.escrow.market
        self.vault = self.market.deployment.market
        self.clients: dict[int, Ledger] = {}
        self.model = copy.deepcopy(self.escrow.opening)
        self.balances = self.model.balances
        self.products = self.model.products
        self.purchases = self.model.purchases
        self.computations = self.model.computations
        self.grants = self.model.grants
        self.settlements = self.model.settlements
        self.paused = False

    def _client(self, index: int) -> Ledger:
        """Dev account ``index``'s client for this example, made fresh: the
        revert rewound the nonces that clients count."""
        if index not in self.clients:
            self.clients[index] = Ledger(
                self.market.w3, self.market.deployment, dev_account(index), poll_latency=0.002
            )
        return self.clients[index]

    def open_the_market(self) -> None:
        """A marketplace in progress: a product of each mode and a second
        analytics one at the minimum stake with a price that leaves a fee
        remainder; every trader buys; one claim open, one computation half
        attested, another held without attestations."""
        batch = self._publish(7, ModeCode.BATCH, 20 * DATA, Prices(access=4 * DATA))
        stream = self._publish(
            8,
            ModeCode.STREAM,
            15 * DATA,
            Prices(subscription_per_second=10**15, subscription_min_seconds=60),
        )
        analytics = self._publish(9, ModeCode.ANALYTICS, 30 * DATA, Prices(computation=3 * DATA))
        cheap = self._publish(7, ModeCode.ANALYTICS, MIN_STAKE, Prices(computation=DATA // 3))
        claimed = self._buy_now(8, batch)
        self._buy_now(9, batch)
        self._buy_now(9, stream)
        self._grant_first(7, [analytics, cheap], 0)
        request_id = self._new_request_id()
        self._request_computation(7, request_id, [analytics, cheap], 0)
        self._file_claim(8, claimed, batch)
        self._attest(NODES[0], request_id)
        self._grant_first(8, [analytics], 0)  # and one no node attested yet (refusable)
        self._request_computation(8, self._new_request_id(), [analytics], 0)

    # -- what there is to act on -----------------------------------------------------------

    def _held(self) -> list[bytes]:
        return [rid for rid, c in self.computations.items() if c.status is PaymentStatus.HELD]

    def _unsettled(self) -> list[tuple[int, str]]:
        """(purchase, product) pairs its buyer may still approve or claim."""
        return [
            (purchase_id, item)
            for purchase_id, purchase in self.purchases.items()
            if purchase.claim is None
            for item in purchase.items
            if item not in purchase.approved
        ]

    def _delivered(self, request_id: bytes) -> bool:
        return self.computations[request_id].status is PaymentStatus.PAID

    def _claims(self) -> list[Claim]:
        return [p.claim for p in self.purchases.values() if p.claim]

    def _claimed(self) -> list[int]:
        return [
            purchase_id
            for purchase_id, purchase in self.purchases.items()
            if purchase.claim and purchase.claim.status is ClaimStatus.OPEN
        ]

    # -- the clock, refusals, payments -----------------------------------------------------

    def _latest(self) -> int:
        return int(self.market.w3.eth.get_block("latest")["timestamp"])

    def _by(self, deadline: int) -> bool:
        """Whether the next transaction runs at ``block.timestamp <= deadline``."""
        earliest = self._latest() + 1
        latest = max(earliest, int(time.time()) + 1) + CLOCK_SLACK
        if latest <= deadline:
            return True
        if earliest > deadline:
            return False
        assume(False)  # too close to call; the clock jumps used here keep clear of it
        raise AssertionError("unreachable")

    def _refused(self, reason: str, action: Callable[[], object]) -> None:
        """``action`` fails with ``reason`` and its error class, and mines nothing."""
        block = self.market.w3.eth.block_number
        with pytest.raises(Reverted) as refused:
            action()
        assert refused.value.reason == reason
        assert type(refused.value) is REFUSALS[reason]
        assert self.market.w3.eth.block_number == block, "a refused call was mined"

    def _settled(self, receipt: Receipt) -> None:
        """Count the settlements the chain reports: each may happen once."""
        for found in receipt.events:
            if found.name == "StakeReleased":
                self.settlements["stake", found.args["product_id"]] += 1
            elif found.name == "ClaimRuled":
                self.settlements["ruling", found.args["purchase_id"]] += 1
                if found.args["refund"] + found.args["slashed"]:  # a locked stake, slashed
                    self.settlements["stake", found.args["product_id"]] += 1
            elif found.name in ("ComputationPaid", "ComputationReclaimed", "ComputationRefused"):
                self.settlements["payment", found.args["request_id"]] += 1

    def _move(self, source: str, target: str, amount: int) -> None:
        self.balances[source] -= amount
        self.balances[target] += amount

    def _pay(self, payer: str, item: str, amount: int) -> None:
        """A payment for ``item``: the fee to the treasury, the rest to its owner now."""
        self._move(payer, ADDRESS[TREASURY], _fee(amount))
        self._move(payer, ADDRESS[self.products[item].owner], amount - _fee(amount))

    def _granted(self, buyer: int, item: str, purpose: int) -> bool:
        expiry = self.grants.get((buyer, item, purpose), 0)
        return expiry > 0 and self._by(expiry - 1)

    def _purchasable(self, buyer: int, item: str, purpose: int, mode: ModeCode) -> str | None:
        """Why ``Market._purchasable`` refuses, in its order of checks."""
        product = self.products[item]
        if product.mode != mode:
            return "wrong_access_mode"
        if product.availability != AvailabilityCode.LISTED:
            return "not_listed"
        if not self._granted(buyer, item, purpose):
            return "no_grant"
        return None

    def _buyer_check(self, purchase: Purchase | None, caller: int, product: str) -> str | None:
        """Why ``Market._only_buyer_of`` (or the pause) refuses."""
        if self.paused:
            return "paused"
        if purchase is None:
            return "unknown_purchase"
        if caller != purchase.buyer:
            return "not_buyer"
        if product not in purchase.items:
            return "not_purchased"
        return None

    # -- drawing arguments -----------------------------------------------------------------

    def _slip(self, data: st.DataObject, *mistakes: str) -> str | None:
        """None (do it right) two times in three, else one of ``mistakes``."""
        return data.draw(st.sampled_from((None,) * 2 * len(mistakes) + mistakes), label="mistake")

    def _product(self, data: st.DataObject, mode: ModeCode | None = None) -> str:
        fitting = [key for key, product in self.products.items() if product.mode == mode]
        return data.draw(st.sampled_from(fitting or list(self.products)), label="product")

    def _trader(self, data: st.DataObject, label: str) -> int:
        return data.draw(st.sampled_from(TRADERS), label=label)

    def _purpose(self, data: st.DataObject) -> int:
        return data.draw(st.integers(0, 1), label="purpose")

    # -- publishing and grants -------------------------------------------------------------

    @rule(data=st.data(), mode=st.sampled_from(ModeCode))
    def publish(self, data: st.DataObject, mode: ModeCode) -> None:
        seller = self._trader(data, "seller")
        mistake = self._slip(data, "stake too low", "taken id")
        stake = data.draw(st.integers(MIN_STAKE, 50 * DATA), label="stake")
        price = st.integers(0, 10 * DATA)
        prices = data.draw(
            {
                ModeCode.BATCH: st.builds(Prices, access=price),
                ModeCode.STREAM: st.builds(
                    Prices,
                    subscription_per_second=st.integers(0, 10**15),
                    subscription_min_seconds=st.integers(1, 600),
                ),
                ModeCode.ANALYTICS: st.builds(Prices, computation=price),
            }[mode],
            label="prices",
        )
        ledger = self._client(seller)
        if mistake == "taken id":
            taken = self._product(data)
            self._refused(
                "paused" if self.paused else "product_exists",
                lambda: ledger.publish(taken, mode=mode, prices=prices, stake=stake),
            )
            return
        if mistake == "stake too low":
            stake = MIN_STAKE - 1
        reason = "paused" if self.paused else "stake_too_low" if stake < MIN_STAKE else None
        if reason:
            self._refused(
                reason, lambda: self.market.publish(ledger, mode=mode, prices=prices, stake=stake)
            )
            return
        self._publish(seller, mode, stake, prices)

    def _publish(self, seller: int, mode: ModeCode, stake: int, prices: Prices) -> str:
        ledger = self._client(seller)
        product_id = self.market.publish(ledger, mode=mode, prices=prices, stake=stake)
        self._move(ADDRESS[seller], self.vault, stake)
        self.products[product_id] = Product(
            mode=mode,
            prices=prices,
            owner=seller,
            stake=stake,
            price_floor=_list_price(mode, prices),
        )
        return product_id

    def _grant(self, buyer: int, item: str, purpose: int, seconds: int) -> None:
        expiry = self._latest() + seconds
        self._client(VERIFIER).grant(ADDRESS[buyer], item, purpose, expiry)
        self.grants[buyer, item, purpose] = expiry

    def _grant_first(self, buyer: int, items: list[str], purpose: int) -> None:
        """The verifier grants the buyer whatever it lacks."""
        for item in dict.fromkeys(items):
            if not self.paused and not self._granted(buyer, item, purpose):
                self._grant(buyer, item, purpose, DAY)

    @rule(
        data=st.data(),
        how=st.sampled_from(["a day", "a month", "expired", "by a trader", "revoked"]),
    )
    def grant(self, data: st.DataObject, how: str) -> None:
        buyer, item, purpose = self._trader(data, "buyer"), self._product(data), self._purpose(data)
        if how == "revoked":  # allowed while paused
            verifier = self._client(VERIFIER)
            if not self.grants.get((buyer, item, purpose)):
                self._refused(
                    "unknown_grant", lambda: verifier.revoke_grant(ADDRESS[buyer], item, purpose)
                )
                return
            verifier.revoke_grant(ADDRESS[buyer], item, purpose)
            self.grants[buyer, item, purpose] = 0
        elif how == "by a trader":
            granter = self._client(self._trader(data, "granter"))
            expiry = self._latest() + DAY
            self._refused(
                "paused" if self.paused else "not_authorised",
                lambda: granter.grant(ADDRESS[buyer], item, purpose, expiry),
            )
        else:
            seconds = {"a day": DAY, "a month": 30 * DAY, "expired": 0}[how]
            reason = "paused" if self.paused else "grant_expired" if seconds == 0 else None
            if reason:
                verifier, expiry = self._client(VERIFIER), self._latest() + seconds
                self._refused(reason, lambda: verifier.grant(ADDRESS[buyer], item, purpose, expiry))
                return
            self._grant(buyer, item, purpose, seconds)

    # -- purchases ---------------------------------------------------------------------------

    def _purchased(self, purchase_id: int, receipt: Receipt, purchase: Purchase) -> int:
        assert purchase_id == len(self.purchases) + 1
        purchase.time = int(self.market.w3.eth.get_block(receipt.block_number)["timestamp"])
        self.purchases[purchase_id] = purchase
        return purchase_id

    def _buy_now(self, buyer: int, item: str) -> int:
        """A fresh purchase of the listed ``item``."""
        self._grant_first(buyer, [item], 0)
        product = self.products[item]
        if product.mode is ModeCode.BATCH:
            return self._buy_access(buyer, item, 0)
        if product.mode is ModeCode.STREAM:
            return self._subscribe(buyer, item, 0, product.prices.subscription_min_seconds)
        return self._request_computation(buyer, self._new_request_id(), [item], 0)

    @rule(data=st.data())
    def buy_access(self, data: st.DataObject) -> None:
        buyer, purpose = self._trader(data, "buyer"), self._purpose(data)
        mistake = self._slip(data, "any product", "no grant")
        item = self._product(data, None if mistake == "any product" else ModeCode.BATCH)
        if mistake != "no grant":
            self._grant_first(buyer, [item], purpose)
        reason = (
            "paused" if self.paused else self._purchasable(buyer, item, purpose, ModeCode.BATCH)
        )
        if reason:
            self._refused(reason, lambda: self._client(buyer).buy_access(item, purpose))
            return
        self._buy_access(buyer, item, purpose)

    def _buy_access(self, buyer: int, item: str, purpose: int) -> int:
        amount = self.products[item].prices.access
        purchase_id, receipt = self._client(buyer).buy_access(item, purpose)
        self._pay(ADDRESS[buyer], item, amount)
        purchase = Purchase(buyer, PurchaseKind.ACCESS, amount, (item,))
        return self._purchased(purchase_id, receipt, purchase)

    @rule(data=st.data(), seconds=st.integers(1, 1200))
    def subscribe(self, data: st.DataObject, seconds: int) -> None:
        buyer, purpose = self._trader(data, "buyer"), self._purpose(data)
        mistake = self._slip(data, "any product", "no grant")
        item = self._product(data, None if mistake == "any product" else ModeCode.STREAM)
        if mistake != "no grant":
            self._grant_first(buyer, [item], purpose)
        reason = (
            "paused" if self.paused else self._purchasable(buyer, item, purpose, ModeCode.STREAM)
        )
        if not reason and seconds < self.products[item].prices.subscription_min_seconds:
            reason = "subscription_too_short"
        if reason:
            self._refused(reason, lambda: self._client(buyer).subscribe(item, purpose, seconds))
            return
        self._subscribe(buyer, item, purpose, seconds)

    def _subscribe(self, buyer: int, item: str, purpose: int, seconds: int) -> int:
        amount = self.products[item].prices.subscription_per_second * seconds
        purchase_id, receipt = self._client(buyer).subscribe(item, purpose, seconds)
        self._pay(ADDRESS[buyer], item, amount)
        purchase = Purchase(buyer, PurchaseKind.SUBSCRIPTION, amount, (item,))
        return self._purchased(purchase_id, receipt, purchase)

    @rule(data=st.data(), count=st.integers(1, 3))
    def request_computation(self, data: st.DataObject, count: int) -> None:
        buyer, purpose = self._trader(data, "buyer"), self._purpose(data)
        mistake = self._slip(data, "any product", "no grant", "taken id")
        mode = None if mistake == "any product" else ModeCode.ANALYTICS
        items = [self._product(data, mode) for _ in range(count)]  # repeats are refused
        if mistake != "no grant":
            self._grant_first(buyer, items, purpose)
        request_id = self._new_request_id()
        if mistake == "taken id":
            request_id = data.draw(st.sampled_from(list(self.computations)), label="request")
        reason = "paused" if self.paused else None
        if not reason and request_id in self.computations:
            reason = "request_exists"
        for index, item in enumerate(items):
            if reason:
                break
            if item in items[:index]:
                reason = "duplicate_item"
            else:
                reason = self._purchasable(buyer, item, purpose, ModeCode.ANALYTICS)
        if reason:
            self._refused(
                reason,
                lambda: self._client(buyer).request_computation(
                    request_id, FUNCTION_ID, items, purpose, RESULT_KEY_HASH
                ),
            )
            return
        self._request_computation(buyer, request_id, items, purpose)

    def _new_request_id(self) -> bytes:
        return bytes(Web3.keccak(text=f"request {len(self.computations)}"))

    def _request_computation(
        self, buyer: int, request_id: bytes, items: list[str], purpose: int
    ) -> int:
        amounts = {item: self.products[item].prices.computation for item in items}
        purchase_id, receipt = self._client(buyer).request_computation(
            request_id, FUNCTION_ID, items, purpose, RESULT_KEY_HASH
        )
        self._move(ADDRESS[buyer], self.vault, sum(amounts.values()))
        deadline = int(receipt.first("ComputationRequested").args["deadline"])
        self.computations[request_id] = Computation(buyer, purchase_id, amounts, deadline)
        purchase = Purchase(
            buyer, PurchaseKind.COMPUTATION, sum(amounts.values()), tuple(items), request=request_id
        )
        return self._purchased(purchase_id, receipt, purchase)

    # -- held computation payments ---------------------------------------------------------

    def _request(self, data: st.DataObject, mistake: str | None) -> bytes:
        """A held request, or (on a mistake, or if none is held) any request."""
        held = self._held()
        if mistake == "any request" or not held:
            held = [*self.computations, UNKNOWN_REQUEST]
        return data.draw(st.sampled_from(held), label="request")

    @precondition(lambda self: bool(self._held()))
    @rule(data=st.data())
    def attest(self, data: st.DataObject) -> None:
        mistake = self._slip(data, "any request", "not a node", "blank commitment")
        request_id = self._request(data, mistake)
        computation = self.computations.get(request_id)
        fresh = [n for n in NODES if not computation or n not in computation.attesters]
        node = data.draw(st.sampled_from(fresh or NODES), label="node")
        if mistake == "not a node":
            node = self._trader(data, "node")
        reason = None
        if self.paused:
            reason = "paused"
        elif node not in NODES:
            reason = "not_node"
        elif computation is None or computation.status is not PaymentStatus.HELD:
            reason = "computation_not_held"
        elif mistake == "blank commitment":
            reason = "bad_commitment"
        elif node in computation.attesters:
            reason = "already_attested"
        if reason:
            commitment = b"\x00" * 32 if mistake == "blank commitment" else bytes([node]) * 32
            self._refused(reason, lambda: self._client(node).attest(request_id, commitment))
            return
        self._attest(node, request_id)

    def _attest(self, node: int, request_id: bytes) -> None:
        self._settled(self._client(node).attest(request_id, bytes([node]) * 32))
        computation = self.computations[request_id]
        computation.attesters.add(node)
        if len(computation.attesters) == ATTESTATIONS:
            computation.status = PaymentStatus.PAID
            for item, amount in computation.amounts.items():
                self._pay(self.vault, item, amount)

    @precondition(lambda self: bool(self._held()))
    @rule(data=st.data())
    def refuse(self, data: st.DataObject) -> None:
        """A node refuses a held computation (its inputs are the seller's fault): the
        buyer gets every unit back at once, unless a node attested it already."""
        mistake = self._slip(data, "any request", "not a node", "blank reason", "attested")
        unattested = [r for r in self._held() if not self.computations[r].attesters]
        if mistake in ("any request", "attested") or not unattested:
            request_id = self._request(data, mistake)
        else:
            request_id = data.draw(st.sampled_from(unattested), label="request")
        computation = self.computations.get(request_id)
        node = data.draw(st.sampled_from(NODES), label="node")
        if mistake == "not a node":
            node = self._trader(data, "node")
        reason = None
        if self.paused:
            reason = "paused"
        elif node not in NODES:
            reason = "not_node"
        elif computation is None or computation.status is not PaymentStatus.HELD:
            reason = "computation_not_held"
        elif mistake == "blank reason":
            reason = "bad_refusal_reason"
        elif computation.attesters:
            reason = "delivery_attested"
        refuser = self._client(node)
        if reason:
            code = bytes(32) if mistake == "blank reason" else b"object_not_found".ljust(32, b"\0")
            self._refused(
                reason, lambda: refuser.transact("refuse", "Market", "refuse", request_id, code)
            )
            return
        assert computation is not None
        self._settled(refuser.refuse(request_id, "object_not_found"))
        computation.status = PaymentStatus.REFUNDED
        self._move(self.vault, ADDRESS[computation.buyer], sum(computation.amounts.values()))

    @precondition(lambda self: bool(self._held()))
    @rule(data=st.data())
    def reclaim(self, data: st.DataObject) -> None:
        mistake = self._slip(data, "any request", "not the buyer", "before the deadline")
        request_id = self._request(data, mistake)
        computation = self.computations.get(request_id)
        caller = computation.buyer if computation else TRADERS[0]
        if mistake == "not the buyer":
            caller = self._trader(data, "caller")
        if mistake != "before the deadline":
            time_travel(self.market, DEADLINE + 1)
        reason = None  # allowed while paused
        if computation is None:
            reason = "unknown_request"
        elif caller != computation.buyer:
            reason = "not_buyer"
        elif computation.status is not PaymentStatus.HELD:
            reason = "computation_not_held"
        elif self._by(computation.deadline):
            reason = "deadline_not_passed"
        buyer = self._client(caller)
        if reason:
            self._refused(reason, lambda: buyer.reclaim(request_id))
            return
        assert computation is not None
        self._settled(buyer.reclaim(request_id))
        computation.status = PaymentStatus.RECLAIMED
        self._move(self.vault, ADDRESS[caller], sum(computation.amounts.values()))

    # -- the staking escrow: approvals, claims, rulings ------------------------------------

    def _purchase(
        self, data: st.DataObject, mistake: str | None
    ) -> tuple[int, Purchase | None, int, str]:
        """A purchase, its buyer and a product the buyer may still approve or
        claim; on a mistake, any (even unknown) purchase and product, or
        another caller."""
        unsettled = self._unsettled()
        if unsettled and mistake != "any purchase":
            purchase_id, product = data.draw(st.sampled_from(unsettled), label="purchase")
        else:
            ids = [*self.purchases, len(self.purchases) + 1]
            purchase_id = data.draw(st.sampled_from(ids), label="purchase")
            product = data.draw(st.sampled_from(list(self.products)), label="product")
        purchase = self.purchases.get(purchase_id)
        caller = purchase.buyer if purchase else TRADERS[0]
        if mistake == "not the buyer":
            caller = self._trader(data, "caller")
        return purchase_id, purchase, caller, product

    def _stake_stays_locked(self, item: str) -> None:
        product = self.products[item]
        on_chain = self._client(ARBITER).stake(item)
        assert on_chain == Stake(
            product.stake,
            StakeStatus.LOCKED,
            product.open_claims,
            product.price_floor,
            product.release_at,
        )

    @precondition(lambda self: bool(self._unsettled()))
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        mistake = self._slip(data, "any purchase", "not the buyer")
        purchase_id, purchase, caller, product = self._purchase(data, mistake)
        reason = self._buyer_check(purchase, caller, product)
        buyer = self._client(caller)
        if not reason and purchase:
            if product in purchase.approved:
                reason = "already_approved"
            elif purchase.claim is not None:
                reason = "already_claimed"
            elif self.products[product].open_claims:
                reason = "claim_open"
            elif purchase.amount == 0:
                reason = "free_purchase"  # a seller could free-buy its way to its stake
            elif purchase.request and not self._delivered(purchase.request):
                reason = "not_delivered"  # nor reclaim its own computation and approve
            elif purchase.amount < self.products[product].price_floor:
                reason = "below_floor"  # nor cut its price to 1 wei, buy and approve (5.)
            elif caller == self.products[product].owner:
                reason = "own_product"  # nor approve what it bought from itself (5.)
        if reason:
            self._refused(reason, lambda: buyer.approve_product(purchase_id, product))
            locked = self.products[product].stake_status is StakeStatus.LOCKED
            if reason == "claim_open" or (locked and reason in ("below_floor", "own_product")):
                self._stake_stays_locked(product)  # 4., 5.
            return
        assert purchase is not None
        receipt = buyer.approve_product(purchase_id, product)
        self._settled(receipt)
        purchase.approved.add(product)
        approved = self.products[product]
        scheduled = [e for e in receipt.events if e.name == "StakeReleaseScheduled"]
        if approved.stake_status is StakeStatus.LOCKED and not approved.release_at:  # 5.
            (event,) = scheduled
            assert event.args["release_at"] >= self._latest() + CLAIM_WINDOW
            approved.release_at = event.args["release_at"]
        else:
            assert not scheduled

    @precondition(lambda self: any(p.release_at for p in self.products.values()))
    @rule(data=st.data())
    def release_stake(self, data: st.DataObject) -> None:
        """Anyone may send it; before its time, under a claim, or twice, it fails."""
        approved = [key for key, p in self.products.items() if p.release_at]
        item = data.draw(st.sampled_from(approved), label="product")
        product = self.products[item]
        sender = self._client(self._trader(data, "sender"))
        reason = None
        if self.paused:
            reason = "paused"
        elif product.stake_status is not StakeStatus.LOCKED:
            reason = "stake_not_locked"
        elif self._by(product.release_at - 1):  # (too close to call: assumed away there)
            reason = "release_not_due"
        elif product.open_claims:
            reason = "claim_open"
        if reason:
            self._refused(reason, lambda: sender.release_stake(item))
            if reason in ("release_not_due", "claim_open"):
                self._stake_stays_locked(item)
            return
        self._settled(sender.release_stake(item))
        self._move(self.vault, ADDRESS[product.owner], product.stake)
        product.stake, product.stake_status = 0, StakeStatus.RELEASED

    @precondition(
        lambda self: not self.paused and any(p.open_claims for p in self.products.values())
    )
    @rule(data=st.data())
    def approve_while_claim_open(self, data: st.DataObject) -> None:
        """4., aimed at: another buyer of a product under claim approves it."""
        item = data.draw(
            st.sampled_from([key for key, p in self.products.items() if p.open_claims]),
            label="product",
        )
        others = [
            purchase_id
            for purchase_id, purchase in self.purchases.items()
            if item in purchase.items and purchase.claim is None and item not in purchase.approved
        ]
        if others:
            purchase_id = data.draw(st.sampled_from(others), label="purchase")
        elif self.products[item].availability is AvailabilityCode.LISTED:
            purchase_id = self._buy_now(self._trader(data, "buyer"), item)
        else:
            return  # no other buyer, and none can buy it now
        buyer = self._client(self.purchases[purchase_id].buyer)
        self._refused("claim_open", lambda: buyer.approve_product(purchase_id, item))
        self._stake_stays_locked(item)

    @precondition(lambda self: bool(self._unsettled()))
    @rule(data=st.data())
    def file_claim(self, data: st.DataObject) -> None:
        mistake = self._slip(data, "any purchase", "not the buyer", "after the window")
        purchase_id, purchase, caller, product = self._purchase(data, mistake)
        if mistake == "after the window":
            time_travel(self.market, CLAIM_WINDOW + 1)
        reason = self._buyer_check(purchase, caller, product)
        if not reason and purchase:
            if purchase.claim is not None:
                reason = "already_claimed"
            elif product in purchase.approved:
                reason = "already_approved"
            elif purchase.request and not self._delivered(purchase.request):
                reason = "not_delivered"  # its remedy is reclaim, not a second refund
            elif not self._by(purchase.time + CLAIM_WINDOW):
                reason = "claim_window_closed"
            elif self.products[product].stake_status is not StakeStatus.LOCKED:
                reason = "stake_not_locked"
        if reason:
            evidence = _evidence(purchase_id)
            claimant = self._client(caller)
            self._refused(reason, lambda: claimant.file_claim(purchase_id, product, evidence))
            return
        assert purchase is not None
        self._file_claim(purchase.buyer, purchase_id, product)

    def _file_claim(self, claimant: int, purchase_id: int, product: str) -> None:
        self._client(claimant).file_claim(purchase_id, product, _evidence(purchase_id))
        self.purchases[purchase_id].claim = Claim(product, claimant, CLAIM_BOND)
        self.products[product].open_claims += 1
        self._move(ADDRESS[claimant], self.vault, CLAIM_BOND)

    @precondition(lambda self: bool(self._claimed()))
    @rule(data=st.data(), uphold=st.booleans())
    def rule_on_claim(self, data: st.DataObject, uphold: bool) -> None:
        mistake = self._slip(data, "any purchase", "not the arbiter")
        claimed = list(self.purchases) if mistake == "any purchase" else self._claimed()
        purchase_id = data.draw(st.sampled_from(claimed), label="purchase")
        caller = self._trader(data, "arbiter") if mistake == "not the arbiter" else ARBITER
        purchase = self.purchases[purchase_id]
        claim = purchase.claim
        reason = None  # allowed while paused
        if caller != ARBITER:
            reason = "not_authorised"
        elif claim is None or claim.status is not ClaimStatus.OPEN:
            reason = "no_open_claim"
        arbiter = self._client(caller)
        if reason:
            self._refused(reason, lambda: arbiter.rule(purchase_id, uphold=uphold))
            return
        assert claim is not None
        receipt = arbiter.rule(purchase_id, uphold=uphold)
        self._settled(receipt)
        product = self.products[claim.product]
        product.open_claims -= 1
        if not uphold:
            claim.status = ClaimStatus.REJECTED
            self._move(self.vault, ADDRESS[product.owner], claim.bond)
            return
        claim.status = ClaimStatus.UPHELD
        # What the buyer paid for this product (its item's price in a computation
        # over several), bounded by the stake: nothing once another claim slashed it.
        paid = purchase.amount
        if purchase.request is not None:
            paid = self.computations[purchase.request].amounts[claim.product]
        refund = min(paid, product.stake)
        slashed = product.stake - refund
        ruled = receipt.first("ClaimRuled").args
        assert (ruled["refund"], ruled["slashed"]) == (refund, slashed)
        self._move(self.vault, ADDRESS[claim.claimant], claim.bond + refund)
        self._move(self.vault, ADDRESS[TREASURY], slashed)
        if product.stake_status is StakeStatus.LOCKED:
            product.stake, product.stake_status = 0, StakeStatus.SLASHED
            product.availability = AvailabilityCode.DELISTED

    # -- products: availability and owners -------------------------------------------------

    @rule(data=st.data(), availability=st.sampled_from(AvailabilityCode))
    def set_availability(self, data: st.DataObject, availability: AvailabilityCode) -> None:
        item = self._product(data)
        product = self.products[item]
        mistake = self._slip(data, "not the owner")
        caller = self._trader(data, "caller") if mistake else product.owner
        reason = None
        if self.paused:
            reason = "paused"
        elif caller != product.owner:
            reason = "not_owner"
        elif availability is AvailabilityCode.DELISTED:  # the arbiter's alone
            reason = "bad_availability"
        elif product.availability in (AvailabilityCode.RETIRED, AvailabilityCode.DELISTED):
            reason = "product_closed"
        elif product.availability is availability:
            reason = "unchanged"
        owner = self._client(caller)
        if reason:
            self._refused(reason, lambda: owner.set_availability(item, availability))
            return
        owner.set_availability(item, availability)
        product.availability = availability

    @rule(data=st.data(), to=st.sampled_from((*TRADERS, None)))
    def hand_over(self, data: st.DataObject, to: int | None) -> None:
        """The owner transfers a product (None cancels) and the new owner accepts."""
        item = self._product(data)
        product = self.products[item]
        mistake = self._slip(data, "not the owner", "not the new owner", "never accepted")
        caller = self._trader(data, "owner") if mistake == "not the owner" else product.owner
        reason = "paused" if self.paused else "not_owner" if caller != product.owner else None
        owner = self._client(caller)
        target = ZERO_ADDRESS if to is None else ADDRESS[to]
        if reason:
            self._refused(reason, lambda: owner.transfer_product(item, target))
            return
        owner.transfer_product(item, target)
        product.pending_owner = to
        if to is None or mistake == "never accepted":
            return
        caller = self._trader(data, "new owner") if mistake == "not the new owner" else to
        successor = self._client(caller)
        if caller != to:
            self._refused("not_pending_owner", lambda: successor.accept_product(item))
            return
        successor.accept_product(item)
        product.owner, product.pending_owner = to, None

    # -- the admin and the clock -----------------------------------------------------------

    @rule(data=st.data())
    def pause_or_unpause(self, data: st.DataObject) -> None:
        if self.paused:
            self._client(ADMIN).unpause()
            self.paused = False
        elif data.draw(st.sampled_from((False, False, False, True)), label="pause"):
            self._client(ADMIN).pause()
            self.paused = True

    # Rules without arguments come first in hypothesis' order, so its first,
    # simplest example (one rule repeated) is a cheap one.
    @rule()
    def let_an_hour_pass(self) -> None:
        time_travel(self.market, DEADLINE + 1)  # past every held payment's deadline

    @rule()
    def let_a_week_pass(self) -> None:
        time_travel(self.market, CLAIM_WINDOW + 1)  # past every claim window

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def escrow_holds_exactly_what_it_owes(self) -> None:
        books = self.escrow.read_books(self.model, records=False)
        staked = sum(p.stake for p in self.products.values())
        bonds = sum(c.bond for c in self._claims() if c.status is ClaimStatus.OPEN)
        held = sum(
            sum(c.amounts.values())
            for c in self.computations.values()
            if c.status is PaymentStatus.HELD
        )
        # 1. the supply is conserved, and all of it is accounted for
        assert books.supply == self.escrow.supply
        assert sum(books.balances.values()) == books.supply
        # 2. the escrow holds exactly the open stakes, bonds and held payments
        assert books.totals == (staked, bonds, held)
        assert books.balances[self.vault] == staked + bonds + held
        # 3. nothing released twice: every balance is the model's, and the chain
        # reported each settlement once
        assert books.balances == self.balances
        assert all(count == 1 for count in self.settlements.values())

    def teardown(self) -> None:
        """3., record by record (one read, too dear for every step): each stake,
        claim and held payment is in the model's state."""
        if sys.exc_info()[0] is not None:
            return  # the example failed already: keep its error, not a consequence
        books = self.escrow.read_books(self.model, records=True)
        assert books.stakes == {
            key: (p.stake, p.stake_status, p.open_claims) for key, p in self.products.items()
        }
        assert books.claims == {
            key: (p.claim.status, p.claim.bond) if p.claim else (ClaimStatus.NONE, 0)
            for key, p in self.purchases.items()
        }
        assert books.computations == {
            key: (c.status, len(c.attesters)) for key, c in self.computations.items()
        }


def _list_price(mode: ModeCode, prices: Prices) -> int:
    """The Registry's: what a buyer pays for the mode (the minimum subscription)."""
    if mode is ModeCode.BATCH:
        return prices.access
    if mode is ModeCode.ANALYTICS:
        return prices.computation
    return prices.subscription_per_second * prices.subscription_min_seconds


def _evidence(purchase_id: int) -> bytes:
    return bytes(Web3.keccak(text=f"evidence {purchase_id}"))


def test_escrow_accounting_holds(escrow: Escrow) -> None:
    class Machine(EscrowMachine):
        pass

    Machine.escrow = escrow
    run_state_machine_as_test(Machine, settings=SETTINGS)
