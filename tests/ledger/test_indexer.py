"""The indexer on both chain backends and both databases.

The chain is shared by the module (see ``conftest``): every indexer reads the
deployment's whole history, so assertions compare against the chain's own
logs or look at this module's product, never at absolute counts.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account
from eth_tester import EthereumTester
from eth_typing import HexStr
from sqlalchemy import Engine, delete, func, select, update
from web3 import EthereumTesterProvider, Web3
from web3.types import Nonce, TxParams, Wei

from kraken_market.catalog.ids import new_product_id
from kraken_market.ledger import indexer as indexer_module
from kraken_market.ledger.chain.embedded import DurableBackend
from kraken_market.ledger.client import Ledger, dev_account
from kraken_market.ledger.contracts import artifact
from kraken_market.ledger.errors import ChainReorganised, EventConflict
from kraken_market.ledger.indexer import (
    DOMAIN_EVENTS,
    AccessPurchased,
    ComputationRefused,
    Granted,
    IndexedEvent,
    Indexer,
    ProductPublished,
    Progress,
    Reorganisation,
)
from kraken_market.ledger.model import ModeCode, Prices
from kraken_market.ledger.models import ChainCursor, ChainEventRecord, args_from_json, args_to_json
from kraken_market.ledger.transactions import EventDecoder
from kraken_market.types import UINT256_MAX
from tests.conftest import Database, prepare_database
from tests.ledger.conftest import DATA, Market, _deploy


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """``tests.conftest``'s databases, scoped to this module instead of the session, so
    that pytest loops over the chains (a deployment costs seconds) outside the
    databases (milliseconds) rather than deploying every chain once per database."""
    return prepare_database(request, tmp_path_factory)


@dataclass(frozen=True)
class Scenario:
    product: str
    purchase_id: int
    buyer: str


@pytest.fixture(scope="module")
def scenario(market: Market) -> Scenario:
    """A product published, granted and bought once on the module's chain."""
    product = market.publish()
    buyer = market.funded(market.buyer)
    market.grant(buyer, product)
    purchase_id, _ = buyer.buy_access(product, 0)
    return Scenario(product, purchase_id, buyer.address)


def chain_keys(market: Market, indexer: Indexer, through: int) -> list[str]:
    """The keys of every decodable log of the indexed contracts, read directly."""
    logs = market.w3.eth.get_logs(
        {
            "fromBlock": market.deployment.block,
            "toBlock": through,
            "address": [c.address for c in indexer.contracts.values()],
        }
    )
    events = EventDecoder(indexer.contracts).decode_all(logs)
    return [f"{market.deployment.chain_id}:{e.block_number}:{e.log_index}" for e in events]


def stored_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(ChainEventRecord)).scalar_one()


class Crash(BaseException):
    """Stands for the process dying (not an Exception: nothing catches it)."""


def test_events_appear_stored_exactly_and_typed(
    market: Market, scenario: Scenario, engine: Engine
) -> None:
    indexer = Indexer(market.w3, market.deployment, engine)
    assert indexer.poll_once() > 0
    head = market.w3.eth.block_number
    stored = indexer.history(limit=None)
    assert [e.key for e in stored] == chain_keys(market, indexer, head)
    assert indexer.progress().block == indexer.progress().delivered_block == head

    mine = indexer.history(item=scenario.product)
    names = [e.name for e in mine]
    assert names[:2] == ["ProductPublished", "StakeLocked"]
    assert {"Granted", "AccessPurchased", "Revenue"} <= set(names)
    published = mine[0].as_type(ProductPublished)
    assert published.product_id == scenario.product
    assert published.mode is ModeCode.BATCH and published.prices == Prices(access=4 * DATA)

    (paid,) = indexer.history(names={"AccessPurchased"}, purchase_id=scenario.purchase_id)
    typed = paid.typed()
    assert typed == AccessPurchased(
        item=scenario.product,  # type: ignore[arg-type]
        buyer=scenario.buyer,
        purchase_id=scenario.purchase_id,
        purpose=0,
        amount=4 * DATA,
    )
    block = market.w3.eth.get_block(paid.block_number)
    assert paid.block_time == datetime.fromtimestamp(block["timestamp"], UTC)
    receipt = market.w3.eth.get_transaction_receipt(paid.tx_hash)  # type: ignore[arg-type]
    assert receipt["blockNumber"] == paid.block_number
    assert indexer.history(account=scenario.buyer, names={"AccessPurchased"}) == [paid]
    with pytest.raises(TypeError, match="not a Granted"):
        paid.as_type(Granted)

    # again: nothing new, nothing twice
    assert indexer.poll_once() == 0
    assert stored_count(engine) == len(stored)


