"""Product ids as SMPC files carry them: the ledger's ``bytes32``."""

from __future__ import annotations

from kraken_market.catalog.ids import is_id
from kraken_market.smpc.errors import SharingInvalid
from kraken_market.types import ProductId


def product_bytes(product_id: str) -> bytes:
    """The 32 bytes of a product id (``0x`` + 64 hex digits), else ``SharingInvalid``."""
    if not isinstance(product_id, str) or not is_id(product_id):
        raise SharingInvalid(
            "a product id is 0x followed by 64 hex digits (the ledger's bytes32)",
            details={"product_id": str(product_id)[:80]},
        )
    return bytes.fromhex(product_id[2:])


def normalise(product_id: str) -> ProductId:
    """The canonical (lowercase) form of a product id."""
    return ProductId("0x" + product_bytes(product_id).hex())
