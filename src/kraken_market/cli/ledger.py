"""``kraken-market ledger``: balances, provenance, stakes, approvals, claims and rulings."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kraken_market.cli.common import (
    JsonOption,
    err,
    fails_cleanly,
    out,
    print_json,
    settings,
    table,
)
from kraken_market.cli.ledger_common import (
    BaseUnitsOption,
    DevAccountOption,
    KeyFileOption,
    amount,
    ledger,
    own_address,
    product_key,
)
from kraken_market.cli.operator_common import (
    MultisigOption,
    YesOption,
    acting,
    address,
    carry_out,
    confirm,
    sender_of,
)
from kraken_market.errors import InvalidRequest
from kraken_market.ledger.errors import ChainReorganised, InsufficientFunds, NotDeployed

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from kraken_market.ledger.client import Ledger
    from kraken_market.ledger.indexer import Indexer
    from kraken_market.settings import Settings
    from kraken_market.trade.fulfilment import Fulfilment

GAS_TOP_UP = 10**18
"""Gas money the development faucet sends with DATA (1 ETH)."""

app = typer.Typer(
    help=(
        "The marketplace on chain: DATA balances, a product's provenance, its quality "
        "stake, and the buyer's approve/claim and the arbiter's ruling.\n\n"
        "Reads need no key; writes are signed locally with --key-file (or "
        "--dev-account N on the embedded development chain)."
    ),
    no_args_is_help=True,
)


def _receipt(receipt: Any, as_json: bool, summary: str) -> None:
    if as_json:
        print_json(
            {
                "tx_hash": receipt.tx_hash,
                "block": receipt.block_number,
                "gas_used": receipt.gas_used,
                "events": [event.name for event in receipt.events],
            }
        )
    else:
        out.print(f"{summary} (tx {receipt.tx_hash}, block {receipt.block_number})")


@app.command()
@fails_cleanly
def balance(
    account: Annotated[
        str | None,
        typer.Argument(help="0x-address (default: yours: your wallet's account, or the signer's)"),
    ] = None,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """DATA and ether held by ACCOUNT. --json: ``data`` in base units (for scripts),
    ``data_balance`` in DATA, ``ether_wei`` and ``ether``."""
    from eth_utils.address import is_address, to_checksum_address

    from kraken_market.ledger.amounts import format_amount

    chain = ledger(dev_account, key_file)
    if account is not None and not is_address(account):
        raise InvalidRequest(f"{account!r} is not an address (0x and 40 hex digits)")
    who = to_checksum_address(account) if account else own_address(dev_account, key_file)
    data, ether, token = chain.balance(who), chain.ether_balance(who), chain.token()
    if as_json:
        print_json(
            {
                "account": who,
                "data": str(data),
                "data_balance": token.amount(data),
                "ether_wei": str(ether),
                "ether": format_amount(ether, 18),  # the chain's own currency: 18 decimals
            }
        )
        return
    out.print(f"{who}: {token.show(data)}, {format_amount(ether, 18)} ETH", markup=False)


@app.command()
@fails_cleanly
def transfer(
    to: Annotated[str, typer.Argument(metavar="TO", help="The receiving account (0x-address)")],
    given: Annotated[str, typer.Argument(metavar="AMOUNT", help="DATA to send, e.g. 25 or 2.5")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    base_units: BaseUnitsOption = False,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Send AMOUNT DATA to TO from your account (your wallet's, or --key-file).

    A transfer cannot be undone: it is confirmed first (--yes for scripts). Refused
    before anything is sent: a bad address or amount, more than you hold, or one of
    the marketplace's contracts as TO (tokens sent there are lost)."""
    from kraken_market.ledger.calls import CONTRACT_WORDS, contract_at
    from kraken_market.ledger.proposals import Change

    recipient = address(to, "TO")
    chain = acting(dev_account, key_file, multisig)
    token = chain.token()
    units = amount(given, "AMOUNT", token, base_units)
    if units == 0:
        raise InvalidRequest("AMOUNT: sending 0 DATA changes nothing; give an amount above 0")
    contract = contract_at(chain.deployment, recipient)
    if contract is not None:
        raise InvalidRequest(
            f"TO is {CONTRACT_WORDS[contract]} ({recipient}): DATA sent there is lost (the "
            "Market takes stakes, payments and bonds only through its own functions); "
            "give a person's or company's account"
        )
    sender = sender_of(chain, multisig)
    if recipient == sender:
        raise InvalidRequest(f"TO is {sender}, the account sending: nothing would move")
    held = chain.balance(sender)
    if held < units:
        raise InsufficientFunds(
            f"send {token.show(units)}: {sender} holds {token.show(held)}",
            reason="erc20: transfer amount exceeds balance",
        )
    carry_out(
        chain,
        Change(
            f"send {token.show(units)} to {recipient}", "DataToken", "transfer", (recipient, units)
        ),
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done=f"{recipient} received {token.show(units)} from {sender}",
    )


