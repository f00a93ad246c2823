"""Alembic environment: runs online against the engine handed over by ``db.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import kraken_market.catalog.models
import kraken_market.identity.models  # noqa: F401  (register tables on the metadata)
from kraken_market.access.stream import models as _stream_tables  # noqa: F401
from kraken_market.companies import models as _company_tables  # noqa: F401
from kraken_market.db.base import Base
from kraken_market.db.migrate import include_object
from kraken_market.ledger import models as _ledger_tables  # noqa: F401
from kraken_market.trade import models as _trade_tables  # noqa: F401
from kraken_market.trade import records as _trade_records  # noqa: F401

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through kraken_market.db.migrate, which passes the engine")

with engine.connect() as connection:
    # SQLite: take the write lock for the whole migration, so that two processes
    # starting on a fresh file run it once (the second then finds it at head).
    connection.execution_options(kraken_write=True)
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
