"""Authority: roles, compute nodes, the pause switch and the market's parameters.

In process (``local_market``): the pause matrix needs the clock moved for a
refund. The pause switch and the compute nodes also run on both backends in
``test_market``.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from eth_utils.address import to_checksum_address

from kraken_market.ledger.client import ROLES, ZERO_ADDRESS
from kraken_market.ledger.errors import (
    ChainConflict,
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
    Node,
    PaymentStatus,
    Prices,
)
from tests.ledger.conftest import DATA, PARAMETERS, Market, time_travel

LONG = 400 * 86400  # grants outlive any time travel in this module
KEY = b"\x11" * 32
Case = tuple[type[Reverted], str, Callable[[], object]]


def node_address(number: int) -> str:
    return to_checksum_address(f"0x{number:040x}")


def assert_refused(cases: list[Case]) -> None:
    for kind, reason, call in cases:
        with Market.refused(kind, reason):
            call()


@pytest.fixture(scope="module", autouse=True)
def _two_run_estimates(local_market: Market) -> None:
    local_market.estimate_in_two_runs()


# -- roles ---------------------------------------------------------------------------------


def test_admin_grants_and_revokes_roles(local_market: Market) -> None:
    admin, other = local_market.admin, local_market.other
    assert admin.has_role("admin", admin.address)
    assert not other.has_role("arbiter", other.address)
    receipt = admin.grant_role("arbiter", other.address)
    assert receipt.first("RoleGranted").args["account"] == other.address
    assert other.has_role("arbiter", other.address)
    assert not other.has_role("verifier", other.address)
    admin.revoke_role("arbiter", other.address)
    assert not other.has_role("arbiter", other.address)
    # the client's role ids are the contract's
    authority = admin.contracts["Authority"].functions
    assert authority.ARBITER_ROLE().call() == ROLES["arbiter"]
    assert authority.VERIFIER_ROLE().call() == ROLES["verifier"]
    assert authority.getRoleAdmin(ROLES["arbiter"]).call() == ROLES["admin"]


def test_an_account_renounces_only_its_own_roles(local_market: Market) -> None:
    admin, other, verifier = local_market.admin, local_market.other, local_market.verifier
    admin.grant_role("verifier", other.address)
    with Market.refused(NotPermitted, "access_control: can only renounce roles for itself"):
        other.transact("renounce", "Authority", "renounceRole", ROLES["verifier"], verifier.address)
    other.transact("renounce", "Authority", "renounceRole", ROLES["verifier"], other.address)
    assert not other.has_role("verifier", other.address)
    assert verifier.has_role("verifier", verifier.address)


def test_only_the_admin_manages_roles_and_the_market(local_market: Market) -> None:
    other, arbiter, node = local_market.other, local_market.arbiter, local_market.as_(4)
    before = other.parameters()
    missing_role = "access_control: account is missing role"
    assert_refused(
        [
            (NotPermitted, missing_role, lambda: other.grant_role("verifier", other.address)),
            (NotPermitted, missing_role, lambda: other.revoke_role("arbiter", arbiter.address)),
            (NotPermitted, "not_admin", other.pause),
            (NotPermitted, "not_admin", other.unpause),
            (NotPermitted, "not_admin", lambda: other.set_parameters(before)),
            (NotPermitted, "not_admin", lambda: other.register_node(other.address, KEY, "x")),
            (NotPermitted, "not_admin", lambda: other.remove_node(node.address)),
        ]
    )
    assert not other.has_role("verifier", other.address)
    assert other.has_role("arbiter", arbiter.address)
    assert other.parameters() == before
    assert not other.paused()
    assert other.is_node(node.address)
    assert not other.is_node(other.address)


# -- nodes ---------------------------------------------------------------------------------


def test_nodes_register_reregister_and_remove(local_market: Market) -> None:
    admin, account = local_market.admin, node_address(0x9999)
    count = len(admin.nodes())
    receipt = admin.register_node(account, KEY, "https://nine.test")
    assert receipt.first("NodeRegistered").args == {
        "node": account,
        "hpke_public_key": KEY,
        "endpoint": "https://nine.test",
    }
    assert admin.is_node(account)
    # registering again updates the key and endpoint, it does not add a node
    admin.register_node(account, b"\x22" * 32, "https://nine.example")
    nodes = admin.nodes()
    assert len(nodes) == count + 1
    assert Node(account, b"\x22" * 32, "https://nine.example") in nodes
    receipt = admin.remove_node(account)
    assert receipt.first("NodeRemoved").args == {"node": account}
    assert not admin.is_node(account)
    assert account not in [node.account for node in admin.nodes()]
    assert_refused(
        [
            (NotOnChain, "unknown_node", lambda: admin.remove_node(account)),
            (
                InvalidTransaction,
                "zero_address",
                lambda: admin.register_node(ZERO_ADDRESS, KEY, "x"),
            ),
            (
                InvalidTransaction,
                "bad_node_key",
                lambda: admin.register_node(account, bytes(32), "x"),
            ),
            (
                InvalidTransaction,
                "bad_node_endpoint",
                lambda: admin.register_node(account, KEY, ""),
            ),
        ]
    )
    assert not admin.is_node(account)


def test_the_node_registry_is_bounded(local_market: Market) -> None:
    admin = local_market.admin
    authority = admin.contracts["Authority"]

    def count() -> int:  # not nodes(): two reads per node
        return int(authority.functions.node_count().call())

    def send(function: Any) -> None:  # a plain eth-tester send: no gas estimate, faster
        function.transact({"from": admin.address, "gas": 5_000_000})

    for number in range(1, 65 - count()):
        send(authority.functions.register_node(node_address(number), KEY, "x"))
    assert count() == 64
    full = (
        ChainConflict,
        "too_many_nodes",
        lambda: admin.register_node(node_address(999), KEY, "x"),
    )
    assert_refused([full])
    # a registered node may still be updated; removing one makes room again
    admin.register_node(node_address(1), b"\x33" * 32, "y")
    key, endpoint, active = authority.functions.nodes(node_address(1)).call()
    assert (key, endpoint, active) == (b"\x33" * 32, "y", True)
    send(authority.functions.remove_node(node_address(1)))
    assert count() == 63
    assert not admin.is_node(node_address(1))


# -- pause ---------------------------------------------------------------------------------


def test_pause_and_unpause(local_market: Market) -> None:
    admin = local_market.admin
    receipt = admin.pause()
    try:
        assert receipt.first("Paused").args == {"by": admin.address}
        assert admin.paused()
        assert_refused([(ChainConflict, "already_paused", admin.pause)])
    finally:
        receipt = admin.unpause()
    assert receipt.first("Unpaused").args == {"by": admin.address}
    assert not admin.paused()
    assert_refused([(ChainConflict, "not_paused", admin.unpause)])


def test_pause_stops_state_changes_but_not_refunds_rulings_or_revocations(
    local_market: Market,
) -> None:
    market = local_market
    admin, seller, verifier, arbiter = market.admin, market.seller, market.verifier, market.arbiter
    buyer, other, node = market.funded(market.buyer), market.other, market.as_(4)
    product = market.publish()
    analytics = market.publish(mode=ModeCode.ANALYTICS)
    market.grant(buyer, product, seconds=LONG)
    market.grant(buyer, analytics, seconds=LONG)
    purchase, _ = buyer.buy_access(product, 0)
    buyer.file_claim(purchase, product, b"\x01" * 32)
    request = secrets.token_bytes(32)
    buyer.request_computation(request, b"\x02" * 32, [analytics], 0, b"\x03" * 32)
    time_travel(market, PARAMETERS["computation_deadline"] + 1)
    fresh, before = secrets.token_bytes(32), seller.product(product)
    admin.pause()
    try:
        paused: list[Callable[[], object]] = [
            lambda: seller.publish(fresh, mode=ModeCode.BATCH, prices=Prices(), stake=10 * DATA),
            lambda: seller.set_metadata(product, b"\x04" * 32),
            lambda: seller.set_policy(product, b"\x04" * 32),
            lambda: seller.set_prices(product, Prices(access=DATA)),
            lambda: seller.set_availability(product, AvailabilityCode.PAUSED),
            lambda: seller.transfer_product(product, other.address),
            lambda: other.accept_product(product),
            lambda: seller.propose_union({product: 1, analytics: 1}),
            lambda: other.consent_union(fresh),
            lambda: verifier.grant(buyer.address, product, 1, market.now() + LONG),
            lambda: buyer.buy_access(product, 0),
            lambda: buyer.subscribe(product, 0, 60),
            lambda: buyer.request_computation(fresh, bytes(32), [analytics], 0, KEY),
            lambda: node.attest(request, KEY),
            lambda: buyer.approve_product(purchase, product),
            lambda: buyer.file_claim(purchase, product, KEY),
        ]
        assert_refused([(MarketPaused, "paused", call) for call in paused])
        assert seller.product(product) == before
        # refunds, rulings and revocations still go through
        held = buyer.balance()
        buyer.reclaim(request)
        assert buyer.balance() - held == 3 * DATA
        assert buyer.computation(request).status is PaymentStatus.RECLAIMED  # type: ignore[union-attr]
        arbiter.rule(purchase, uphold=False)
        assert buyer.claim(purchase).status is ClaimStatus.REJECTED  # type: ignore[union-attr]
        verifier.revoke_grant(buyer.address, product, 0)
        assert not buyer.has_grant(buyer.address, product, 0)
    finally:
        admin.unpause()
    market.assert_escrow_balanced()


# -- parameters ----------------------------------------------------------------------------


def test_admin_sets_parameters(local_market: Market) -> None:
    admin = local_market.admin
    before = admin.parameters()
    assert before.fee_bps == PARAMETERS["fee_bps"]
    assert before.treasury == local_market.treasury.address
    changed = dataclasses.replace(
        before,
        treasury=local_market.other.address,
        fee_bps=2000,  # the cap itself is allowed
        min_stake=0,
        claim_window=1,
        claim_bond=0,
        computation_deadline=1,
        attestations_required=1,
    )
    receipt = admin.set_parameters(changed)
    try:
        assert admin.parameters() == changed
        assert receipt.first("ParametersChanged").args["fee_bps"] == 2000
    finally:
        admin.set_parameters(before)
    assert admin.parameters() == before


def test_parameters_are_validated(local_market: Market) -> None:
    admin = local_market.admin
    before = admin.parameters()
    invalid: list[tuple[dict[str, Any], str]] = [
        ({"fee_bps": 2001}, "fee_too_high"),  # 20 % at most
        ({"treasury": ZERO_ADDRESS}, "zero_address"),
        ({"claim_window": 0}, "bad_window"),
        ({"computation_deadline": 0}, "bad_window"),
        ({"attestations_required": 0}, "bad_threshold"),
    ]
    for change, reason in invalid:
        changed = dataclasses.replace(before, **change)
        with Market.refused(InvalidTransaction, reason):
            admin.set_parameters(changed)
    assert admin.parameters() == before