def test_a_refusal_is_indexed_under_its_request_and_buyer_with_its_code(
    market: Market, engine: Engine
) -> None:
    """``ComputationRefused``: the request is its item, the refunded buyer its account
    (the one who got the money, as for a reclaim), the reason the node's error code."""
    product = market.publish(mode=ModeCode.ANALYTICS)
    buyer = market.funded(market.buyer)
    market.grant(buyer, product)
    request = new_product_id()  # any 32 random bytes as 0x hex
    buyer.request_computation(request, b"\x01" * 32, [product], 0, b"\x02" * 32)
    market.as_(5).refuse(request, "manifest_invalid")
    indexer = Indexer(market.w3, market.deployment, engine)
    indexer.poll_once()
    (refused,) = indexer.history(item=request, names={"ComputationRefused"})
    assert refused.typed() == ComputationRefused(
        request_id=request,
        buyer=buyer.address,
        node=dev_account(5).address,
        reason="manifest_invalid",  # type: ignore[arg-type]
        amount=3 * DATA,
    )
    assert refused in indexer.history(account=buyer.address, names={"ComputationRefused"})


def test_restart_after_a_crash_resumes_without_gaps_or_duplicates(
    market: Market, scenario: Scenario, engine: Engine
) -> None:
    first = Indexer(market.w3, market.deployment, engine, batch_blocks=3)
    seen_first: list[IndexedEvent] = []

    def dies_at_the_fifth(event: IndexedEvent) -> None:
        if len(seen_first) == 4:
            raise Crash
        seen_first.append(event)

    first.subscribe(dies_at_the_fifth)
    with pytest.raises(Crash):
        first.poll_once()
    crashed = first.progress()
    assert crashed.delivered_block < crashed.block  # committed, not all delivered

    second = Indexer(market.w3, market.deployment, engine)  # the restarted process
    seen_second: list[IndexedEvent] = []
    second.subscribe(seen_second.append)
    second.poll_once()

    head = market.w3.eth.block_number
    expected = chain_keys(market, second, head)
    assert [e.key for e in second.history(limit=None)] == expected
    assert stored_count(engine) == len(expected)
    # at least once: the crashed batch is delivered again, then everything after it
    keys_first = [e.key for e in seen_first]
    keys_second = [e.key for e in seen_second]
    assert keys_second == [k for k in expected if int(k.split(":")[1]) > crashed.delivered_block]
    assert sorted(set(keys_first) | set(keys_second), key=expected.index) == expected
    assert second.progress().delivered_block == head


def test_rerunning_stored_blocks_inserts_and_delivers_nothing(
    market: Market, scenario: Scenario, engine: Engine
) -> None:
    indexer = Indexer(market.w3, market.deployment, engine, batch_blocks=5)
    indexer.poll_once()
    count = stored_count(engine)
    start = market.deployment.block - 1
    with engine.begin() as connection:  # as if the cursor were restored from an old backup
        connection.execute(
            update(ChainCursor).values(block=start, block_hash=None, delivered_block=start)
        )
    delivered: list[IndexedEvent] = []
    indexer.subscribe(delivered.append)
    assert indexer.poll_once() == 0
    assert delivered == []
    assert stored_count(engine) == count
    assert indexer.progress().block == market.w3.eth.block_number


def test_confirmation_depth_holds_back_the_newest_blocks(
    local_market: Market, engine: Engine
) -> None:
    indexer = Indexer(local_market.w3, local_market.deployment, engine, confirmations=1)
    indexer.poll_once()
    assert indexer.progress().block == local_market.w3.eth.block_number - 1
    item = new_product_id()
    expiry = local_market.now() + 3600
    local_market.verifier.grant(local_market.buyer.address, item, 1, expiry)
    indexer.poll_once()
    assert indexer.history(item=item) == []  # in the newest block: not confirmed yet
    local_market.verifier.grant(local_market.buyer.address, item, 2, expiry)
    indexer.poll_once()
    (first,) = indexer.history(item=item)
    assert first.as_type(Granted).purpose == 1
    assert indexer.progress().block == local_market.w3.eth.block_number - 1


