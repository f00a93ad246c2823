"""The ledger client against a real EVM node (Foundry's anvil), as it runs on any chain.

A selected subset of the flows the embedded-chain tests cover in full: deploy,
publish, purchase, a revert decoded from the node's payload, an allowance lowered
behind the client's back, a dropped transaction sent again without a duplicate,
one replaced by another of the same nonce, a timeout followed by a resynchronised
nonce, receipt polling at the pace of 2-second blocks, and log queries under a
provider's range cap. Each anvil starts in well under a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from eth_utils.address import to_checksum_address
from web3.exceptions import TransactionNotFound

from kraken_market.db.engine import make_engine
from kraken_market.db.migrate import upgrade
from kraken_market.ledger.client import Ledger, dev_account
from kraken_market.ledger.contracts import artifact
from kraken_market.ledger.errors import (
    NotPermitted,
    TransactionReplaced,
    TransactionTimeout,
)
from kraken_market.ledger.indexer import Indexer
from kraken_market.ledger.model import Prices
from kraken_market.ledger.provenance import history
from kraken_market.ledger.reverts import decode_revert
from kraken_market.ledger.transactions import EventDecoder, Sender
from tests import served
from tests.ledger.anvil import CountingProvider, counting, rpc, running_anvil
from tests.ledger.conftest import DATA, Market

RECIPIENT = dev_account(5).address


@pytest.fixture(scope="module")
def market(anvil_market: Market) -> Market:
    """The contracts on anvil, under the name the ledger tests use (tests/ledger/conftest.py)."""
    return anvil_market


def nonce_of(market: Market, account: str) -> int:
    return market.w3.eth.get_transaction_count(to_checksum_address(account))


def provider(market: Market) -> CountingProvider:
    found = market.w3.provider
    assert isinstance(found, CountingProvider)
    return found


@contextmanager
def manual_mining(anvil_url: str) -> Iterator[None]:
    """Blocks only when asked for (a transaction can wait in the pool, or be dropped)."""
    rpc(anvil_url, "evm_setAutomine", False)
    try:
        yield
    finally:
        rpc(anvil_url, "evm_setIntervalMining", 0)
        rpc(anvil_url, "evm_setAutomine", True)


def test_deploy_publish_and_purchase(market: Market) -> None:
    market.admin.check_deployed()
    assert market.admin.token().decimals == 18  # read from the contract
    product = market.publish()
    buyer = market.funded(market.buyer)
    market.grant(buyer, product)
    before = buyer.balance()
    purchase_id, receipt = buyer.buy_access(product, purpose=0)
    assert [e.name for e in receipt.events].count("AccessPurchased") == 1
    record = buyer.purchase(purchase_id)
    assert record is not None and record.buyer == buyer.address
    assert before - buyer.balance() == 4 * DATA
    assert [e.args["purchase_id"] for e in buyer.access_purchases(buyer.address, product)] == [
        purchase_id
    ]
    market.assert_escrow_balanced()


def test_revert_reason_decoded_from_the_nodes_payload(market: Market, anvil_url: str) -> None:
    product = market.publish()
    with market.refused(NotPermitted, "not_owner"):
        market.other.set_prices(product, Prices(access=1))
    # what anvil sends: code 3 and the ABI-encoded Error(string) as data
    prices = Prices(access=1).as_tuple()
    call = market.other._fn("Registry", "set_prices", bytes.fromhex(product[2:]), prices)
    answer = served.post(
        anvil_url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_estimateGas",
            "params": [call.build_transaction({"from": market.other.address, "gas": 10**6})],
        },
    ).json()
    assert answer["error"]["code"] == 3
    assert decode_revert(bytes.fromhex(answer["error"]["data"][2:])) == "not_owner"


def test_an_allowance_lowered_elsewhere_is_read_again(market: Market) -> None:
    buyer = market.funded(market.as_(9))
    buyer.ensure_allowance(1)  # unlimited, remembered
    elsewhere = buyer.acting_as(buyer.account)  # another client of the same account
    elsewhere.approve_spending(0)
    product = market.publish()
    market.grant(buyer, product)
    # the remembered allowance is refused by the token: read again, approved, bought;
    # the first client's nonce counter is behind the chain now and is resynchronised
    purchase_id, _ = buyer.buy_access(product, purpose=0)
    assert buyer.purchase(purchase_id) is not None
    assert buyer.allowance(market.deployment.market) > 0


def _transfer(ledger: Ledger, amount: int) -> tuple[Sender, object]:
    return ledger.sender, ledger._fn("DataToken", "transfer", RECIPIENT, amount)


def test_dropped_transaction_is_sent_again_not_duplicated(market: Market, anvil_url: str) -> None:
    payer = market.funded(market.as_(7))
    nonce = nonce_of(market, payer.address)
    received = payer.balance(RECIPIENT)
    sender, call = _transfer(payer, 3)
    with manual_mining(anvil_url):
        tx_hash = sender.send(call, "transfer DATA")  # type: ignore[arg-type]
        rpc(anvil_url, "anvil_dropTransaction", tx_hash)
        with pytest.raises(TransactionNotFound):
            market.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        rpc(anvil_url, "evm_setIntervalMining", 1)
        receipt = sender.wait(tx_hash, call, "transfer DATA")  # type: ignore[arg-type]
    assert receipt.tx_hash == tx_hash  # the same transaction, mined once
    assert nonce_of(market, payer.address) == nonce + 1
    assert payer.balance(RECIPIENT) == received + 3


def test_replaced_transaction_is_reported(market: Market, anvil_url: str) -> None:
    payer = market.funded(market.as_(6))
    nonce = nonce_of(market, payer.address)
    received = payer.balance(RECIPIENT)
    sender, call = _transfer(payer, 5)
    with manual_mining(anvil_url):
        dropped = sender.send(call, "transfer DATA")  # type: ignore[arg-type]
        rpc(anvil_url, "anvil_dropTransaction", dropped)
        other = payer.acting_as(payer.account)  # reads the pending count: the same nonce
        other_call = other._fn("DataToken", "transfer", RECIPIENT, 7)
        taken = other.sender.send(other_call, "transfer DATA")
        rpc(anvil_url, "evm_mine")
        with pytest.raises(TransactionReplaced) as caught:
            sender.wait(dropped, call, "transfer DATA")  # type: ignore[arg-type]
    assert caught.value.details["nonce"] == nonce
    assert market.w3.eth.get_transaction_receipt(taken)["status"] == 1  # type: ignore[arg-type]
    assert payer.balance(RECIPIENT) == received + 7  # the replacement only, once
    payer.transfer(RECIPIENT, 1)  # the counter follows the chain again
    assert nonce_of(market, payer.address) == nonce + 2


def test_timeout_resynchronises_the_nonce(market: Market, anvil_url: str) -> None:
    payer = market.funded(market.as_(4))
    impatient = Ledger(market.w3, market.deployment, payer.account, timeout=0.3)
    nonce = nonce_of(market, payer.address)
    with manual_mining(anvil_url):
        with pytest.raises(TransactionTimeout) as caught:
            impatient.transfer(RECIPIENT, 1)
        lost = caught.value.details["tx_hash"]
        rpc(anvil_url, "anvil_dropTransaction", lost)  # e.g. the node restarted
    # before: the counter stayed at nonce + 1 and every later transaction waited forever
    impatient.transfer(RECIPIENT, 2)
    assert nonce_of(market, payer.address) == nonce + 1


def test_receipt_polling_follows_two_second_blocks() -> None:
    """≤ 10 JSON-RPC requests per confirmed transaction at 2-second blocks."""
    with running_anvil("--block-time", "2") as url:
        rpc(url, "anvil_mine", hex(3), hex(2))  # a past, as a real chain has: 3 blocks 2 s apart
        w3, counted = counting(url)
        sender = Sender(w3, dev_account(0), EventDecoder({}), poll_latency=0.005)
        built = artifact("DataToken")
        factory = w3.eth.contract(abi=built.abi, bytecode=built.bytecode)
        deployed = sender.transact(factory.constructor(10**24), "deploy DataToken")
        assert deployed.contract_address
        token = w3.eth.contract(
            address=to_checksum_address(deployed.contract_address), abi=built.abi
        )
        transfers = 4
        for amount in range(1, transfers + 1):
            sender.transact(token.functions.transfer(RECIPIENT, amount), "transfer DATA")
        assert token.functions.balanceOf(RECIPIENT).call() == 10
        confirmed = 1 + transfers
        requests = counted.total - 1  # the balance read above
        polls = counted.counts["eth_getTransactionReceipt"]
        print(
            f"\n{requests / confirmed:.1f} requests, {polls / confirmed:.1f} receipt polls per tx"
        )
        print(dict(counted.counts))
        assert requests <= 10 * confirmed, str(dict(counted.counts))
        assert sender.block_time() == 2


def test_log_queries_respect_a_providers_range_cap(market: Market, tmp_path: Path) -> None:
    product = market.publish()
    market.funded(market.buyer)
    market.grant(market.buyer, product)
    market.buyer.buy_access(product, purpose=0)
    capped_w3, capped = counting(str(provider(market).endpoint_uri), log_range_cap=4)
    reader = Ledger(capped_w3, market.deployment, dev_account(9), log_range=2000)
    expected = history(market.admin, product).as_dict()
    assert history(reader, product).as_dict() == expected
    assert any(last - first + 1 > 4 for first, last in capped.log_ranges)  # refused, then
    answered = [r for r in capped.log_ranges if r[1] - r[0] + 1 <= 4]  # halved until answered
    assert answered and answered[0][0] == market.deployment.block

    # the configured range: never more than it in one query, without a refusal
    bounded_w3, bounded = counting(str(capped.endpoint_uri))
    Ledger(bounded_w3, market.deployment, dev_account(9), log_range=3).access_purchases(
        market.buyer.address, product
    )
    assert bounded.log_ranges and all(last - first < 3 for first, last in bounded.log_ranges)

    # the indexer, from the deployment to the head, under the cap
    engine = make_engine(f"sqlite:///{tmp_path / 'kraken.db'}")
    try:
        upgrade(engine)
        stored = Indexer(capped_w3, market.deployment, engine, batch_blocks=2000).poll_once()
    finally:
        engine.dispose()
    on_chain = market.w3.eth.get_logs(
        {
            "fromBlock": market.deployment.block,
            "toBlock": market.w3.eth.block_number,
            "address": [
                to_checksum_address(address)
                for name, address in market.deployment.addresses().items()
                if name != "DataToken"  # not indexed: its transfers are the Market's
            ],
        }
    )
    assert stored == len(on_chain) > 0
