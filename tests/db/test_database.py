"""The database layer: pragmas, exact amounts, migrations that match the models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select, text

from kraken_market.db.base import Base, Uint256, UtcDateTime
from kraken_market.db.engine import make_engine, normalise_url
from kraken_market.db.migrate import alembic_config, include_object, is_current, upgrade
from kraken_market.types import UINT256_MAX


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_postgresql_urls_use_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_uint256_is_exact_and_ordered(engine: Engine) -> None:
    metadata = MetaData()
    table = Table(
        "amounts_probe", metadata, Column("k", Integer, primary_key=True), Column("v", Uint256())
    )
    values = [UINT256_MAX, 0, 2**64, 2**64 - 1, 10**30, 7]
    metadata.create_all(engine)
    try:
        with engine.begin() as connection:
            connection.execute(insert(table), [{"k": i, "v": v} for i, v in enumerate(values)])
            stored = connection.execute(select(table.c.v).order_by(table.c.v)).scalars().all()
            assert stored == sorted(values)
            above = connection.execute(select(table.c.v).where(table.c.v > 2**64 - 1)).scalars()
            assert sorted(above) == [2**64, 10**30, UINT256_MAX]
            with pytest.raises(Exception, match="uint256"):
                connection.execute(insert(table), [{"k": 99, "v": UINT256_MAX + 1}])
    finally:
        metadata.drop_all(engine)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UtcDateTime().process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]
    aware = UtcDateTime().process_bind_param(datetime(2026, 1, 1, tzinfo=UTC), None)  # type: ignore[arg-type]
    assert aware is not None and aware.tzinfo is UTC


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert is_current(engine)


def test_migrations_downgrade_and_upgrade_again(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    with engine.connect() as connection:
        tables = connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        assert {t for (t,) in tables} <= {"alembic_version"}
    upgrade(engine)
    assert is_current(engine)
    engine.dispose()