@app.command()
@fails_cleanly
def history(
    product: Annotated[str, typer.Argument(help="Product id (0x + 64 hex)")],
    as_json: JsonOption = False,
) -> None:
    """A product's whole life from the chain alone: publication, stake, changes,
    purchases, revenue, approvals, claims, rulings, unions, and its lineage."""
    from kraken_market.ledger.provenance import history as read_history

    provenance = read_history(ledger(), product_key(product))
    data = provenance.as_dict()
    if as_json:
        print_json(data)
        return
    rows = [
        [
            entry["block"],
            datetime.fromtimestamp(entry["time"], UTC).strftime("%Y-%m-%d %H:%M:%S"),
            entry["event"],
            _summary(entry["args"]),
            entry["via"] or "",
            entry["tx_hash"][:18] + "…",
        ]
        for entry in data["history"]
    ]
    if not rows:
        out.print(f"{product}: nothing on chain (not published, or another deployment)")
        return
    table(
        f"provenance of {product}", ["block", "time (UTC)", "event", "details", "via", "tx"], rows
    )
    edges = data["lineage"]["edges"]
    if edges:
        table("lineage", ["child", "parent"], [[e["child"], e["parent"]] for e in edges])


def _summary(args: dict[str, Any]) -> str:
    shown = []
    for key, value in args.items():
        if key in {"product_id", "item"}:
            continue
        if key == "reason" and isinstance(value, str) and value.startswith("0x"):
            from kraken_market.ledger.model import refusal_code

            value = refusal_code(bytes.fromhex(value[2:]))  # a node's refusal: its error code
        if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
            value = value[:10] + "…"
        shown.append(f"{key}={value}")
    return ", ".join(shown)


@app.command()
@fails_cleanly
def stake(
    product: Annotated[str, typer.Argument(help="Product id")],
    as_json: JsonOption = False,
) -> None:
    """The quality stake of PRODUCT: amount, status and open claims."""
    chain = ledger()
    current, token = chain.stake(product_key(product)), chain.token()
    if as_json:
        print_json(
            {
                "amount": str(current.amount),
                "amount_data": token.amount(current.amount),
                "status": current.status.name.lower(),
                "open_claims": current.open_claims,
            }
        )
        return
    out.print(
        f"{token.show(current.amount)}, {current.status.name.lower()}, "
        f"{current.open_claims} open claim(s)",
        markup=False,
    )