def test_subscribers_get_events_in_chain_order_filtered_by_name(
    market: Market, scenario: Scenario, engine: Engine
) -> None:
    indexer = Indexer(market.w3, market.deployment, engine, batch_blocks=4)
    everything: list[IndexedEvent] = []
    payments: list[IndexedEvent] = []
    gone: list[IndexedEvent] = []
    indexer.subscribe(everything.append)
    indexer.subscribe(payments.append, {"AccessPurchased", "Granted"})
    unsubscribe = indexer.subscribe(gone.append)
    unsubscribe()
    indexer.poll_once()
    assert everything == indexer.history(limit=None)
    locations = [(e.block_number, e.log_index) for e in everything]
    assert locations == sorted(locations) and len(set(locations)) == len(locations)
    assert payments == [e for e in everything if e.name in {"AccessPurchased", "Granted"}]
    assert any(e.args.get("purchase_id") == scenario.purchase_id for e in payments)
    assert gone == []


def test_a_failing_subscriber_loses_nothing_for_the_others(
    market: Market, scenario: Scenario, engine: Engine
) -> None:
    indexer = Indexer(market.w3, market.deployment, engine)
    calls: list[str] = []
    good: list[IndexedEvent] = []

    def broken(event: IndexedEvent) -> None:
        calls.append(event.key)
        raise ValueError("a bug in one subscriber")

    indexer.subscribe(broken)
    indexer.subscribe(good.append)
    indexer.poll_once()
    assert [e.key for e in good] == calls == [e.key for e in indexer.history(limit=None)]
    progress = indexer.progress()
    assert progress.block == progress.delivered_block == market.w3.eth.block_number


def test_run_polls_until_stopped(market: Market, scenario: Scenario, engine: Engine) -> None:
    indexer = Indexer(market.w3, market.deployment, engine, batch_blocks=4)
    stop = threading.Event()
    paid: list[IndexedEvent] = []

    def on_payment(event: IndexedEvent) -> None:
        paid.append(event)
        stop.set()

    indexer.subscribe(on_payment, {"AccessPurchased"})
    indexer.run(stop, interval=0.01)  # returns once the subscriber stops it
    assert [e.as_type(AccessPurchased).purchase_id for e in paid] == [scenario.purchase_id]


def test_a_reorganisation_is_rewound_to_the_fork_point(
    local_market: Market, engine: Engine
) -> None:
    """Two blocks with events leave the chain; the new branch has another event at
    the first one's height. The indexer finds the fork, removes exactly the lost
    events, tells its subscribers, then stores and delivers the new branch's event."""
    w3, deployment = local_market.w3, local_market.deployment
    tester = w3.provider.ethereum_tester  # type: ignore[attr-defined]
    buyer = dev_account(8).address
    item, expiry = new_product_id(), local_market.now() + 3600
    indexer = Indexer(w3, deployment, engine)
    seen: list[str] = []
    indexer.subscribe(lambda event: seen.append(f"event {event.key}"), {"Granted"})
    reorganisations: list[Reorganisation] = []
    indexer.on_reorganised(reorganisations.append)
    indexer.poll_once()
    fork = w3.eth.block_number
    snapshot = tester.take_snapshot()
    verifier = Ledger(w3, deployment, dev_account(2))  # own nonce counter: the chain rewinds
    verifier.grant(buyer, item, 1, expiry)
    verifier.grant(buyer, item, 3, expiry)
    indexer.poll_once()
    lost = indexer.history(item=item)
    assert [e.args["purpose"] for e in lost] == [1, 3]
    assert [e.block_number for e in lost] == [fork + 1, fork + 2]

    tester.revert_to_snapshot(snapshot)  # both blocks leave the chain
    Ledger(w3, deployment, dev_account(2)).grant(buyer, item, 2, expiry)
    local_market.admin.send_ether(dev_account(9).address, 1)  # the new branch is as long
    assert not indexer.cursor_on_chain()
    seen.clear()
    indexer.poll_once()

    (reorganisation,) = reorganisations
    assert (reorganisation.fork_block, reorganisation.orphaned_through) == (fork, fork + 2)
    assert reorganisation.removed == tuple(lost)
    (kept,) = indexer.history(item=item)
    assert kept.args["purpose"] == 2 and kept.block_number == fork + 1
    assert seen == [f"event {kept.key}"]  # the new branch, delivered once
    head = w3.eth.block_number
    assert [e.key for e in indexer.history(limit=None)] == chain_keys(local_market, indexer, head)
    assert indexer.progress() == Progress(
        head, "0x" + bytes(w3.eth.get_block(head)["hash"]).hex(), head
    )
    assert all(
        indexer._block_hash(block) == block_hash for block, block_hash in indexer.checkpoints()
    )


