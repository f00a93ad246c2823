"""The share-set check the nodes make before computing and the quote before payment."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.errors import ManifestInvalid, ManifestMismatch, ObjectNotFound
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.manifest import owner_did
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.share_set import NodeSet, checked_share_set
from kraken_market.smpc.storage import LocalDirectory

PRODUCT = "0x" + "5e" * 32
SCHEMA = DataSchema.model_validate(
    {"columns": [{"name": "age", "type": "numeric", "min": 0, "max": 130}]}
)


def test_a_share_set_is_checked_for_its_owner_nodes_and_files(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("age\n" + "".join(f"{20 + i}\n" for i in range(12)))
    keys = [NodeKeyPair.generate() for _ in range(3)]
    owner = Ed25519PrivateKey.generate()
    storage = LocalDirectory(tmp_path / "storage")
    signed = share_file(
        tmp_path / "data.csv", PRODUCT, SCHEMA, [k.public_key for k in keys], storage, owner
    )
    link = signed.manifest.files[0].name.rsplit("/", 1)[0] + "/manifest.jws"
    did = owner_did(owner)
    fingerprints = {i: k.public_key.fingerprint for i, k in enumerate(keys)}
    nodes = NodeSet(3, 1, fingerprints)

    assert checked_share_set(storage, link, did, PRODUCT, nodes).rows == 12
    assert checked_share_set(storage, link, did, PRODUCT, None, every_file=True).rows == 12
    with pytest.raises(ManifestMismatch, match="shared for 3 nodes"):
        checked_share_set(storage, link, did, PRODUCT, NodeSet(5, 2, fingerprints))
    other = NodeKeyPair.generate().public_key.fingerprint
    with pytest.raises(ManifestMismatch, match="node 1 is encrypted to another key"):
        checked_share_set(storage, link, did, PRODUCT, NodeSet(3, 1, {1: other}))
    stranger = owner_did(Ed25519PrivateKey.generate())
    with pytest.raises(ManifestInvalid, match="not signed by the product owner"):
        checked_share_set(storage, link, stranger, PRODUCT, nodes)

    (storage.root / signed.manifest.file_for(2).name).unlink()
    node0 = NodeSet(3, 1, {0: fingerprints[0]})
    assert checked_share_set(storage, link, did, PRODUCT, node0).rows == 12  # its own file
    with pytest.raises(ObjectNotFound, match="node-2") as missing:
        checked_share_set(storage, link, did, PRODUCT, node0, every_file=True)
    assert "share the data again" in missing.value.message
    with pytest.raises(ObjectNotFound, match="not in storage"):
        checked_share_set(storage, "nothing/here.jws", did, PRODUCT, nodes)
