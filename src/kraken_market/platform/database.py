"""Which database ``up`` uses, and whether it belongs to this data directory's chain.

The marketplace database (SQLite in the data directory by default, or any
``KRAKEN_DATABASE_URL``) holds the catalog, the sessions and the events indexed from
one deployment on one chain; the chain and its deployment live in the data
directory (``chain.db``, ``deployment.json``). Pair a database with another data
directory (a fresh one, or one whose ``chain.db`` was deleted) and the processes
start, then the indexer meets blocks it does not know. So, before any process
starts, :func:`check_database` compares what the database recorded with what the
data directory holds, offline (the chain's store is read, not started):

- ``database_origin``, recorded by :func:`record_origin` at the first start: the
  chain's genesis hash, the Market contract and the data directory;
- for a database set up before that table existed, the indexer's cursors: the
  deployment they follow and the hash of the last block indexed.

A mismatch raises ``DatabaseOfAnotherChain`` naming the database, what it belongs
to, and the three ways out: the data directory it belongs to, another database, or
emptying it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from kraken_market.db.engine import WRITE
from kraken_market.ledger.chain.store import canonical_hashes
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import DatabaseOfAnotherChain
from kraken_market.ledger.models import ChainCursor, DatabaseOrigin
from kraken_market.settings import Settings


def shown_url(url: str) -> str:
    """The database URL as ``up`` prints it: the password replaced by ``***``."""
    return make_url(url).render_as_string(hide_password=True)


@dataclass(frozen=True)
class Origin:
    chain_id: int
    genesis_hash: str
    market: str
    data_dir: str | None


@dataclass(frozen=True)
class Cursor:
    chain_id: int
    market: str
    block: int
    block_hash: str | None


@dataclass(frozen=True)
class Recorded:
    """What the database says about the chain it was used with."""

    origin: Origin | None
    cursors: tuple[Cursor, ...]


def read_recorded(engine: Engine) -> Recorded:
    """Read only; a database at an older schema (or empty) may lack either table."""
    tables = set(inspect(engine).get_table_names())
    origin: Origin | None = None
    cursors: tuple[Cursor, ...] = ()
    with engine.connect() as connection:
        if DatabaseOrigin.__tablename__ in tables:
            row = connection.execute(select(DatabaseOrigin)).first()
            if row is not None:
                origin = Origin(row.chain_id, row.genesis_hash, row.market, row.data_dir)
        if ChainCursor.__tablename__ in tables:
            query = select(
                ChainCursor.chain_id, ChainCursor.market, ChainCursor.block, ChainCursor.block_hash
            )
            cursors = tuple(
                Cursor(int(r.chain_id), r.market, int(r.block), r.block_hash)
                for r in connection.execute(query)
            )
    return Recorded(origin, cursors)


def _ways_out(settings: Settings, recorded_dir: str | None) -> str:
    url = make_url(settings.resolved_database_url)
    here = str(settings.data_dir.resolve())
    point = (
        f"run with the data directory it belongs to (KRAKEN_DATA_DIR={recorded_dir}); "
        if recorded_dir and recorded_dir != here
        else ""
    )
    if url.get_backend_name() == "sqlite":
        empty = f"delete {url.database} (and its -wal and -shm files)"
    else:
        empty = f"'dropdb {url.database}' then 'createdb {url.database}'"
    return (
        f". What to do: {point}use another database (KRAKEN_DATABASE_URL, e.g. a new "
        f"PostgreSQL database made with 'createdb'); or, to start this data directory "
        f"afresh and lose what the database holds, {empty}"
    )


def check_database(settings: Settings, engine: Engine) -> None:
    """Refuse (``DatabaseOfAnotherChain``) a database recorded with another chain or
    deployment than the data directory's; a fresh database passes."""
    recorded = read_recorded(engine)
    deployment_file = settings.deployment_file
    # An external chain (KRAKEN_CHAIN_URL) has no store here to read offline: its
    # genesis and blocks are compared online by the indexer before it reads anything.
    chain_file = settings.chain_file if settings.chain_is_embedded else None
    deployment = Deployment.load(deployment_file) if deployment_file.is_file() else None
    shown = shown_url(settings.resolved_database_url)
    here = settings.data_dir.resolve()
    origin = recorded.origin
    if origin is not None:
        what = f"the database {shown} was set up with the chain and contracts of "
        what += f"the data directory {origin.data_dir}" if origin.data_dir else "another platform"
        what += f" (Market {origin.market}, genesis block {origin.genesis_hash})"
        problem = _origin_problem(origin, deployment, chain_file, here)
        if problem:
            raise DatabaseOfAnotherChain(
                f"{what}; {problem}" + _ways_out(settings, origin.data_dir),
                details={
                    "database": shown,
                    "data_dir": str(here),
                    "recorded_data_dir": origin.data_dir,
                    "recorded_market": origin.market,
                    "recorded_genesis": origin.genesis_hash,
                },
            )
        return
    if not recorded.cursors:
        return  # a fresh database (or one no indexer has written to)
    cursor = _cursor_problem(recorded.cursors, deployment, chain_file, here)
    if cursor is not None:
        followed, problem = cursor
        raise DatabaseOfAnotherChain(
            f"the database {shown} holds the events of Market {followed.market} on chain "
            f"{followed.chain_id}, indexed through block {followed.block}; {problem}"
            + _ways_out(settings, None),
            details={"database": shown, "data_dir": str(here), "recorded_market": followed.market},
        )