def test_a_reorganisation_deeper_than_the_checkpoints_stops_the_indexer(
    local_market: Market, engine: Engine
) -> None:
    w3, deployment = local_market.w3, local_market.deployment
    tester = w3.provider.ethereum_tester  # type: ignore[attr-defined]
    buyer = dev_account(8).address
    item, expiry = new_product_id(), local_market.now() + 3600
    # one block per batch, two hashes kept: only the two newest blocks are recorded
    indexer = Indexer(w3, deployment, engine, batch_blocks=1, kept_checkpoints=2)
    indexer.poll_once()
    fork = w3.eth.block_number
    snapshot = tester.take_snapshot()
    verifier = Ledger(w3, deployment, dev_account(2))
    for purpose in (1, 3, 4):
        verifier.grant(buyer, item, purpose, expiry)
    indexer.poll_once()
    assert [block for block, _ in indexer.checkpoints()] == [fork + 3, fork + 2]

    tester.revert_to_snapshot(snapshot)  # three blocks leave the chain, two are known
    Ledger(w3, deployment, dev_account(2)).grant(buyer, item, 2, expiry)
    with pytest.raises(ChainReorganised) as reorganised:
        indexer.poll_once()
    assert reorganised.value.details["block"] == fork + 3
    assert reorganised.value.details["oldest_checkpoint"] == fork + 2
    # Advice that fits both causes: a chain made anew, or a deep reorganisation.
    assert "use another database (KRAKEN_DATABASE_URL)" in reorganised.value.message
    assert "'kraken-market ledger rewind --to-block N'" in reorganised.value.message
    assert [e.args["purpose"] for e in indexer.history(item=item)] == [1, 3, 4]  # untouched

    assert indexer.rewind(fork) == 3  # what the operator's command does
    assert indexer.cursor_on_chain()
    indexer.poll_once()
    assert [e.args["purpose"] for e in indexer.history(item=item)] == [2]


def test_a_cursor_moved_by_another_indexer_is_not_rewound_twice(
    local_market: Market, engine: Engine
) -> None:
    """The rewind is conditional on the cursor it found, as storing a batch is."""
    indexer = Indexer(local_market.w3, local_market.deployment, engine)
    indexer.poll_once()
    progress = indexer.progress()
    stale = Progress(progress.block - 1, "0x" + "00" * 32, progress.block - 1)
    assert indexer._rewind_to(progress.block - 2, None, expected=stale, collect=True) is None
    assert indexer.progress() == progress
    assert stored_count(engine) == len(indexer.history(limit=None)) > 0


# -- pure parts ----------------------------------------------------------------------------


def test_domain_events_match_the_contract_abis() -> None:
    for name, cls in DOMAIN_EVENTS.items():
        (entry,) = [e for e in artifact(cls.contract).abi if e.get("name") == name]
        assert entry["type"] == "event"
        assert [f.name for f in fields(cls)] == [i["name"] for i in entry["inputs"]], name


def test_arguments_round_trip_through_json_exactly() -> None:
    (entry,) = [e for e in artifact("Registry").abi if e.get("name") == "ProductPublished"]
    args = {
        "product_id": bytes(range(32)),
        "owner": dev_account(7).address,
        "metadata_hash": b"\xff" * 32,
        "policy_hash": bytes(32),
        "mode": 3,
        "prices": {
            "access": UINT256_MAX,
            "subscription_per_second": 2**53 + 1,
            "subscription_min_seconds": 0,
            "computation": 1,
        },
        "parents": (b"\x01" * 32, b"\x02" * 32),
        "stake": 10**30,
    }
    stored = json.loads(json.dumps(args_to_json(entry["inputs"], args)))
    assert stored["prices"]["access"] == str(UINT256_MAX) and stored["mode"] == 3
    assert stored["parents"] == ["0x" + "01" * 32, "0x" + "02" * 32]
    assert args_from_json(entry["inputs"], stored) == args


def test_all_names_every_public_class() -> None:
    public = {
        name
        for name, value in vars(indexer_module).items()
        if not name.startswith("_")
        and isinstance(value, type)
        and value.__module__ == indexer_module.__name__
    }
    assert public <= set(indexer_module.__all__)


