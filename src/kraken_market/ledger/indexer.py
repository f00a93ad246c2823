"""The indexer: the marketplace's contract events, stored in order and handed on.

An :class:`Indexer` follows one deployment. Each :meth:`~Indexer.poll_once`
reads the logs of its contracts (``eth_getLogs``) from the block after its
cursor up to the chain head minus the confirmation depth, in batches of at most
``batch_blocks`` (``chain_log_range``; a range the node refuses is halved:
``ledger.log_ranges``). Per
batch, in one database transaction, it stores the decoded events
(``chain_events``) and moves the cursor (``chain_cursor``) to the batch's last
block and that block's hash; only then does it hand the new events to
subscribers. So:

- a crash never skips nor duplicates an event: a new indexer on the same
  database resumes at the cursor (the events and the cursor move in one
  transaction). Rows are unique by their location (chain id, block, log index,
  the log's position in its block as JSON-RPC numbers it), so reading blocks
  again inserts nothing twice; but a batch with two logs at one location, or a
  log whose location is stored with another event, is refused with
  :class:`~kraken_market.ledger.errors.EventConflict`, never merged or skipped;
- :meth:`Indexer.check` compares what is stored with the chain's logs, and
  :meth:`Indexer.run` does so periodically over the blocks indexed since its
  last check: a difference is logged and those blocks are indexed again;
  :meth:`Indexer.reindex` rebuilds the whole table from the chain;
- delivery is **at least once**: the cursor also records the last block whose
  events were delivered, and events committed but not yet delivered when the
  process stopped are delivered again by the next indexer's first poll.
  Subscribers make this harmless by remembering :attr:`IndexedEvent.key`;
- a subscriber that raises is logged with the event's key and does not stop
  delivery: the other subscribers get the event, the failing one gets the
  events after it, and the cursors move on. A subscriber that must not miss an
  event keeps its own progress and catches up from :meth:`Indexer.history`
  (the table is the source of truth; notifications are a trigger);
- a reorganisation shallower than the confirmation depth never reaches the
  indexer (``KRAKEN_CHAIN_CONFIRMATIONS``: 0 on the embedded chain, which never
  reorganises, 12 on a chain at a URL: ``settings.EXTERNAL_CHAIN_CONFIRMATIONS``
  says why). A deeper one changes the hash of the cursor's block, and the next
  poll rewinds to the fork point by itself, never mixing two branches. Each
  batch records the hashes of its last block and of every block with a stored
  event (``chain_checkpoints``, the newest :data:`CHECKPOINTS`); the fork point
  is the highest recorded block whose hash the chain still has (blocks chain up
  by their parents' hashes, so a binary search finds it). In one transaction the
  events stored above it are deleted (each is in a recorded block the chain no
  longer has: exactly the lost ones) and the cursor moves back to it; the new
  branch is then indexed and delivered like any new blocks. Events of the lost
  blocks may have been delivered already: each is logged at WARNING
  (``indexer_event_withdrawn``, with its key) and :meth:`Indexer.on_reorganised`
  subscribers receive a :class:`Reorganisation` listing them before the new
  branch's events; undoing what acted on them is theirs to do;
- when no recorded block is on the chain any more (a reorganisation deeper than
  the checkpoints kept, a database indexed before they were, a chain made anew),
  the poll raises :class:`~kraken_market.ledger.errors.ChainReorganised` and
  changes nothing: ``kraken-market ledger rewind --to-block N`` checks the events
  stored through N against the chain and moves the cursor back to N
  (:meth:`Indexer.rewind`); ``kraken-market ledger reindex`` rebuilds the table;
- a database set up with another chain is refused before anything is read
  (:class:`~kraken_market.ledger.errors.DatabaseOfAnotherChain`): one whose
  recorded origin (``database_origin``, written by ``up``) names another
  genesis block, or whose cursor of another deployment on this chain id stands
  on a block this chain does not have (embedded chains all share one chain id,
  so their events would collide at the same places).

Run one indexer per database and deployment: a second one finds the cursor
moved under it and leaves those blocks (and their delivery) to the first.

By default the DataToken is not indexed: on a public chain an existing
token's every transfer would flood the table, and the Market's events carry
the amounts fulfilment needs.

Subscribers receive :class:`IndexedEvent` (the event's name, contract,
location, block time and arguments); :meth:`IndexedEvent.typed` gives the
frozen dataclass of :data:`DOMAIN_EVENTS` for the events fulfilment acts on
(ids as ``0x`` hex like the catalog's, codes as enums).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils.address import to_checksum_address
from requests.exceptions import ConnectionError as RequestsConnectionError
from sqlalchemy import ColumnElement, Connection, Engine, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.dml import ReturningInsert
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BlockNotFound
from web3.types import BlockData

from kraken_market.db.base import utcnow
from kraken_market.db.engine import WRITE
from kraken_market.ledger.contracts import CONTRACTS, artifact
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import (
    ChainReorganised,
    ChainUnavailable,
    DatabaseOfAnotherChain,
    EventConflict,
    NotDeployed,
)
from kraken_market.ledger.events import (  # re-exported: the indexer's public types
    DOMAIN_EVENTS,
    AccessPurchased,
    Approved,
    Attested,
    AvailabilityChanged,
    ClaimFiled,
    ClaimRuled,
    ComputationPaid,
    ComputationReclaimed,
    ComputationRefused,
    ComputationRequested,
    DomainEvent,
    E,
    Granted,
    GrantRevoked,
    OwnershipTransferred,
    ProductPublished,
    StakeLocked,
    StakeReleased,
    Subscribed,
    UnionCreated,
    _typed,
)
from kraken_market.ledger.log_ranges import get_logs
from kraken_market.ledger.models import (
    AbiParams,
    ChainCheckpoint,
    ChainCursor,
    ChainEventRecord,
    DatabaseOrigin,
    args_from_json,
    args_to_json,
    lookup_keys,
)
from kraken_market.ledger.transactions import EventDecoder
from kraken_market.logs import get_logger

log = get_logger(__name__)
INDEXED_CONTRACTS = ("Authority", "Registry", "Market", "Faucet")
CHECKPOINTS = 256
"""Block hashes kept per deployment (``chain_checkpoints``): how far back the indexer
can find a fork point by itself. At the head a poll records about one block per
block, so this reaches 256 blocks back: four times Ethereum's finality (two epochs,
64 blocks) and beyond the deepest reorganisation of a public EVM chain we know of
(Polygon PoS, 157 blocks, February 2023). A deeper one stops the indexer with
:class:`~kraken_market.ledger.errors.ChainReorganised`."""


@dataclass(frozen=True)
class IndexedEvent:
    """One stored contract event, where and when it happened on chain."""

    chain_id: int
    block_number: int
    log_index: int
    block_time: datetime
    tx_hash: str
    address: str
    contract: str
    name: str
    args: dict[str, Any]
    """bytes, int, str (addresses checksummed), bool; tuples for arrays, dicts for structs."""

    @property
    def key(self) -> str:
        """Stable across restarts and re-deliveries: ``chain_id:block:log_index``."""
        return f"{self.chain_id}:{self.block_number}:{self.log_index}"

    def typed(self) -> DomainEvent | None:
        """The typed form of this event, if :data:`DOMAIN_EVENTS` has one."""
        cls = DOMAIN_EVENTS.get(self.name)
        if cls is None or cls.contract != self.contract:
            return None
        return _typed(cls, self.args)

    def as_type(self, cls: type[E]) -> E:
        """This event as ``cls``; a ``TypeError`` if it is another event."""
        if (self.name, self.contract) != (cls.__name__, cls.contract):
            raise TypeError(f"{self.contract}.{self.name} is not a {cls.__name__}")
        return _typed(cls, self.args)


Subscriber = Callable[[IndexedEvent], None]


@dataclass(frozen=True)
class Reorganisation:
    """The indexer rewound itself through a reorganisation: blocks after
    ``fork_block`` through ``orphaned_through`` left the chain, and ``removed`` are
    the events stored from them, now deleted (in chain order). Any of them may have
    been delivered already (at least once): undo what acted on them. The new
    branch's events are delivered next, as new events."""

    fork_block: int
    orphaned_through: int
    removed: tuple[IndexedEvent, ...]


