"""The client against both backends: publish, grant, buy, approve."""

from __future__ import annotations

import pytest

from kraken_market.ledger.errors import ChainConflict, GrantRequired
from kraken_market.ledger.model import StakeStatus
from tests.ledger.conftest import DATA, Market


def test_publish_buy_approve(market: Market) -> None:
    product = market.publish(stake=20 * DATA)
    buyer = market.funded(market.buyer)
    with pytest.raises(GrantRequired) as refused:
        buyer.buy_access(product, 0)
    assert refused.value.reason == "no_grant"
    market.grant(buyer, product)
    seller_before = market.seller.balance()
    purchase, receipt = buyer.buy_access(product, 0)
    assert "AccessPurchased" in [event.name for event in receipt.events]
    # 4 DATA, 2.5 % fee to the treasury
    assert market.seller.balance() - seller_before == 4 * DATA * 9750 // 10000
    receipt = buyer.approve_product(purchase, product)
    due = receipt.first("StakeReleaseScheduled").args["release_at"]
    stake = market.seller.stake(product)
    assert (stake.status, stake.release_at) == (StakeStatus.LOCKED, due)
    with market.refused(ChainConflict, "release_not_due"):  # one claim window later
        market.seller.release_stake(product)


def test_reads_are_asked_again_after_a_connection_failure_and_sends_never() -> None:
    """A send whose answer was lost must not be sent again by web3 (it could be mined
    twice); a read may be (a dead kept-alive connection after a network outage)."""
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from web3.providers.rpc.utils import check_if_retry_on_failure
    from web3.types import RPCEndpoint

    from kraken_market.ledger.client import READ_METHODS, read_retries

    retries = read_retries()
    assert RequestsConnectionError in retries.errors  # web3's default names the builtin one
    for read in ("eth_call", "eth_getLogs", "eth_getTransactionReceipt", "eth_blockNumber"):
        assert check_if_retry_on_failure(RPCEndpoint(read), retries.method_allowlist), read
    for send in ("eth_sendRawTransaction", "eth_sendTransaction", "eth_sign", "personal_sign"):
        assert not check_if_retry_on_failure(RPCEndpoint(send), retries.method_allowlist), send
    assert set(retries.method_allowlist) == set(READ_METHODS)
