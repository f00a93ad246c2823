"""Engine and session factory for SQLite (default, WAL mode) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would default to psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed during a write; synchronous=FULL makes every
    # acknowledged commit survive a crash of the process or of the machine.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


WRITE = {"kraken_write": True}
"""Execution options of a transaction that will write (see :func:`write_session`)."""


def _sqlite_begin(connection: Connection) -> None:
    # A WAL reader that later tries to write fails at once with SQLITE_BUSY if
    # another writer committed meanwhile; taking the write lock at BEGIN makes
    # concurrent writers queue (busy_timeout) instead.
    immediate = connection.get_execution_options().get("kraken_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite, create the file's directory and set the pragmas."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def write_session(factory: sessionmaker[Session]) -> Session:
    """A session for a unit of work that writes: its transaction takes the write lock
    when it begins (SQLite; an ordinary transaction on PostgreSQL).

    No connection is taken until the session is first used, so a request holds
    no connection (and no lock) while it is still being authenticated.
    """
    bind = factory.kw["bind"]
    return factory(bind=bind.execution_options(**WRITE))
