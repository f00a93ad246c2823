"""``platform.gas``: on a chain ``up`` does not own, every account that will sign is
checked for gas money before anything is sent, and the refusal names each one."""

from __future__ import annotations

import pytest
from eth_account import Account

from kraken_market.ledger.client import Ledger
from kraken_market.platform.errors import AccountsUnfunded
from kraken_market.platform.gas import (
    DEPLOY_GAS,
    TRANSACTION_GAS,
    WORKING_START,
    Signer,
    ether,
    fee_per_gas,
    needed,
    require_gas,
)
from tests.ledger.conftest import (
    Market,
    local_market,  # noqa: F401 - the fixture
)


def test_a_funded_signer_passes_and_an_empty_one_is_named(market: Market) -> None:
    rich: Ledger = market.seller
    empty = Account.create().address
    signers = [
        Signer("verifier", rich.address, "records grants"),
        Signer("node 0", empty, "attests"),
    ]
    with pytest.raises(AccountsUnfunded) as refused:
        require_gas(market.w3, signers, "http://127.0.0.1:8545", "/keys")
    message = refused.value.message
    assert f"node 0 {empty} (attests) holds 0, needs at least" in message
    assert "verifier" not in message  # funded: not named
    assert "nothing was deployed or registered" in message and "/keys" in message
    [short] = refused.value.details["accounts"]
    assert short["address"] == empty and short["balance_wei"] == "0"
    assert int(short["needed_wei"]) == needed(signers[1], fee_per_gas(market.w3))
    require_gas(market.w3, signers[:1], "http://127.0.0.1:8545", "/keys")  # passes


def test_the_deployer_needs_more_than_a_signer(market: Market) -> None:
    per_gas = fee_per_gas(market.w3)
    assert per_gas > 0
    plain = Signer("arbiter", "0x" + "1" * 40, "rules")
    deployer = Signer("admin", "0x" + "1" * 40, "deploys", deploys=True)
    assert needed(plain, per_gas) == WORKING_START * TRANSACTION_GAS * per_gas
    assert needed(deployer, per_gas) == needed(plain, per_gas) + DEPLOY_GAS * per_gas
    assert needed(plain, 0) == 1  # a zero-fee network: any balance says "funded"


@pytest.fixture
def market(local_market: Market) -> Market:  # noqa: F811
    return local_market


@pytest.mark.parametrize(
    ("wei", "shown"),
    [(0, "0"), (10**18, "1"), (15 * 10**17, "1.5"), (1, "0.000000000000000001")],
)
def test_amounts_are_shown_in_whole_units(wei: int, shown: str) -> None:
    assert ether(wei) == shown
