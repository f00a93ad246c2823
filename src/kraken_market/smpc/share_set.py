"""Whether a product's share set can be computed over by these nodes: the one check the
compute nodes make before touching a share, and the quote makes before anyone pays.

Both read only public parts: the manifest the product's owner signed (columns,
schema, row count, one file per node with its size, hash and the fingerprint of the
key it is encrypted to) and whether each node's file is in storage. A node checks
its own file (``nodes`` = itself); the API's quote checks every registered node's
(``trade.quote``). Keeping them in one place keeps the quote from promising what a
node would then refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kraken_market.smpc.errors import ManifestMismatch, ObjectNotFound
from kraken_market.smpc.manifest import Manifest, verify_manifest
from kraken_market.smpc.storage import ShareStorage

AGAIN = "its seller must share the data again"


@dataclass(frozen=True)
class NodeSet:
    """The compute nodes a share set must be made for: their number, threshold and each
    one's key fingerprint by index (the nodes asked about; others are not checked)."""

    m: int
    t: int
    keys: Mapping[int, str]


def checked_share_set(
    storage: ShareStorage,
    link: str,
    owner: str,
    product_id: str,
    nodes: NodeSet | None,
    *,
    every_file: bool = False,
) -> Manifest:
    """The product's manifest at ``link`` if its owner signed it, made for ``nodes`` (their
    number, threshold and keys), with their share files in storage (``every_file``: all
    of them, also those of nodes not asked about)."""
    try:
        token = storage.read(link)
    except ObjectNotFound:
        raise ObjectNotFound(
            f"the share set of product {product_id} ({link}) is not in storage: {AGAIN}"
        ) from None
    manifest = verify_manifest(token, owner, product_id)
    if nodes is not None and (manifest.m, manifest.t) != (nodes.m, nodes.t):
        raise ManifestMismatch(
            f"product {product_id} is shared for {manifest.m} nodes (threshold {manifest.t}); "
            f"the compute nodes are {nodes.m} (threshold {nodes.t}): {AGAIN}"
        )
    keys = nodes.keys if nodes is not None else {}
    for index, key in sorted(keys.items()):
        if manifest.file_for(index).node_key != key:
            raise ManifestMismatch(
                f"product {product_id}'s share file for node {index} is encrypted to "
                f"another key than that node's: {AGAIN}"
            )
    present = range(manifest.m) if every_file else sorted(keys)
    missing = [
        entry.name
        for entry in (manifest.file_for(index) for index in present)
        if not storage.exists(entry.name)
    ]
    if missing:
        raise ObjectNotFound(
            f"{len(missing)} share file(s) of product {product_id} are missing from storage "
            f"({', '.join(missing[:3])}): {AGAIN}",
            details={"missing": missing},
        )
    return manifest
