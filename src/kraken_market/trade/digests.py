"""The metadata and policy hashes a product is published on chain with.

The chain keeps 32-byte commitments, not the catalog text: SHA-256 of the
product's description and of its policy, each canonicalised with the JSON
Canonicalization Scheme (RFC 8785), so the seller's SDK (which publishes) and
the API (which shows whether the catalog still matches the chain) compute the
same bytes from the same JSON, in any language.

The metadata covers what a buyer relies on when paying (id, title,
description, tags, access mode, schema, parents, storage links), not
availability, prices or stake: those live on chain themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import rfc8785

METADATA_FIELDS = (
    "id",
    "title",
    "description",
    "tags",
    "access_mode",
    "schema",
    "parents",
    "storage_links",
)


def _digest(value: Any) -> str:
    return "0x" + hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def metadata_hash(product: Mapping[str, Any]) -> str:
    """SHA-256 (0x hex) of the canonical metadata of ``product`` (its API JSON)."""
    return _digest({name: product.get(name) for name in METADATA_FIELDS})


def policy_hash(product: Mapping[str, Any]) -> str:
    """SHA-256 (0x hex) of the canonical policy of ``product`` (its API JSON)."""
    return _digest(product["policy"])