ReorganisationSubscriber = Callable[[Reorganisation], None]


@dataclass(frozen=True, eq=False)  # each subscription is itself, even with equal fields
class _Subscription:
    callback: Subscriber
    names: frozenset[str] | None


@dataclass(frozen=True)
class Progress:
    """The cursor: events through ``block`` are stored, through ``delivered_block`` delivered."""

    block: int
    block_hash: str | None
    delivered_block: int


@dataclass(frozen=True)
class Check:
    """What :meth:`Indexer.check` found: (block, log index) locations missing from the
    database, or stored but not on the chain (or stored with another transaction)."""

    from_block: int
    to_block: int
    missing: tuple[tuple[int, int], ...]
    unexpected: tuple[tuple[int, int], ...]

    @property
    def consistent(self) -> bool:
        return not self.missing and not self.unexpected


@dataclass(frozen=True)
class _Rewound:
    forgotten: int
    removed: tuple[IndexedEvent, ...]
    """The events deleted, when asked for (a whole table's would not fit in memory)."""


@dataclass(frozen=True)
class _Batch:
    end: int
    end_hash: str
    rows: list[dict[str, Any]]
    checkpoints: dict[int, str]
    """The hashes of the batch's last block and of every block with an event."""


def _refuse_collisions(rows: Sequence[Mapping[str, Any]]) -> None:
    """Two logs of a batch at one location: a node numbering logs per transaction
    instead of per block (the JSON-RPC ``logIndex``). Storing both is impossible and
    keeping one would lose the other without a word."""
    seen: dict[tuple[int, int], str] = {}
    for row in rows:
        location = (row["block_number"], row["log_index"])
        if location in seen:
            raise EventConflict(
                f"the chain node gave two logs of block {location[0]} the index "
                f"{location[1]} (transactions {seen[location]} and {row['tx_hash']}): "
                "log indexes must count within the block; nothing was stored",
                details={"block": location[0], "log_index": location[1]},
            )
        seen[location] = row["tx_hash"]


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