def test_every_event_of_a_block_shared_by_many_transactions_is_stored(
    tmp_path: Path, engine: Engine
) -> None:
    """Group commit puts concurrent senders' transactions in one block: each of their
    logs has its own index in the block, so none is lost to another's location."""
    backend = DurableBackend(tmp_path / "chain.db")
    market = _deploy("durable", Web3(EthereumTesterProvider(EthereumTester(backend))))
    senders = [Account.create() for _ in range(6)]
    for sender in senders:
        market.admin.send_ether(sender.address, 10**18)
    faucet = market.admin.contracts["Faucet"]
    hashes: list[HexStr] = []
    for sender in senders:  # into one pending block, as the server's group commit does
        params: TxParams = {
            "from": sender.address,
            "nonce": Nonce(0),
            "chainId": market.w3.eth.chain_id,
            "gas": 200_000,
            "maxFeePerGas": Wei(10**10),
            "maxPriorityFeePerGas": Wei(10**9),
        }
        transaction = faucet.functions.drip(sender.address, DATA).build_transaction(params)
        raw = bytes(sender.sign_transaction(transaction).raw_transaction)
        hashes.append(HexStr("0x" + backend.send_raw_transaction(raw).hex()))
    backend.mine_blocks(1)
    blocks = {market.w3.eth.get_transaction_receipt(tx)["blockNumber"] for tx in hashes}
    assert len(blocks) == 1
    indexer = Indexer(market.w3, market.deployment, engine)
    indexer.poll_once()
    dripped = [e for e in indexer.history(names=["Dripped"]) if e.tx_hash in hashes]
    assert sorted(e.tx_hash for e in dripped) == sorted(hashes)
    assert len({e.key for e in dripped}) == len(senders)
    backend.close()


def test_a_different_event_at_a_stored_location_is_refused_and_repaired(
    local_market: Market, engine: Engine
) -> None:
    indexer = Indexer(local_market.w3, local_market.deployment, engine)
    item = new_product_id()
    local_market.verifier.grant(local_market.buyer.address, item, 1, local_market.now() + 3600)
    indexer.poll_once()
    (granted,) = indexer.history(item=item)
    forged = "0x" + "ab" * 32
    with engine.begin() as connection:  # a database that lost or merged an event
        connection.execute(
            update(ChainEventRecord)
            .where(ChainEventRecord.tx_hash == granted.tx_hash)
            .values(tx_hash=forged)
        )
    check = indexer.check(granted.block_number, granted.block_number)
    assert check.missing == check.unexpected == ((granted.block_number, granted.log_index),)
    cursor = indexer.progress()
    with engine.begin() as connection:  # reading that block again meets the other event
        connection.execute(
            update(ChainCursor).values(
                block=granted.block_number - 1,
                block_hash=None,
                delivered_block=granted.block_number - 1,
            )
        )
    with pytest.raises(EventConflict, match="ledger reindex"):
        indexer.poll_once()
    assert indexer.progress().block == granted.block_number - 1  # nothing moved
    indexer.repair(check)
    assert indexer.check(granted.block_number, cursor.block).consistent
    assert [e.tx_hash for e in indexer.history(item=item)] == [granted.tx_hash]


def test_reindex_rebuilds_what_a_database_lost(local_market: Market, engine: Engine) -> None:
    indexer = Indexer(local_market.w3, local_market.deployment, engine)
    indexer.poll_once()
    count = stored_count(engine)
    with engine.begin() as connection:
        connection.execute(
            delete(ChainEventRecord).where(
                ChainEventRecord.id.in_(select(ChainEventRecord.id).limit(3).scalar_subquery())
            )
        )
    whole = indexer.check(local_market.deployment.block, indexer.progress().block)
    assert len(whole.missing) == 3 and not whole.unexpected
    forgotten, stored = indexer.reindex()
    assert (forgotten, stored) == (count - 3, count)
    assert stored_count(engine) == count


def test_the_self_check_goes_through_every_block_since_the_last_one(
    local_market: Market, engine: Engine
) -> None:
    indexer = Indexer(local_market.w3, local_market.deployment, engine, batch_blocks=3)
    indexer.poll_once()
    count, cursor = stored_count(engine), indexer.progress().block
    with engine.begin() as connection:  # an event lost far behind the cursor
        first = connection.execute(select(func.min(ChainEventRecord.id))).scalar_one()
        connection.execute(delete(ChainEventRecord).where(ChainEventRecord.id == first))
    since = local_market.deployment.block - 1
    repaired_from = indexer._self_check(since)  # what run() does every check_every seconds
    assert stored_count(engine) == count
    assert indexer._self_check(repaired_from) == cursor  # then all the way to the cursor