def _no_chain(deployment: Deployment | None, chain_file: Path | None, here: Path) -> str | None:
    if deployment is None:
        return f"this data directory ({here}) has no contracts yet: they would be deployed anew"
    if chain_file is not None and not chain_file.is_file():
        return f"this data directory ({here}) has no chain ({chain_file.name} is missing)"
    return None


def _origin_problem(
    origin: Origin, deployment: Deployment | None, chain_file: Path | None, here: Path
) -> str | None:
    missing = _no_chain(deployment, chain_file, here)
    if missing or deployment is None:
        return missing
    if (deployment.chain_id, deployment.market.lower()) != (
        origin.chain_id,
        origin.market.lower(),
    ):
        return f"this data directory ({here}) has Market {deployment.market}"
    if chain_file is None:
        return None
    genesis = canonical_hashes(chain_file, [0])[0]
    if genesis != origin.genesis_hash:
        return f"the chain in {chain_file} starts with block {genesis}: it was made anew since"
    return None


def _cursor_problem(
    cursors: tuple[Cursor, ...], deployment: Deployment | None, chain_file: Path | None, here: Path
) -> tuple[Cursor, str] | None:
    missing = _no_chain(deployment, chain_file, here)
    if missing or deployment is None:
        return cursors[0], str(missing)
    key = (deployment.chain_id, deployment.market.lower())
    mine = next((c for c in cursors if (c.chain_id, c.market.lower()) == key), None)
    if mine is None:
        return cursors[0], f"this data directory ({here}) has Market {deployment.market}"
    if mine.block_hash is not None and chain_file is not None:
        actual = canonical_hashes(chain_file, [mine.block])[mine.block]
        if actual != mine.block_hash:
            return mine, (
                f"block {mine.block} was indexed with hash {mine.block_hash}, the chain in "
                f"{chain_file} has {actual} there: it was made anew since"
            )
    return None


def record_origin(
    engine: Engine, settings: Settings, deployment: Deployment, genesis_hash: str
) -> None:
    """Record at the first start which chain and deployment the database belongs to
    (the database is migrated by then: the API migrates it before it is ready). A
    database recorded already keeps its row: ``check_database`` compared it."""
    values = {
        "id": 1,
        "chain_id": deployment.chain_id,
        "genesis_hash": genesis_hash,
        "market": deployment.market,
        "data_dir": str(settings.data_dir.resolve()),
        "recorded_at": datetime.now(UTC),
    }
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    with engine.execution_options(**WRITE).begin() as connection:
        connection.execute(dialect.insert(DatabaseOrigin).values(values).on_conflict_do_nothing())