# -- the indexer ---------------------------------------------------------------------------


class Indexer:
    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        engine: Engine,
        *,
        confirmations: int = 0,
        batch_blocks: int = 2000,
        contracts: Collection[str] = INDEXED_CONTRACTS,
        kept_checkpoints: int = CHECKPOINTS,
    ) -> None:
        unknown = set(contracts) - set(CONTRACTS)
        if unknown:
            raise ValueError(f"no such contracts: {', '.join(sorted(unknown))}")
        if confirmations < 0 or batch_blocks < 1 or kept_checkpoints < 1:
            raise ValueError("confirmations must be >= 0, batch_blocks and kept_checkpoints >= 1")
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(
                f"the indexer supports SQLite and PostgreSQL, not {engine.dialect.name}"
            )
        self.w3 = w3
        self.deployment = deployment
        self.engine = engine
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.kept_checkpoints = kept_checkpoints
        addresses = deployment.addresses()
        self.contracts: dict[str, Contract] = {
            name: w3.eth.contract(
                address=to_checksum_address(addresses[name]), abi=artifact(name).abi
            )
            for name in contracts
            if name in addresses
        }
        self._decoder = EventDecoder(self.contracts)
        self._inputs: dict[tuple[str, str], AbiParams] = {
            (name, entry["name"]): entry["inputs"]
            for name, contract in self.contracts.items()
            for entry in contract.abi
            if entry["type"] == "event"
        }
        self._key = (
            ChainCursor.chain_id == deployment.chain_id,
            ChainCursor.market == to_checksum_address(deployment.market),
        )
        self._checkpoint_key = (
            ChainCheckpoint.chain_id == deployment.chain_id,
            ChainCheckpoint.market == to_checksum_address(deployment.market),
        )
        self._write = engine.execution_options(**WRITE)
        self._subscribers: list[_Subscription] = []
        self._reorganisation_subscribers: list[ReorganisationSubscriber] = []
        self._lock = threading.Lock()
        self._chain_checked = False

    # -- subscribers -----------------------------------------------------------------------

    def subscribe(
        self, callback: Subscriber, names: Iterable[str] | None = None
    ) -> Callable[[], None]:
        """Deliver every new event (or those named in ``names``) to ``callback``, in
        chain order, after it is stored; returns a function that unsubscribes."""
        subscription = _Subscription(callback, None if names is None else frozenset(names))
        with self._lock:
            self._subscribers.append(subscription)

        def unsubscribe() -> None:
            with self._lock:
                if subscription in self._subscribers:
                    self._subscribers.remove(subscription)

        return unsubscribe

    def on_reorganised(self, callback: ReorganisationSubscriber) -> Callable[[], None]:
        """Tell ``callback`` of every reorganisation the indexer rewinds through, with the
        events it removed (before the new branch's events are delivered); returns a
        function that unsubscribes."""
        with self._lock:
            self._reorganisation_subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._reorganisation_subscribers:
                    self._reorganisation_subscribers.remove(callback)

        return unsubscribe

    def _announce(self, reorganisation: Reorganisation) -> None:
        with self._lock:
            subscribers = tuple(self._reorganisation_subscribers)
        for callback in subscribers:
            try:
                callback(reorganisation)
            except Exception:  # as in _deliver: one subscriber's bug must not starve others
                log.exception(
                    "indexer_subscriber_failed",
                    name="reorganisation",
                    key=f"fork:{reorganisation.fork_block}",
                    subscriber=getattr(callback, "__qualname__", "?"),
                )

    def _deliver(self, events: Sequence[IndexedEvent]) -> None:
        with self._lock:
            subscribers = tuple(self._subscribers)
        for event in events:
            for subscription in subscribers:
                if subscription.names is not None and event.name not in subscription.names:
                    continue
                try:
                    subscription.callback(event)
                except Exception:  # one subscriber's bug must not starve the others
                    log.exception(
                        "indexer_subscriber_failed",
                        name=event.name,
                        key=event.key,
                        subscriber=getattr(subscription.callback, "__qualname__", "?"),
                    )

    # -- polling ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, interval: float = 2.0, check_every: float = 60.0) -> None:
        """Poll until ``stop`` is set; an unreachable chain or database is retried,
        a reorganisation is rewound through (:meth:`poll_once`), one deeper than the
        checkpoints kept stops the loop. Every
        ``check_every`` seconds the blocks indexed since the last check are compared
        with the chain (:meth:`check`) and indexed again if they differ."""
        checked = self.progress().block
        next_check = time.monotonic() + check_every
        while not stop.is_set():
            try:
                self.poll_once(stop)
                if time.monotonic() >= next_check:
                    checked = self._self_check(checked)
                    next_check = time.monotonic() + check_every
            except (ChainUnavailable, OperationalError) as exc:
                log.warning("indexer_retrying", error=str(exc)[:300])
            stop.wait(interval)

    def poll_once(self, stop: threading.Event | None = None) -> int:
        """Index every confirmed block after the cursor; the number of events stored."""
        try:
            return self._poll(stop)
        except RequestsConnectionError as exc:
            raise ChainUnavailable("the indexer's chain node does not answer") from exc

    def _poll(self, stop: threading.Event | None) -> int:
        self._check_chain()
        progress = self.progress()
        if progress.block_hash is not None and not self._on_chain(progress):
            progress = self._recover(progress)
        if progress.delivered_block < progress.block:  # the last process stopped in between
            pending = self.history(after_block=progress.delivered_block, limit=None)
            self._deliver([e for e in pending if e.block_number <= progress.block])
            self._mark_delivered(progress.block)
        target = int(self.w3.eth.block_number) - self.confirmations
        stored = 0
        while progress.block < target and not (stop and stop.is_set()):
            batch = self._read(progress, min(progress.block + self.batch_blocks, target))
            if batch is None:
                log.info("indexer_chain_moved", block=progress.block)
                break  # the chain changed while we read: next poll
            new = self._store(progress, batch)
            if new is None:
                log.warning("indexer_cursor_moved", detail="another indexer runs on this database")
                progress = self.progress()
                continue
            if new:
                self._deliver(new)
                self._mark_delivered(batch.end)
            stored += len(new)
            progress = Progress(batch.end, batch.end_hash, batch.end)
        return stored

    def _check_chain(self) -> None:
        if not self._chain_checked:
            if int(self.w3.eth.chain_id) != self.deployment.chain_id:
                raise NotDeployed(
                    f"the deployment is for chain {self.deployment.chain_id}, "
                    f"the node serves chain {self.w3.eth.chain_id}"
                )
            self._check_database()
            self._chain_checked = True

    def _block_hash(self, number: int) -> str | None:
        try:
            return _hex(self.w3.eth.get_block(number)["hash"])
        except BlockNotFound:
            return None

    def _check_database(self) -> None:
        """The database was not set up with another chain (see the module docstring)."""
        with self.engine.connect() as connection:
            origin = connection.execute(select(DatabaseOrigin)).first()
            others = connection.execute(
                select(ChainCursor.market, ChainCursor.block, ChainCursor.block_hash).where(
                    ChainCursor.chain_id == self.deployment.chain_id,
                    ChainCursor.market != to_checksum_address(self.deployment.market),
                    ChainCursor.block_hash.is_not(None),
                )
            ).all()
        advice = (
            ": its products, sessions and events describe a chain that is not this one. Use "
            "another database (KRAKEN_DATABASE_URL), or the chain it was set up with"
        )
        if origin is not None:
            genesis = self._block_hash(0)
            if (origin.chain_id, origin.genesis_hash) != (self.deployment.chain_id, genesis):
                raise DatabaseOfAnotherChain(
                    f"this database was set up with the chain whose genesis block is "
                    f"{origin.genesis_hash} (data directory {origin.data_dir}); the chain "
                    f"here starts with {genesis}" + advice,
                    details={"recorded_genesis": origin.genesis_hash, "genesis": genesis},
                )
        for market, block, block_hash in others:
            if self._block_hash(int(block)) != block_hash:
                raise DatabaseOfAnotherChain(
                    f"this database holds the events of Market {market} through block "
                    f"{block} ({block_hash}), a block this chain does not have" + advice,
                    details={"recorded_market": market, "block": int(block)},
                )

    def cursor_on_chain(self) -> bool:
        """Whether the block the cursor stands on is still on the chain."""
        return self._on_chain(self.progress())

    def _on_chain(self, progress: Progress) -> bool:
        return progress.block_hash is None or self._block_hash(progress.block) == (
            progress.block_hash
        )

    # -- reorganisations -------------------------------------------------------------------

    def checkpoints(self) -> list[tuple[int, str]]:
        """The recorded (block, hash) pairs of this deployment, highest block first."""
        query = (
            select(ChainCheckpoint.block, ChainCheckpoint.block_hash)
            .where(*self._checkpoint_key)
            .order_by(ChainCheckpoint.block.desc())
        )
        with self.engine.connect() as connection:
            return [
                (int(block), str(block_hash)) for block, block_hash in connection.execute(query)
            ]

    def fork_point(self, at_most: int | None = None) -> tuple[int, str] | None:
        """The highest recorded block (at or below ``at_most``) whose hash the chain
        still has, or None if none is. Blocks chain up by their parents' hashes, so
        when one recorded block is on the chain every one below it is too: a binary
        search asks the node for a few blocks, not all of them."""
        recorded = [c for c in self.checkpoints() if at_most is None or c[0] <= at_most]
        low, high = 0, len(recorded)  # recorded[:low] left the chain, recorded[high:] did not
        while low < high:
            middle = (low + high) // 2
            block, block_hash = recorded[middle]
            if self._block_hash(block) == block_hash:
                high = middle
            else:
                low = middle + 1
        return recorded[low] if low < len(recorded) else None

    def _recover(self, progress: Progress) -> Progress:
        """The cursor's block left the chain: rewind to the fork point, removing the
        events of the lost blocks, and tell the reorganisation's subscribers; the new
        progress. Without a recorded block still on the chain, stop."""
        fork = self.fork_point(progress.block)
        if fork is None:
            raise self._reorganised(progress, self._block_hash(progress.block))
        if fork[0] >= progress.block:  # the cursor's block is back: the chain moved again
            return progress
        rewound = self._rewind_to(fork[0], fork[1], expected=progress, collect=True)
        if rewound is None:
            log.warning("indexer_cursor_moved", detail="another indexer runs on this database")
            return self.progress()
        removed = rewound.removed
        log.warning(
            "indexer_reorganised",
            fork_block=fork[0],
            orphaned_through=progress.block,
            removed=len(removed),
            detail="blocks after the fork left the chain: their events are removed and the "
            "new branch is indexed",
        )
        for event in removed:  # each by name: an operator can find what acted on it
            log.warning(
                "indexer_event_withdrawn",
                key=event.key,
                name=event.name,
                tx_hash=event.tx_hash,
                delivered=event.block_number <= progress.delivered_block,
            )
        self._announce(Reorganisation(fork[0], progress.block, removed))
        return self.progress()

    def _reorganised(self, progress: Progress, actual: str | None) -> ChainReorganised:
        recorded = self.checkpoints()
        lowest = recorded[-1][0] if recorded else progress.block
        return ChainReorganised(
            f"block {progress.block} was indexed with hash {progress.block_hash}, the chain "
            f"now has {actual or 'no such block'} there, and none of the {len(recorded)} "
            f"indexed blocks whose hashes are kept (from block {lowest}) is on the chain any "
            "more. If the chain was made anew (a new chain.db, another node), this database "
            "belongs to the old one: use another database (KRAKEN_DATABASE_URL) or empty it. "
            f"If the chain reorganised deeper than that, below block {lowest}: stop the "
            "indexer and run 'kraken-market ledger rewind --to-block N' with N a block "
            "before the fork (it checks the stored events up to N against the chain), or "
            "'kraken-market ledger reindex' to rebuild every event; events of the lost "
            "blocks were delivered already: check what acted on them",
            details={
                "block": progress.block,
                "stored": progress.block_hash,
                "chain": actual,
                "oldest_checkpoint": lowest,
            },
        )

    def _read(self, progress: Progress, end: int) -> _Batch | None:
        """The blocks after the cursor through ``end`` (fewer if the node limits a
        query), or None if a block changed while they were read. The first block
        must extend the cursor's block: batches chain up as blocks do."""
        start = progress.block + 1
        try:
            logs = get_logs(
                self.w3,
                {"address": [c.address for c in self.contracts.values()]},
                start,
                end,
                max_blocks=self.batch_blocks,
            )
        except BlockNotFound:
            return None
        blocks: dict[int, BlockData] = {}

        def block(number: int) -> BlockData:
            if number not in blocks:
                blocks[number] = self.w3.eth.get_block(number)
            return blocks[number]

        rows = []
        try:
            parent = _hex(block(start)["parentHash"])
            if progress.block_hash is not None and parent != progress.block_hash:
                return None  # the cursor's block left the chain meanwhile: the next poll
            for entry in sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"])):
                header = block(int(entry["blockNumber"]))
                if bytes(header["hash"]) != bytes(entry["blockHash"]):
                    return None
                event = self._decoder.decode(entry)
                if event is not None:
                    inputs = self._inputs[(event.contract, event.name)]
                    rows.append(
                        {
                            "chain_id": self.deployment.chain_id,
                            "block_number": event.block_number,
                            "log_index": event.log_index,
                            "block_time": datetime.fromtimestamp(header["timestamp"], UTC),
                            "tx_hash": event.tx_hash,
                            "address": to_checksum_address(entry["address"]),
                            "contract": event.contract,
                            "name": event.name,
                            "args": args_to_json(inputs, event.args),
                            **lookup_keys(inputs, event.args),
                        }
                    )
            end_hash = _hex(block(end)["hash"])
            recorded = {end} | {int(row["block_number"]) for row in rows}
            # Read after the batch's end: the blocks whose hashes are recorded must still
            # be the ones their logs came from, or a reorganisation between reading them
            # and reading the end would record blocks of two branches as one.
            for number in sorted(recorded - {end}):
                if self.w3.eth.get_block(number)["hash"] != blocks[number]["hash"]:
                    return None
        except BlockNotFound:
            return None
        _refuse_collisions(rows)
        checkpoints = {n: _hex(blocks[n]["hash"]) for n in sorted(recorded)}
        return _Batch(end, end_hash, rows, checkpoints)

    def _store(self, progress: Progress, batch: _Batch) -> list[IndexedEvent] | None:
        """Store a batch's events and move the cursor, atomically; the events that
        were new, or None if another indexer moved the cursor first."""
        with self._write.connect() as connection, connection.begin() as transaction:
            moved = connection.execute(
                update(ChainCursor)
                .where(*self._key, ChainCursor.block == progress.block)
                .values(block=batch.end, block_hash=batch.end_hash, updated_at=utcnow())
            )
            if moved.rowcount != 1:
                transaction.rollback()
                return None
            inserted: set[tuple[int, int]] = set()
            if batch.rows:
                result = connection.execute(self._insert_new(), batch.rows)
                inserted = {(block, index) for block, index in result}
                self._same_as_stored(connection, progress, batch, inserted)
            self._record_checkpoints(connection, batch.checkpoints)
            if not inserted:  # nothing to deliver: delivered with the same commit
                self._mark_delivered(batch.end, connection)
        return [
            self._event(row)
            for row in batch.rows
            if (row["block_number"], row["log_index"]) in inserted
        ]

    def _record_checkpoints(self, connection: Connection, checkpoints: Mapping[int, str]) -> None:
        """Record the batch's block hashes and keep the highest ``kept_checkpoints``."""
        market = to_checksum_address(self.deployment.market)
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(ChainCheckpoint)
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=["chain_id", "market", "block"],
                set_={"block_hash": insert.excluded.block_hash},
            ),
            [
                {
                    "chain_id": self.deployment.chain_id,
                    "market": market,
                    "block": n,
                    "block_hash": h,
                }
                for n, h in sorted(checkpoints.items())
            ],
        )
        floor = connection.execute(
            select(ChainCheckpoint.block)
            .where(*self._checkpoint_key)
            .order_by(ChainCheckpoint.block.desc())
            .offset(self.kept_checkpoints - 1)
            .limit(1)
        ).scalar_one_or_none()
        if floor is not None:
            connection.execute(
                delete(ChainCheckpoint).where(*self._checkpoint_key, ChainCheckpoint.block < floor)
            )

    def _insert_new(self) -> ReturningInsert[int, int]:
        """Insert rows whose location is free; returns the locations inserted."""
        insert: postgresql.Insert | sqlite.Insert
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(ChainEventRecord).on_conflict_do_nothing(
            index_elements=["chain_id", "block_number", "log_index"]
        )
        return insert.returning(ChainEventRecord.block_number, ChainEventRecord.log_index)

    def _same_as_stored(
        self,
        connection: Connection,
        progress: Progress,
        batch: _Batch,
        inserted: set[tuple[int, int]],
    ) -> None:
        """A row not inserted must be the very log stored there (blocks read again, as
        after restoring an old cursor); a different log at its location is refused
        with :class:`EventConflict`, and leaving the transaction with it rolls the
        cursor back too: merging two logs would lose one."""
        skipped = [r for r in batch.rows if (r["block_number"], r["log_index"]) not in inserted]
        if not skipped:
            return
        blocks = {r["block_number"] for r in skipped}
        stored = {
            (int(row.block_number), int(row.log_index)): (row.tx_hash, row.contract, row.name)
            for row in connection.execute(
                select(
                    ChainEventRecord.block_number,
                    ChainEventRecord.log_index,
                    ChainEventRecord.tx_hash,
                    ChainEventRecord.contract,
                    ChainEventRecord.name,
                ).where(
                    ChainEventRecord.chain_id == self.deployment.chain_id,
                    ChainEventRecord.block_number.in_(blocks),
                )
            )
        }
        for row in skipped:
            location = (row["block_number"], row["log_index"])
            if stored.get(location) != (row["tx_hash"], row["contract"], row["name"]):
                raise EventConflict(
                    f"block {location[0]} log {location[1]} is stored as another event "
                    f"({stored.get(location)}) than the chain's {row['name']} of transaction "
                    f"{row['tx_hash']}: nothing was stored; 'kraken-market ledger reindex' "
                    "rebuilds the events from the chain",
                    details={"block": location[0], "log_index": location[1]},
                )

    def _mark_delivered(self, block: int, connection: Connection | None = None) -> None:
        statement = (
            update(ChainCursor)
            .where(*self._key, ChainCursor.delivered_block < block)
            .values(delivered_block=block)
        )
        if connection is not None:
            connection.execute(statement)
            return
        with self._write.begin() as own:
            own.execute(statement)

    # -- reading and repair ----------------------------------------------------------------

    def progress(self) -> Progress:
        """The cursor; created at the block before the deployment on first use."""
        query = select(ChainCursor.block, ChainCursor.block_hash, ChainCursor.delivered_block)
        with self.engine.connect() as connection:
            row = connection.execute(query.where(*self._key)).one_or_none()
        if row is not None:
            return Progress(int(row.block), row.block_hash, int(row.delivered_block))
        start = self.deployment.block - 1
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        values = {
            "chain_id": self.deployment.chain_id,
            "market": to_checksum_address(self.deployment.market),
            "block": start,
            "block_hash": None,
            "delivered_block": start,
            "updated_at": utcnow(),
        }
        with self._write.begin() as connection:
            connection.execute(dialect.insert(ChainCursor).values(values).on_conflict_do_nothing())
        return self.progress()

    def history(
        self,
        *,
        names: Iterable[str] | None = None,
        item: str | None = None,
        account: str | None = None,
        purchase_id: int | None = None,
        after_block: int | None = None,
        limit: int | None = 1000,
    ) -> list[IndexedEvent]:
        """Stored events of this deployment in chain order, filtered."""
        query = select(ChainEventRecord).where(
            ChainEventRecord.chain_id == self.deployment.chain_id,
            ChainEventRecord.address.in_([c.address for c in self.contracts.values()]),
        )
        if names is not None:
            query = query.where(ChainEventRecord.name.in_(list(names)))
        if item is not None:
            query = query.where(ChainEventRecord.item == item.lower())
        if account is not None:
            query = query.where(ChainEventRecord.account == to_checksum_address(account))
        if purchase_id is not None:
            query = query.where(ChainEventRecord.purchase_id == purchase_id)
        if after_block is not None:
            query = query.where(ChainEventRecord.block_number > after_block)
        query = query.order_by(ChainEventRecord.block_number, ChainEventRecord.log_index)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [self._event(row) for row in rows]

    def _event(self, row: Mapping[Any, Any]) -> IndexedEvent:
        inputs = self._inputs.get((row["contract"], row["name"]))
        args = dict(row["args"]) if inputs is None else args_from_json(inputs, row["args"])
        return IndexedEvent(
            chain_id=int(row["chain_id"]),
            block_number=int(row["block_number"]),
            log_index=int(row["log_index"]),
            block_time=row["block_time"],
            tx_hash=row["tx_hash"],
            address=row["address"],
            contract=row["contract"],
            name=row["name"],
            args=args,
        )

    def check(self, from_block: int, to_block: int) -> Check:
        """Compare the stored events of blocks ``from_block``..``to_block`` (at most the
        cursor) with the chain's logs there: what is missing and what is stored but
        not on the chain, by location."""
        to_block = min(to_block, self.progress().block)
        if to_block < from_block:
            return Check(from_block, to_block, (), ())
        batch = self._read(Progress(from_block - 1, None, from_block - 1), to_block)
        if batch is None:  # the chain moved while it was read: nothing checked
            return Check(from_block, from_block - 1, (), ())
        on_chain = {(r["block_number"], r["log_index"]): r["tx_hash"] for r in batch.rows}
        with self.engine.connect() as connection:
            stored = {
                (int(block), int(index)): str(tx)
                for block, index, tx in connection.execute(
                    select(
                        ChainEventRecord.block_number,
                        ChainEventRecord.log_index,
                        ChainEventRecord.tx_hash,
                    ).where(
                        ChainEventRecord.chain_id == self.deployment.chain_id,
                        ChainEventRecord.address.in_([c.address for c in self.contracts.values()]),
                        ChainEventRecord.block_number.between(from_block, batch.end),
                    )
                )
            }
        missing = tuple(sorted(k for k, tx in on_chain.items() if stored.get(k) != tx))
        unexpected = tuple(sorted(k for k, tx in stored.items() if on_chain.get(k) != tx))
        return Check(from_block, batch.end, missing, unexpected)

    def _self_check(self, since: int) -> int:
        """Compare every block after ``since`` through the cursor with the chain, batch
        by batch, and repair the first batch that differs; the last block found right
        (the next self-check goes on from there)."""
        cursor = self.progress().block
        start = since + 1
        while start <= cursor:
            found = self.check(start, min(start + self.batch_blocks - 1, cursor))
            if found.to_block < found.from_block:
                break  # the chain moved while it was read: next time
            if not found.consistent:
                self.repair(found)
                return found.from_block - 1
            start = found.to_block + 1
        return start - 1

    def repair(self, check: Check) -> int:
        """Index again from the first block ``check`` found different; events stored.
        Events after that block are delivered again to subscribers (at least once)."""
        wrong = [block for block, _ in (*check.missing, *check.unexpected)]
        if not wrong:
            return 0
        log.error(
            "indexer_check_failed",
            from_block=check.from_block,
            to_block=check.to_block,
            missing=len(check.missing),
            unexpected=len(check.unexpected),
        )
        self.rewind(min(wrong) - 1)
        return self.poll_once()

    def reindex(self) -> tuple[int, int]:
        """Forget every stored event of the deployment and index the chain again (the
        repair of a database written by an indexer that lost events); (forgotten, stored).
        Events are delivered again to this indexer's subscribers (at least once)."""
        forgotten = self.rewind(self.deployment.block - 1)
        return forgotten, self.poll_once()

    def rewind(self, block: int) -> int:
        """Forget the stored events after ``block`` and index again from there (after
        :class:`ChainReorganised`, once the fork is known); the number forgotten.
        The cursor takes the hash the chain has at ``block`` now."""
        block = max(block, self.deployment.block - 1)
        block_hash = (
            _hex(self.w3.eth.get_block(block)["hash"]) if block >= self.deployment.block else None
        )
        self.progress()
        rewound = self._rewind_to(block, block_hash, expected=None, collect=False)
        forgotten = 0 if rewound is None else rewound.forgotten  # None: no cursor row
        log.warning("indexer_rewound", block=block, forgotten=forgotten)
        return forgotten

    def _rewind_to(
        self, block: int, block_hash: str | None, *, expected: Progress | None, collect: bool
    ) -> _Rewound | None:
        """In one transaction: delete the events and checkpoints after ``block`` and put
        the cursor there; how many events were deleted and, with ``collect``, which (in
        chain order). With ``expected``, only if the cursor is still there (else None:
        another indexer moved it)."""
        events = (
            ChainEventRecord.chain_id == self.deployment.chain_id,
            ChainEventRecord.address.in_([c.address for c in self.contracts.values()]),
            ChainEventRecord.block_number > block,
        )
        condition: tuple[ColumnElement[bool], ...] = ()
        if expected is not None:
            condition = (
                ChainCursor.block == expected.block,
                ChainCursor.block_hash.is_(None)
                if expected.block_hash is None
                else ChainCursor.block_hash == expected.block_hash,
            )
        with self._write.connect() as connection, connection.begin() as transaction:
            moved = connection.execute(
                update(ChainCursor)
                .where(*self._key, *condition)
                .values(
                    block=block,
                    block_hash=block_hash,
                    delivered_block=case(
                        (ChainCursor.delivered_block > block, block),
                        else_=ChainCursor.delivered_block,
                    ),
                    updated_at=utcnow(),
                )
            )
            if moved.rowcount != 1:
                transaction.rollback()
                return None
            removed: tuple[IndexedEvent, ...] = ()
            if collect:
                rows = connection.execute(
                    select(ChainEventRecord)
                    .where(*events)
                    .order_by(ChainEventRecord.block_number, ChainEventRecord.log_index)
                ).mappings()
                removed = tuple(self._event(row) for row in rows)
            forgotten = connection.execute(delete(ChainEventRecord).where(*events)).rowcount
            connection.execute(
                delete(ChainCheckpoint).where(*self._checkpoint_key, ChainCheckpoint.block > block)
            )
        return _Rewound(int(forgotten), removed)


__all__ = [
    "DOMAIN_EVENTS",
    "INDEXED_CONTRACTS",
    "AccessPurchased",
    "Approved",
    "Attested",
    "AvailabilityChanged",
    "Check",
    "ClaimFiled",
    "ClaimRuled",
    "ComputationPaid",
    "ComputationReclaimed",
    "ComputationRefused",
    "ComputationRequested",
    "DomainEvent",
    "GrantRevoked",
    "Granted",
    "IndexedEvent",
    "Indexer",
    "OwnershipTransferred",
    "ProductPublished",
    "Progress",
    "Reorganisation",
    "ReorganisationSubscriber",
    "StakeLocked",
    "StakeReleased",
    "Subscribed",
    "Subscriber",
    "UnionCreated",
]
