"""k-means seeded from the data (``kmeans@2``) on 3 real MPC processes, against
scikit-learn's Lloyd from the same seeds; ``kmeans@1``'s seeds over loose declared
ranges leave clusters empty, and the result says so."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sklearn.cluster import KMeans  # type: ignore[import-untyped]

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.buyer import ComputationResult
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.local import run_local
from kraken_market.smpc.node.worker import ProductInput
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory

PRODUCT = "0x" + "b1" * 32
# Loose ranges, as real schemas declare them: the data sits in a small corner.
SCHEMA = DataSchema.model_validate(
    {
        "columns": [
            {"name": "age", "type": "numeric", "min": 0, "max": 120},
            {"name": "bpm", "type": "numeric", "min": 0, "max": 250, "nullable": True},
        ]
    }
)
CENTRES = [(30.0, 60.0), (45.0, 75.0), (60.0, 90.0)]


def blobs(rows_per: int = 10, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = [rng.normal(centre, 2.0, (rows_per, 2)) for centre in CENTRES]
    data = pd.DataFrame(np.round(np.concatenate(parts), 3), columns=["age", "bpm"])
    data.loc[4, "bpm"] = np.nan  # a missing value: the row does not count
    return data


def run(data: pd.DataFrame, specs: list[dict[str, Any]]) -> list[ComputationResult]:
    keys = [NodeKeyPair.generate() for _ in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "data.csv"
        data.to_csv(path, index=False)
        store = LocalDirectory(root / "store")
        signed = share_file(
            path, PRODUCT, SCHEMA, [k.public_key for k in keys], store,
            Ed25519PrivateKey.generate(),
        )  # fmt: skip
        inputs = [
            ProductInput(
                product_id=PRODUCT,
                manifest=f"{PRODUCT}/{signed.manifest.share_set}/manifest.jws",
                owner=signed.manifest.owner,
            )
        ]
        parsed = [ComputationSpec.model_validate(s) for s in specs]
        results, _ = run_local(root / "work", root / "store", keys, inputs, parsed,
                               NodeKeyPair.generate())  # fmt: skip
    return results


def test_seeded_kmeans_finds_the_clusters_that_declared_ranges_miss() -> None:
    data = blobs()
    both = data.dropna()[["age", "bpm"]].to_numpy()
    specs = [
        {"function": "kmeans@2", "columns": ["age", "bpm"], "params": {"k": 3, "iterations": 6}},
        {"function": "kmeans@1", "columns": ["age", "bpm"], "params": {"k": 3, "iterations": 6}},
        {"function": "kmeans@2", "columns": ["age", "bpm"], "params": {"k": 3, "iterations": 1}},
    ]
    seeded, spread, once = (r.table for r in run(data, specs))
    assert seeded is not None and spread is not None and once is not None

    # The seeds are the data's quantiles (i + 0.5) / k per column (numpy 'linear').
    seeds = np.quantile(both, [(i + 0.5) / 3 for i in range(3)], axis=0)
    reference = KMeans(n_clusters=3, init=seeds, n_init=1, max_iter=6, tol=0.0,
                       algorithm="lloyd").fit(both)  # fmt: skip
    centroids = seeded[["age", "bpm"]].to_numpy()
    assert np.allclose(centroids, reference.cluster_centers_, rtol=1e-6, atol=1e-5)
    sizes = np.bincount(reference.labels_, minlength=3)
    assert seeded["size"].tolist() == sizes.tolist() and sorted(sizes) == [9, 10, 10]
    assert seeded.attrs["converged"] is True
    # rounds until no row moved: scikit-learn counts the round that confirmed it too
    assert seeded.attrs["iterations"] in (reference.n_iter_, reference.n_iter_ - 1)
    assert seeded.attrs["rows"] == len(both) and "warnings" not in seeded.attrs

    # kmeans@1 spreads its seeds over 0..120 x 0..250: the data reaches one or two.
    assert (spread["size"] == 0).any()
    assert "is empty" in spread.attrs["warnings"][0]
    assert "kmeans@2 seeds from the data" in spread.attrs["warnings"][0]

    # One round cannot show convergence.
    assert (once.attrs["iterations"], once.attrs["converged"]) == (1, False)
    first = KMeans(n_clusters=3, init=seeds, n_init=1, max_iter=1, algorithm="lloyd").fit(both)
    assert np.allclose(once[["age", "bpm"]].to_numpy(), first.cluster_centers_, atol=1e-5)
