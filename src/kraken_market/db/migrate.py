"""Apply the Alembic migrations at start, so every process finds the schema at head.

The Alembic configuration is built in code (no ``alembic.ini`` to find): the
scripts ship inside the package. On PostgreSQL an advisory lock serialises
processes that start at the same moment.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

_SCRIPTS = Path(__file__).with_name("migrations")
_LOCK_KEY = 0x4B52414B454E  # "KRAKEN"


SEARCH_INDEX_OBJECTS = frozenset(
    {
        "search_vector",
        "title_vector",
        "tags_vector",
        "description_vector",
        "ix_products_search_vector",
        "ix_products_title_vector",
        "ix_products_tags_vector",
        "ix_products_description_vector",
    }
)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave the engine-specific search index (created in raw SQL by migration 0001:
    FTS5 tables on SQLite, tsvector columns on PostgreSQL) out of model comparisons."""
    if name is None or not reflected or compare_to is not None:
        return True
    if type_ == "table" and name.startswith("products_fts"):
        return False
    return name not in SEARCH_INDEX_OBJECTS


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (idempotent)."""
    config = alembic_config(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
            try:
                command.upgrade(config, "head")
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
    else:
        command.upgrade(config, "head")


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest revision (``/readyz``)."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
