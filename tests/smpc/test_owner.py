"""share_file end to end: read, validate, encode, split, encrypt, upload, sign."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.catalog.schemas import DataSchema
from kraken_market.identity.dids import did_key
from kraken_market.smpc import fixedpoint, shamir
from kraken_market.smpc.envelope import open_envelope
from kraken_market.smpc.errors import DataInvalid, NotNumeric, SharingInvalid
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.manifest import check_share_file, verify_manifest
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.share_format import ShareFile, parse
from kraken_market.smpc.storage import LocalDirectory

PRODUCT = "0x" + "42" * 32
SCHEMA = DataSchema.model_validate(
    {
        "columns": [
            {"name": "steps", "type": "numeric", "min": 0},
            {"name": "weight", "type": "numeric", "nullable": True},
            {"name": "region", "type": "categorical", "categories": ["north", "south"]},
        ]
    }
)


@pytest.fixture(scope="module")
def keys() -> list[NodeKeyPair]:
    return [NodeKeyPair.generate() for _ in range(3)]


@pytest.fixture(scope="module")
def owner() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def frame(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weight = rng.normal(70, 12, rows).round(3)
    weight[::11] = np.nan
    return pd.DataFrame(
        {
            "steps": rng.integers(0, 30_000, rows),
            "weight": weight,
            "region": rng.choice(["north", "south"], rows),
            "name": "not shared",
        }
    )


def node_files(storage, manifest, keys) -> list[ShareFile]:
    files = []
    for i, key in enumerate(keys):
        data = storage.read(manifest.file_for(i).name)
        check_share_file(manifest, i, data, key.public_key.fingerprint)
        files.append(parse(open_envelope(data, key, PRODUCT, i)))
    return files


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_shares_recombine_to_the_data(tmp_path: Path, keys, owner, suffix: str) -> None:
    data = frame(1000)
    path = tmp_path / f"data.{suffix}"
    data.to_csv(path, index=False) if suffix == "csv" else data.to_parquet(path)
    storage = LocalDirectory(tmp_path / "store")
    seen: list[tuple[int, int]] = []
    signed = share_file(
        path,
        PRODUCT,
        SCHEMA,
        [k.public_key for k in keys],
        storage,
        owner,
        lambda done, total: seen.append((done, total)),
        batch_rows=300,
    )
    assert seen == [(300, 1000), (600, 1000), (900, 1000), (1000, 1000)]
    manifest = verify_manifest(signed.jws, did_key(owner.public_key()), PRODUCT)
    assert manifest == signed.manifest
    assert (manifest.m, manifest.t, manifest.rows) == (3, 1, 1000)
    assert storage.read(f"{PRODUCT}/{manifest.share_set}/manifest.jws").decode() == signed.jws
    files = node_files(storage, manifest, keys)
    assert [f.header.node_index for f in files] == [0, 1, 2]
    for pair in ([0, 1], [1, 2], [0, 2]):
        secrets = shamir.recombine([(i + 1, files[i].elements) for i in pair], 1)
        values = fixedpoint.decode(secrets)
        assert values[0].tolist() == data.steps.tolist()
        assert np.allclose(values[1], data.weight.fillna(0), rtol=0, atol=2**-32)
        assert values[2].tolist() == data.weight.notna().astype(float).tolist()
        assert values[3].tolist() == (data.region == "north").astype(float).tolist()
    # a single node's shares look nothing like the data
    assert not np.allclose(fixedpoint.decode(files[0].elements)[0], data.steps)


def test_bytes_per_value_per_node_is_at_most_17(tmp_path: Path, keys, owner) -> None:
    data = frame(20_000)
    data.to_parquet(tmp_path / "d.parquet")
    storage = LocalDirectory(tmp_path / "store")
    signed = share_file(
        tmp_path / "d.parquet", PRODUCT, SCHEMA, [k.public_key for k in keys], storage, owner
    )
    values = 20_000 * len(signed.manifest.columns)
    for entry in signed.manifest.files:
        assert entry.size / values <= 17
        assert (tmp_path / "store" / entry.name).stat().st_size == entry.size


def test_invalid_data_stores_nothing(tmp_path: Path, keys, owner) -> None:
    data = frame(100).astype({"steps": object})
    data.loc[77, "steps"] = "lots"
    data.to_csv(tmp_path / "d.csv", index=False)
    storage = LocalDirectory(tmp_path / "store")
    with pytest.raises(NotNumeric, match=r"^row 78, column 'steps': 'lots' is not a number"):
        share_file(
            tmp_path / "d.csv",
            PRODUCT,
            SCHEMA,
            [k.public_key for k in keys],
            storage,
            owner,
            batch_rows=32,
        )
    leftovers = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert leftovers == []


def test_sharing_parameters_are_checked(tmp_path: Path, keys, owner) -> None:
    frame(5).to_csv(tmp_path / "d.csv", index=False)
    storage = LocalDirectory(tmp_path / "store")
    args = (tmp_path / "d.csv", PRODUCT, SCHEMA)
    with pytest.raises(SharingInvalid, match="2t < m"):
        share_file(*args, [k.public_key for k in keys[:2]], storage, owner)
    with pytest.raises(SharingInvalid, match="2t < m"):
        share_file(*args, [k.public_key for k in keys], storage, owner, t=2)
    with pytest.raises(SharingInvalid, match="same public key"):
        share_file(*args, [keys[0].public_key] * 3, storage, owner)
    with pytest.raises(SharingInvalid, match="0x followed by 64 hex"):
        share_file(tmp_path / "d.csv", "0x12", SCHEMA, [k.public_key for k in keys], storage, owner)
    (tmp_path / "empty.csv").write_text("steps,weight,region\n")
    with pytest.raises(DataInvalid, match="no data rows"):
        share_file(
            tmp_path / "empty.csv", PRODUCT, SCHEMA, [k.public_key for k in keys], storage, owner
        )


def test_five_nodes_threshold_two(tmp_path: Path, owner) -> None:
    keys = [NodeKeyPair.generate() for _ in range(5)]
    data = frame(50)
    data.to_csv(tmp_path / "d.csv", index=False)
    storage = LocalDirectory(tmp_path / "store")
    signed = share_file(
        tmp_path / "d.csv", PRODUCT, SCHEMA, [k.public_key for k in keys], storage, owner
    )
    assert (signed.manifest.m, signed.manifest.t) == (5, 2)
    files = node_files(storage, signed.manifest, keys)
    secrets = shamir.recombine([(i + 1, files[i].elements) for i in (4, 1, 3)], 2)
    assert fixedpoint.decode(secrets)[0].tolist() == data.steps.tolist()
