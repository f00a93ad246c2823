"""Indexer tables: the contract events of a deployment and how far they are read.

``chain_events`` holds one row per log, keyed by where it is on chain
(chain id, block number, log index). Arguments are JSON in a form that
round-trips exactly with the contract ABI (:func:`args_to_json`): byte strings
as ``0x`` hex, integers wider than 48 bits as decimal strings (JSON numbers are
doubles to most readers), structs as objects, arrays as lists. ``item``,
``account`` and ``purchase_id`` copy the event's product-side keys out of the
JSON for lookups: the first indexed ``bytes32`` (a product, union or
computation request id), the first indexed address (buyer, owner, claimant...)
and the purchase id.

``database_origin`` has one row: the chain (genesis hash) and deployment the
database was set up with, so that a database reused with another chain is
refused before anything reads it.

``chain_cursor`` has one row per (chain, deployment): the last block whose
events are stored, that block's hash (a reorganisation deeper than the
confirmation depth changes it) and the last block whose events were handed to
subscribers.

``chain_checkpoints`` keeps, per (chain, deployment), the hashes of the newest
indexed blocks the indexer had in hand anyway: each batch's last block and every
block with a stored event (at most ``CHECKPOINTS`` rows, the highest blocks). When
a reorganisation changes the cursor's block, the highest checkpoint whose hash the
chain still has is the fork point: every stored event above it is in a block
recorded here with a hash the chain no longer has, so exactly those are removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kraken_market.db.base import Base, Uint256, UtcDateTime

ROW_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only
HASH = String(66)
ADDRESS = String(42)
JSON_NUMBER_BITS = 48
"""Integers of at most this many bits are JSON numbers; wider ones decimal strings."""

AbiParams = Sequence[Mapping[str, Any]]
"""The ``inputs`` of an event's ABI entry."""


class ChainEventRecord(Base):
    __tablename__ = "chain_events"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)
    block_time: Mapped[datetime] = mapped_column(UtcDateTime)
    tx_hash: Mapped[str] = mapped_column(HASH)
    address: Mapped[str] = mapped_column(ADDRESS)
    contract: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    item: Mapped[str | None] = mapped_column(HASH, index=True)
    account: Mapped[str | None] = mapped_column(ADDRESS, index=True)
    purchase_id: Mapped[int | None] = mapped_column(Uint256, index=True)

    __table_args__ = (
        UniqueConstraint("chain_id", "block_number", "log_index"),
        Index("ix_chain_events_name_block", "name", "block_number"),
    )


class ChainCursor(Base):
    __tablename__ = "chain_cursor"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    market: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    """The deployment's Market address: two deployments on one chain index apart."""
    block: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(HASH)
    delivered_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChainCheckpoint(Base):
    """One indexed block's number and hash: where the indexer can rewind to after a
    reorganisation (``ledger.indexer``)."""

    __tablename__ = "chain_checkpoints"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    market: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_hash: Mapped[str] = mapped_column(HASH)


class DatabaseOrigin(Base):
    """The chain and deployment this marketplace database was set up with: one row,
    recorded by ``kraken-market up`` at the first start (``platform.database``).

    A database holds the catalog, sessions and indexed events of one deployment on one
    chain. Reused with another chain (a fresh data directory, a chain made anew), its
    indexed blocks and products describe a chain that is not there: ``up`` compares
    this row with the data directory before starting anything, and the indexer
    compares the genesis hash with the chain it reads.
    """

    __tablename__ = "database_origin"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    """Always 1: a database belongs to one deployment."""
    chain_id: Mapped[int] = mapped_column(BigInteger)
    genesis_hash: Mapped[str] = mapped_column(HASH)
    """Block 0's hash: embedded chains share a chain id, never a genesis block."""
    market: Mapped[str] = mapped_column(ADDRESS)
    data_dir: Mapped[str | None] = mapped_column(String(1000))
    """The data directory of the platform that recorded it (to say where to point)."""
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


def args_to_json(inputs: AbiParams, args: Mapping[str, Any]) -> dict[str, Any]:
    """Decoded event arguments as JSON values, in ABI order."""
    return {param["name"]: _to_json(param, args[param["name"]]) for param in inputs}


def args_from_json(inputs: AbiParams, data: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`args_to_json`: bytes, ints, str, bool, tuples for
    arrays and dicts for structs."""
    return {param["name"]: _from_json(param, data[param["name"]]) for param in inputs}


def _element(param: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(param["type"])
    return {**param, "type": kind[: kind.rindex("[")]}


def _int_bits(kind: str) -> int | None:
    for prefix in ("uint", "int"):
        if kind.startswith(prefix) and kind[len(prefix) :].isdigit():
            return int(kind[len(prefix) :])
        if kind == prefix:
            return 256
    return None


def _to_json(param: Mapping[str, Any], value: Any) -> Any:
    kind = str(param["type"])
    if kind.endswith("]"):
        return [_to_json(_element(param), item) for item in value]
    if kind == "tuple":
        components = param["components"]
        if isinstance(value, Mapping):
            return {c["name"]: _to_json(c, value[c["name"]]) for c in components}
        return {c["name"]: _to_json(c, item) for c, item in zip(components, value, strict=True)}
    bits = _int_bits(kind)
    if bits is not None:
        return int(value) if bits <= JSON_NUMBER_BITS else str(int(value))
    if kind.startswith("bytes"):
        return "0x" + bytes(value).hex()
    return value  # address (checksummed), bool, string


def _from_json(param: Mapping[str, Any], value: Any) -> Any:
    kind = str(param["type"])
    if kind.endswith("]"):
        return tuple(_from_json(_element(param), item) for item in value)
    if kind == "tuple":
        return {c["name"]: _from_json(c, value[c["name"]]) for c in param["components"]}
    if _int_bits(kind) is not None:
        return int(value)
    if kind.startswith("bytes"):
        return bytes.fromhex(value[2:])
    return value


def lookup_keys(inputs: AbiParams, args: Mapping[str, Any]) -> dict[str, Any]:
    """The ``item``, ``account`` and ``purchase_id`` columns of an event."""
    indexed = [param for param in inputs if param.get("indexed")]
    item = next((p["name"] for p in indexed if p["type"] == "bytes32"), None)
    account = next((p["name"] for p in indexed if p["type"] == "address"), None)
    purchase = args.get("purchase_id")
    return {
        "item": None if item is None else "0x" + bytes(args[item]).hex(),
        "account": None if account is None else str(args[account]),
        "purchase_id": None if purchase is None else int(purchase),
    }
