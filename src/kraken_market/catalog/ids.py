"""Product and Data Union ids, computed exactly as the ledger computes them.

A product id is 32 random bytes: unguessable, collision-free, and usable as
the ``bytes32`` key of the on-chain registry. A union id is keccak-256 (the
Ethereum hash, not SHA3-256) of the member ids sorted by their byte value and
concatenated, 32 bytes each, so the registry contract can recompute it from
the member list alone (KRAKEN D5.4, figure 2).
"""

from __future__ import annotations

import re
import secrets

from eth_hash.auto import keccak

from kraken_market.types import ProductId, UnionId

_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")
ID_PATTERN = _ID.pattern


def is_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))


def new_product_id() -> ProductId:
    return ProductId("0x" + secrets.token_hex(32))


def union_id(member_ids: list[ProductId]) -> UnionId:
    """keccak-256 over the sorted, concatenated 32-byte member ids."""
    raw = sorted(bytes.fromhex(member[2:]) for member in member_ids)
    return UnionId("0x" + keccak(b"".join(raw)).hex())
