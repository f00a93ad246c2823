"""Objects of the platform's formats to upload in the storage tests (not a test module)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.access.datafile import encrypt_stream, new_data_key
from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.manifest import SignedManifest
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory
from tests.factories import SCHEMA


def data_file(product_id: str, size: int = 5000, chunk_size: int = 1024) -> bytes:
    """An encrypted data file of ``size`` random plaintext bytes."""
    sink = io.BytesIO()
    encrypt_stream(
        io.BytesIO(os.urandom(size)), sink, new_data_key(), product_id, size, chunk_size=chunk_size
    )
    return sink.getvalue()


def table(rows: int = 60, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "heart_rate": rng.integers(40, 180, rows),
            "sex": rng.choice(["f", "m", "x"], rows),
        }
    )


@dataclass
class ShareSet:
    """A share set made in a scratch directory: its objects by name, manifest last."""

    signed: SignedManifest
    objects: dict[str, bytes]
    keys: list[NodeKeyPair]
    data: pd.DataFrame

    @property
    def manifest_name(self) -> str:
        return next(name for name in self.objects if name.endswith(".jws"))

    @property
    def share_names(self) -> list[str]:
        return [name for name in self.objects if name.endswith(".kshare")]


def share_set(scratch: Path, product_id: str, owner: Ed25519PrivateKey, rows: int = 60) -> ShareSet:
    data = table(rows)
    scratch.mkdir(parents=True, exist_ok=True)
    data.to_csv(scratch / "data.csv", index=False)
    keys = [NodeKeyPair.generate() for _ in range(3)]
    store = LocalDirectory(scratch / "made")
    signed = share_file(
        scratch / "data.csv",
        product_id,
        DataSchema.model_validate(SCHEMA),
        [k.public_key for k in keys],
        store,
        owner,
    )
    names = [entry.name for entry in signed.manifest.files]
    names.append(f"{product_id}/{signed.manifest.share_set}/manifest.jws")
    return ShareSet(signed, {name: store.read(name) for name in names}, keys, data)