@app.command()
@fails_cleanly
def approve(
    purchase: Annotated[int, typer.Argument(min=1, help="Your purchase id")],
    product: Annotated[str, typer.Argument(help="The product you approve")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a product you bought: its stake is released to the seller."""
    receipt = ledger(dev_account, key_file, signs=True).approve_product(
        purchase, product_key(product)
    )
    _receipt(receipt, as_json, "approved")


@app.command()
@fails_cleanly
def claim(
    purchase: Annotated[int, typer.Argument(min=1, help="Your purchase id")],
    product: Annotated[str, typer.Argument(help="The product you claim against")],
    evidence: Annotated[
        Path, typer.Option(help="File with your evidence; its SHA-256 goes on chain")
    ],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """File a claim against a product you bought, posting the claim bond. Keep the
    evidence file: the arbiter checks it against the hash on chain."""
    if not evidence.is_file():
        raise InvalidRequest(f"no evidence file at {evidence}")
    digest = hashlib.sha256(evidence.read_bytes()).digest()
    receipt = ledger(dev_account, key_file, signs=True).file_claim(
        purchase, product_key(product), digest
    )
    _receipt(receipt, as_json, f"claim filed (evidence sha256 {digest.hex()})")


@app.command()
@fails_cleanly
def rule(
    purchase: Annotated[int, typer.Argument(min=1, help="Purchase id of the claim")],
    uphold: Annotated[
        bool,
        typer.Option(
            "--uphold/--reject",
            help="Uphold (slash the stake, refund the buyer, delist) or reject "
            "(the bond goes to the seller)",
        ),
    ],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """The arbiter's ruling on an open claim."""
    receipt = ledger(dev_account, key_file, signs=True).rule(purchase, uphold=uphold)
    _receipt(receipt, as_json, "claim upheld" if uphold else "claim rejected")


@app.command()
@fails_cleanly
def faucet(
    given: Annotated[str, typer.Argument(metavar="AMOUNT", help="DATA to mint, e.g. 1000 or 2.5")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    base_units: BaseUnitsOption = False,
    as_json: JsonOption = False,
) -> None:
    """Mint DATA for yourself from the embedded development chain's faucet, with gas
    money (1 ETH) when your account has less than 0.1 ETH. Dev account 0 pays the
    gas of both: a new wallet's account has none to pay with."""
    recipient = ledger(dev_account, key_file, signs=True).address
    keeper = ledger(dev_account=0)  # the embedded chain's admin: the faucet's minter
    if "Faucet" not in keeper.contracts:
        raise NotDeployed("this chain has no faucet: it exists on the embedded chain only")
    token = keeper.token()
    units = amount(given, "AMOUNT", token, base_units)  # refused before anything is sent
    if keeper.ether_balance(recipient) < GAS_TOP_UP // 10:
        keeper.send_ether(recipient, GAS_TOP_UP)
    receipt = keeper.drip(units, to=recipient)
    _receipt(receipt, as_json, f"{recipient} received {token.show(units)}")


def _catch_up(fulfilment: Fulfilment, stop: threading.Event, every: float = 30.0) -> None:
    """Forward what a crash left behind: at start, then every ``every`` seconds."""
    while not stop.is_set():
        try:
            fulfilment.catch_up()
        except Exception as exc:  # a database or node hiccup: try again later
            err.print(f"fulfilment catch-up failed, retrying: {exc}")
        stop.wait(every)


@app.command()
@fails_cleanly
def index(
    follow: Annotated[
        bool, typer.Option(help="Keep following new blocks (Ctrl-C stops) and print events")
    ] = False,
    interval: Annotated[float, typer.Option(min=0.05, help="Seconds between polls")] = 1.0,
    fulfil: Annotated[
        bool,
        typer.Option(help="Act on payment notifications: forward paid computations to the nodes"),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Index the contracts' events into the marketplace database (from where the last
    run stopped; KRAKEN_CHAIN_CONFIRMATIONS blocks behind the head: 0 on the embedded
    chain, 12 on one at KRAKEN_CHAIN_URL), print the new ones and drive fulfilment from
    them (paid computations go to the nodes). A reorganisation is rewound through: the
    events of the lost blocks are removed and printed as withdrawn."""

    from kraken_market.db.engine import make_engine, make_session_factory
    from kraken_market.db.migrate import upgrade
    from kraken_market.ledger.indexer import IndexedEvent, Indexer, Reorganisation
    from kraken_market.trade.forwarder import NodeForwarder, nodes_from_chain
    from kraken_market.trade.fulfilment import Fulfilment

    config = settings()
    chain = ledger()
    engine = make_engine(config.resolved_database_url)
    upgrade(engine)
    indexer = Indexer(
        chain.w3,
        chain.deployment,
        engine,
        confirmations=config.resolved_chain_confirmations,
        batch_blocks=config.chain_log_range,
    )

    def show(event: IndexedEvent) -> None:
        if as_json:  # one JSON object per line, for scripts that follow
            line = {
                "key": event.key,
                "name": event.name,
                "block": event.block_number,
                "tx_hash": event.tx_hash,
                "args": event.args,
            }
            sys.stdout.write(json.dumps(line, default=str) + "\n")
            sys.stdout.flush()
        else:
            out.print(f"{event.block_number:>8}  {event.name:<22} {_summary(event.args)}")

    def withdrawn(reorganisation: Reorganisation) -> None:
        keys = [event.key for event in reorganisation.removed]
        if as_json:
            line = {
                "reorganised": {
                    "fork_block": reorganisation.fork_block,
                    "orphaned_through": reorganisation.orphaned_through,
                    "removed": keys,
                }
            }
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
            return
        out.print(
            f"the chain reorganised after block {reorganisation.fork_block}: blocks "
            f"{reorganisation.fork_block + 1}-{reorganisation.orphaned_through} left it, "
            f"{len(keys)} event(s) withdrawn" + (f": {', '.join(keys)}" if keys else ""),
            style="yellow",
            markup=False,
        )

    indexer.subscribe(show)
    indexer.on_reorganised(withdrawn)
    fulfilment = Fulfilment(make_session_factory(engine), NodeForwarder(nodes_from_chain(config)))
    if fulfil:
        indexer.subscribe(fulfilment, Fulfilment.EVENTS)
    stop = threading.Event()
    try:
        if follow:
            if fulfil:
                threading.Thread(
                    target=_catch_up, args=(fulfilment, stop), daemon=True, name="catch-up"
                ).start()
            indexer.run(stop, interval)
        else:
            indexer.poll_once()
            if fulfil:
                fulfilment.catch_up()
    except KeyboardInterrupt:
        stop.set()
    finally:
        engine.dispose()
    progress = indexer.progress()
    if not as_json:
        err.print(f"indexed through block {progress.block}")


@app.command()
@fails_cleanly
def reindex(
    check_only: Annotated[
        bool, typer.Option("--check", help="Only compare the database with the chain")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Compare the indexed events with the chain and rebuild them from it when they
    differ (a database written by an indexer that lost events). Events are stored
    again, not re-delivered: nothing is forwarded twice. Stop 'ledger index --follow'
    first; it would re-read the blocks too."""
    from kraken_market.db.engine import make_engine
    from kraken_market.db.migrate import upgrade
    from kraken_market.ledger.indexer import Indexer

    config = settings()
    chain = ledger()
    engine = make_engine(config.resolved_database_url)
    try:
        upgrade(engine)
        indexer = Indexer(
            chain.w3,
            chain.deployment,
            engine,
            confirmations=config.resolved_chain_confirmations,
            batch_blocks=config.chain_log_range,
        )
        cursor = indexer.progress().block
        check = indexer.check(chain.deployment.block, cursor)
        # A reorganisation may lose no event and still leave the cursor on a lost block.
        on_chain = indexer.cursor_on_chain()
        consistent = check.consistent and on_chain
        forgotten = stored = 0
        if not consistent and not check_only:
            forgotten, stored = indexer.reindex()
    finally:
        engine.dispose()
    report = {
        "through_block": cursor,
        "missing": len(check.missing),
        "unexpected": len(check.unexpected),
        "cursor_on_chain": on_chain,
        "repaired": not consistent and not check_only,
        "forgotten": forgotten,
        "stored": stored,
    }
    if as_json:
        out.print_json(data=report)
    elif consistent:
        out.print(f"the indexed events match the chain through block {cursor}")
    else:
        out.print(
            f"{len(check.missing)} events missing and {len(check.unexpected)} unexpected "
            f"through block {cursor}"
            + ("" if on_chain else f", and block {cursor} is no longer on the chain")
            + (f": re-indexed, {stored} events stored" if report["repaired"] else "")
        )
        if check_only:
            raise typer.Exit(1)


@app.command()
@fails_cleanly
def rewind(
    to_block: Annotated[
        int,
        typer.Option(
            "--to-block",
            metavar="N",
            help="The last block whose stored events are kept: a block before the fork",
        ),
    ],
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Move the indexer back to block N after it stopped with chain_reorganised (a
    reorganisation deeper than the block hashes it keeps): the stored events after N
    are removed, and the next 'ledger index' reads the chain's blocks after N again
    and delivers their events. The stored events through N are checked against the
    chain first. Stop 'ledger index --follow' (or 'up') first."""
    from kraken_market.db.engine import make_engine
    from kraken_market.db.migrate import upgrade

    config = settings()
    chain = ledger()
    engine = make_engine(config.resolved_database_url)
    try:
        upgrade(engine)
        report = _rewind(config, chain, engine, to_block, yes, as_json)
    finally:
        engine.dispose()
    if as_json:
        print_json(report)
        return
    out.print(
        f"rewound to block {to_block}: {len(report['removed'])} event(s) removed; "
        f"'kraken-market ledger index' reads block {to_block + 1} onwards again",
        markup=False,
    )


def _rewind(
    config: Settings, chain: Ledger, engine: Engine, to_block: int, yes: bool, as_json: bool
) -> dict[str, Any]:
    from kraken_market.ledger.indexer import Indexer

    indexer = Indexer(
        chain.w3,
        chain.deployment,
        engine,
        confirmations=config.resolved_chain_confirmations,
        batch_blocks=config.chain_log_range,
    )
    deployed, cursor = chain.deployment.block, indexer.progress().block
    head = int(chain.w3.eth.block_number)
    if to_block < deployed - 1:
        raise InvalidRequest(
            f"block {to_block} is before the deployment (block {deployed}): rewind to "
            f"{deployed - 1} at the lowest, which indexes every block again"
        )
    if to_block >= cursor:
        raise InvalidRequest(
            f"the indexer stands at block {cursor}: there is nothing after block {to_block} "
            f"to remove; give a block below {cursor}"
        )
    if to_block > head:
        raise InvalidRequest(
            f"the chain's newest block is {head}: block {to_block} is not on it; give a "
            "block before the fork"
        )
    checked = _kept_events_on_chain(indexer, to_block)
    removed = indexer.history(after_block=to_block, limit=None)
    if not as_json:
        rows = [[e.block_number, e.name, e.key, e.tx_hash[:18] + "…"] for e in removed]
        if rows:
            table(f"stored events after block {to_block}", ["block", "event", "key", "tx"], rows)
    confirm(
        f"Remove the {len(removed)} stored event(s) of blocks {to_block + 1}-{cursor} "
        f"and index again from block {to_block + 1}?",
        yes,
    )
    indexer.rewind(to_block)
    return {
        "from_block": cursor,
        "to_block": to_block,
        "checked_by": checked,
        "removed": [
            {"key": e.key, "name": e.name, "block": e.block_number, "tx_hash": e.tx_hash}
            for e in removed
        ],
    }


def _kept_events_on_chain(indexer: Indexer, to_block: int) -> str:
    """Refuse a block N above the fork: the events kept (through N) must be the chain's.
    The highest recorded block hash at or below N settles it when one is kept (blocks
    chain up: the blocks below it are the chain's too, and every stored event above it
    is in a recorded block); else the stored events are compared with the chain's logs."""
    recorded = [block for block, _ in indexer.checkpoints() if block <= to_block]
    fork = indexer.fork_point(to_block)
    lost = [block for block in recorded if fork is None or block > fork[0]]
    if lost:
        raise InvalidRequest(
            f"block {min(lost)} was indexed from a branch the chain no longer has: rewind "
            f"to a block below {min(lost)}"
            + (f" (block {fork[0]} is the highest indexed block still on it)" if fork else "")
        )
    if fork is not None:
        return "checkpoint"
    found = indexer.check(indexer.deployment.block, to_block)
    if found.to_block < to_block:
        raise ChainReorganised(
            "the chain changed while the stored events were compared with it: run the command again"
        )
    wrong = sorted(block for block, _ in (*found.missing, *found.unexpected))
    if wrong:
        raise InvalidRequest(
            f"the stored events of block {wrong[0]} differ from the chain's: rewind to a "
            f"block below {wrong[0]}, or rebuild every event with 'kraken-market ledger "
            "reindex'"
        )
    return "events"
