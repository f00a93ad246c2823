"""The indexer through real reorganisations, on a node that makes them (Foundry's anvil).

``anvil_reorg(depth, [(signed transaction, block offset)...])`` replaces the newest
``depth`` blocks with a new branch holding the given transactions: the orphaned
blocks' transactions are gone (not back in the pool), as when a real chain's fork
choice switches branches. Each reorganisation here is deeper than the indexer's
confirmation depth, so the indexer has stored events of blocks that leave the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, delete
from typer.testing import CliRunner
from web3.contract.contract import ContractFunction
from web3.types import TxParams, Wei

from kraken_market.catalog.ids import new_product_id
from kraken_market.cli.main import app as cli
from kraken_market.db.engine import make_engine
from kraken_market.db.migrate import upgrade
from kraken_market.ledger.client import Ledger, as_bytes32, dev_account
from kraken_market.ledger.indexer import IndexedEvent, Indexer, Reorganisation
from kraken_market.ledger.models import ChainCheckpoint
from kraken_market.settings import get_settings
from tests.ledger.anvil import rpc
from tests.ledger.conftest import Market

BUYER = dev_account(8).address
runner = CliRunner()


@pytest.fixture(scope="module")
def market(anvil_market: Market) -> Market:
    """The contracts on anvil, under the name the ledger tests use (tests/ledger/conftest.py)."""
    return anvil_market


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = make_engine(f"sqlite:///{tmp_path / 'kraken.db'}")
    upgrade(made)
    yield made
    made.dispose()


def verifier(market: Market) -> Ledger:
    """A fresh client of the verifier: its nonce counter read from the chain (after a
    reorganisation the chain's count is behind what an old client counted)."""
    return Ledger(market.w3, market.deployment, dev_account(2), poll_latency=0.002)


def signed(market: Market, account: LocalAccount, call: ContractFunction, fork: int) -> str:
    """``call`` as a raw transaction of ``account`` on a branch from block ``fork``: at
    the account's nonce there (its transactions after the fork are not on that branch)."""
    w3 = market.w3
    params: TxParams = {
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address, fork),
        "gas": 300_000,
        "maxFeePerGas": Wei(10 * w3.eth.gas_price),
        "maxPriorityFeePerGas": Wei(1),
        "chainId": w3.eth.chain_id,
    }
    transaction = call.build_transaction(params)
    signed = account.sign_transaction(transaction)  # type: ignore[arg-type]  # as ledger.transactions
    return "0x" + bytes(signed.raw_transaction).hex()


def grant_on_new_branch(market: Market, fork: int, item: str, purpose: int, expiry: int) -> str:
    """The verifier's grant as a transaction of a new branch after block ``fork``."""
    call = verifier(market)._fn("Market", "grant", BUYER, as_bytes32(item), purpose, expiry)
    return signed(market, dev_account(2), call, fork)


def mine(url: str, blocks: int) -> None:
    rpc(url, "anvil_mine", hex(blocks))


def test_a_reorganisation_deeper_than_the_confirmations_is_rewound_to_the_fork(
    market: Market, anvil_url: str, engine: Engine
) -> None:
    w3 = market.w3
    indexer = Indexer(w3, market.deployment, engine, confirmations=2)
    delivered: list[IndexedEvent] = []
    indexer.subscribe(delivered.append, {"Granted"})
    reorganisations: list[Reorganisation] = []
    indexer.on_reorganised(reorganisations.append)
    mine(anvil_url, 2)
    indexer.poll_once()
    fork = indexer.progress().block  # the last block both branches share
    assert fork == w3.eth.block_number - 2
    delivered.clear()

    item, expiry = new_product_id(), market.now() + 3600
    granting = verifier(market)
    granting.grant(BUYER, item, 1, expiry)
    granting.grant(BUYER, item, 3, expiry)
    mine(anvil_url, 3)
    indexer.poll_once()
    lost = indexer.history(item=item)
    assert [e.args["purpose"] for e in lost] == [1, 3]
    assert delivered == lost
    orphaned_through = indexer.progress().block

    depth = w3.eth.block_number - fork  # 7 blocks, deeper than the 2 confirmations
    new_grant = grant_on_new_branch(market, fork, item, 2, expiry)
    rpc(anvil_url, "anvil_reorg", depth, [[new_grant, 0]])
    assert w3.eth.block_number == orphaned_through + 2  # as long as before: nothing to wait for
    assert not indexer.cursor_on_chain()
    indexer.poll_once()

    (reorganisation,) = reorganisations
    assert reorganisation.fork_block == fork
    assert reorganisation.orphaned_through == orphaned_through
    assert reorganisation.removed == tuple(lost)
    (kept,) = indexer.history(item=item)
    assert (kept.args["purpose"], kept.block_number) == (2, fork + 1)
    assert delivered == [*lost, kept]  # the new branch's event, delivered once
    # the whole table is the chain's logs, each once
    head = indexer.progress().block
    logs = w3.eth.get_logs(
        {
            "fromBlock": market.deployment.block,
            "toBlock": head,
            "address": [c.address for c in indexer.contracts.values()],
        }
    )
    stored = [(e.block_number, e.log_index, e.tx_hash) for e in indexer.history(limit=None)]
    assert stored == [
        (g["blockNumber"], g["logIndex"], "0x" + bytes(g["transactionHash"]).hex()) for g in logs
    ]
    assert indexer.cursor_on_chain()


# -- the commands --------------------------------------------------------------------------


