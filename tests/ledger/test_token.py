"""DataToken (snekmate's ERC-20) and the development Faucet, through the client.

In process (``local_market``); the faucet and the Market's allowance also run
on both backends in ``test_market``.
"""

from __future__ import annotations

import pytest
from eth_account import Account

from kraken_market.ledger.client import ZERO_ADDRESS, Ledger
from kraken_market.ledger.deploy import FAUCET_MAX_DRIP
from kraken_market.ledger.errors import InsufficientFunds, InvalidTransaction
from tests.ledger.conftest import DATA, Market


@pytest.fixture(scope="module", autouse=True)
def _two_run_estimates(local_market: Market) -> None:
    local_market.estimate_in_two_runs()


def test_drip_mints_to_the_caller_or_a_recipient(local_market: Market) -> None:
    other, buyer = local_market.other, local_market.buyer
    supply, mine, theirs = other.total_supply(), other.balance(), other.balance(buyer.address)
    receipt = other.drip(3 * DATA)
    other.drip(2 * DATA, to=buyer.address)
    assert receipt.first("Dripped").args == {"recipient": other.address, "amount": 3 * DATA}
    assert other.balance() - mine == 3 * DATA
    assert other.balance(buyer.address) - theirs == 2 * DATA
    assert other.total_supply() - supply == 5 * DATA


def test_drip_limits(local_market: Market) -> None:
    other = local_market.other
    faucet = other.contracts["Faucet"].functions
    assert faucet.max_drip().call() == FAUCET_MAX_DRIP
    assert faucet.token().call() == local_market.deployment.token
    supply = other.total_supply()
    for amount in (0, FAUCET_MAX_DRIP + 1):
        with Market.refused(InvalidTransaction, "drip_out_of_range"):
            other.drip(amount)
    with Market.refused(InvalidTransaction, "zero_address"):
        other.drip(DATA, to=ZERO_ADDRESS)
    assert other.total_supply() == supply


def test_transfer_moves_tokens(local_market: Market) -> None:
    other, buyer = local_market.funded(local_market.other, 10 * DATA), local_market.buyer
    mine, theirs = other.balance(), other.balance(buyer.address)
    receipt = other.transfer(buyer.address, 7 * DATA)
    assert receipt.first("Transfer").args == {
        "sender": other.address,
        "receiver": buyer.address,
        "value": 7 * DATA,
    }
    assert (other.balance(), other.balance(buyer.address)) == (mine - 7 * DATA, theirs + 7 * DATA)


def test_transfer_refusals_change_nothing(local_market: Market) -> None:
    other, buyer = local_market.other, local_market.buyer
    mine, theirs = other.balance(), other.balance(buyer.address)
    with Market.refused(InsufficientFunds, "erc20: transfer amount exceeds balance"):
        other.transfer(buyer.address, mine + 1)
    with Market.refused(InvalidTransaction, "erc20: transfer to the zero address"):
        other.transfer(ZERO_ADDRESS, 1)
    assert (other.balance(), other.balance(buyer.address)) == (mine, theirs)


def test_approve_sets_the_markets_allowance(local_market: Market) -> None:
    other = local_market.other
    other.approve_spending(5 * DATA)
    assert other.allowance(local_market.deployment.market) == 5 * DATA
    other.ensure_allowance(3 * DATA)  # enough: nothing sent
    assert other.allowance(local_market.deployment.market) == 5 * DATA
    other.ensure_allowance(6 * DATA)
    assert other.allowance(local_market.deployment.market) == 2**256 - 1
    with Market.refused(InvalidTransaction, "erc20: approve to the zero address"):
        other.approve_spending(DATA, spender=ZERO_ADDRESS)


def test_an_account_without_ether_cannot_pay_for_gas(local_market: Market) -> None:
    poor = Ledger(local_market.w3, local_market.deployment, Account.create())
    with Market.refused(InsufficientFunds, "insufficient_gas_funds"):
        poor.drip(DATA)
    assert poor.balance() == 0