@pytest.fixture
def chain_cli(
    market: Market, anvil_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The CLI on anvil as on any external chain: KRAKEN_CHAIN_URL set, no
    KRAKEN_CHAIN_CONFIRMATIONS (the default for a chain at a URL: 12)."""
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KRAKEN_CHAIN_URL", anvil_url)
    for name in ("KRAKEN_CONFIG", "KRAKEN_CHAIN_CONFIRMATIONS", "KRAKEN_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    market.deployment.save(tmp_path / "deployment.json")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str, answer: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args), input=answer)
    return result.exit_code, result.stdout, result.stderr


def index() -> list[dict[str, Any]]:
    code, out, err = run("ledger", "index", "--no-fulfil", "--json")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines() if line]


def catch_up(url: str) -> None:
    """Index the module's chain so far (12 blocks on: every event confirmed)."""
    mine(url, 12)
    index()


def granted(lines: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """The (block, purpose) of each Granted event printed (after the first catch-up,
    only the test's own)."""
    return [
        (line["block"], line["args"]["purpose"]) for line in lines if line.get("name") == "Granted"
    ]


def test_ledger_index_waits_12_blocks_and_reports_what_a_reorganisation_withdrew(
    chain_cli: Path, market: Market, anvil_url: str
) -> None:
    item, expiry = new_product_id(), market.now() + 3600
    catch_up(anvil_url)
    verifier(market).grant(BUYER, item, 1, expiry)
    grant_block = market.w3.eth.block_number
    assert index() == []  # 0 confirmations of 12
    mine(anvil_url, 11)
    assert index() == []  # 11
    mine(anvil_url, 1)
    (line,) = index()
    assert (line["name"], line["block"], line["args"]["purpose"]) == ("Granted", grant_block, 1)
    withdrawn_key = line["key"]
    mine(anvil_url, 1)
    assert index() == []  # the cursor one block past the grant

    depth = market.w3.eth.block_number - grant_block + 1  # from the grant's block: 14
    rpc(
        anvil_url,
        "anvil_reorg",
        depth,
        [[grant_on_new_branch(market, grant_block - 1, item, 2, expiry), 1]],
    )
    mine(anvil_url, 1)  # the new grant, a block later than the old one, 12 deep now

    # With the indexer stopped, the operator cannot keep a block of the lost branch.
    code, _, err = run("ledger", "rewind", "--to-block", str(grant_block), "--yes")
    assert code == 1
    assert f"block {grant_block} was indexed from a branch the chain no longer has" in err

    lines = index()  # rewinds by itself, says what it withdrew, then the new branch
    (reorganised,) = [x["reorganised"] for x in lines if "reorganised" in x]
    assert reorganised["removed"] == [withdrawn_key]
    assert reorganised["fork_block"] == grant_block - 1  # the last block indexed before it
    assert lines[0] == {"reorganised": reorganised}  # first the withdrawal, then
    assert granted(lines) == [(grant_block + 1, 2)]  # the new branch
    assert index() == []  # nothing twice


def test_ledger_rewind_after_a_reorganisation_the_indexer_cannot_rewind(
    chain_cli: Path, market: Market, anvil_url: str
) -> None:
    """A database indexed before block hashes were kept (migration 0013) has no fork
    point to find: the indexer stops, and the operator's command rewinds it."""
    item, expiry = new_product_id(), market.now() + 3600
    catch_up(anvil_url)
    verifier(market).grant(BUYER, item, 1, expiry)
    grant_block = market.w3.eth.block_number
    mine(anvil_url, 13)
    assert granted(index()) == [(grant_block, 1)]  # the cursor one block past the grant
    database = make_engine(f"sqlite:///{chain_cli / 'kraken.db'}")
    with database.begin() as connection:
        connection.execute(delete(ChainCheckpoint))
    database.dispose()
    depth = market.w3.eth.block_number - grant_block + 1
    rpc(
        anvil_url,
        "anvil_reorg",
        depth,
        [[grant_on_new_branch(market, grant_block - 1, item, 2, expiry), 0]],
    )
    mine(anvil_url, 1)

    code, out, err = run("ledger", "index", "--no-fulfil", "--json")
    assert code == 1 and out == ""
    assert "error [chain_reorganised]" in err
    assert "'kraken-market ledger rewind --to-block N'" in err

    head = market.w3.eth.block_number
    cursor = head - 13  # where the stopped indexer stands
    for bad, says in (
        (str(cursor), f"the indexer stands at block {cursor}"),
        (str(cursor + 5), f"the indexer stands at block {cursor}"),
        (
            str(market.deployment.block - 2),
            f"before the deployment (block {market.deployment.block})",
        ),
        (str(grant_block), f"the stored events of block {grant_block} differ from the chain's"),
    ):
        code, _, err = run("ledger", "rewind", f"--to-block={bad}", "--yes")
        assert code == 1 and says in err, (bad, err)
    code, _, err = run("ledger", "rewind", "--to-block", "ten")
    assert code == 2 and "parse string as an integer" in err  # Typer's usage error

    before = grant_block - 1
    code, _, err = run("ledger", "rewind", "--to-block", str(before), answer="n\n")
    assert code == 1 and "error [not_confirmed]" in err  # asked, refused: nothing changed
    code, out, err = run("ledger", "index", "--no-fulfil", "--json")
    assert code == 1 and "chain_reorganised" in err

    code, out, err = run("ledger", "rewind", "--to-block", str(before), "--yes", "--json")
    assert code == 0, err
    report = json.loads(out)
    chain_id = market.deployment.chain_id
    assert report["from_block"] == cursor and report["to_block"] == before
    assert report["checked_by"] == "events"
    assert [e["key"] for e in report["removed"] if e["name"] == "Granted"] == [
        f"{chain_id}:{grant_block}:0"
    ]
    assert granted(index()) == [(grant_block, 2)]  # the new branch, from the block after N
    assert index() == []
