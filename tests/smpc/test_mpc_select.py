"""Order statistics by secure radix selection (``functions/mpc_select.py``) on 3 real MPC
processes, against numpy: values at the declared bounds, ties, negative ranges, all
values equal, no declared range, a secret count (filters, missing values), one row.

Each session runs every case as one computation list, so the MPC start-up is paid once;
the bounds are those of docs/smpc.md ("Accuracy": median and quantiles abs 10^-6, 10^-5
with a secret count; min and max abs 2^-30).
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.buyer import ComputationResult
from kraken_market.smpc.functions.mpc_select import mobius
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.local import run_local
from kraken_market.smpc.node.worker import ProductInput
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory

PRODUCT = "0x" + "c3" * 32
Q = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0]


def run(
    data: pd.DataFrame,
    columns: list[dict[str, Any]],
    specs: list[dict[str, Any]],
    nodes: int = 3,
) -> list[ComputationResult]:
    """``specs`` on ``data`` shared among ``nodes`` local nodes (threshold: the largest
    with 2t < m)."""
    schema = DataSchema.model_validate({"columns": columns})
    keys = [NodeKeyPair.generate() for _ in range(nodes)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = LocalDirectory(root / "store")
        path = root / "data.csv"
        data.to_csv(path, index=False)
        signed = share_file(path, PRODUCT, schema, [k.public_key for k in keys], store,
                            Ed25519PrivateKey.generate())  # fmt: skip
        name = f"{PRODUCT}/{signed.manifest.share_set}/manifest.jws"
        product = ProductInput(product_id=PRODUCT, manifest=name, owner=signed.manifest.owner)
        results, _ = run_local(root / "work", root / "store", keys, [product],
                               [ComputationSpec.model_validate(s) for s in specs],
                               NodeKeyPair.generate(), t=(nodes - 1) // 2)  # fmt: skip
    return results


def close(result: ComputationResult, expected: Any, bound: float) -> None:
    assert result.table is not None, result
    actual = np.asarray(result.table, float).reshape(-1)
    wanted = np.asarray(expected, float).reshape(-1)
    assert np.all(np.abs(actual - wanted) <= bound), (actual, wanted)


def test_mobius_turns_the_products_of_bits_into_the_indicators_of_digits() -> None:
    for g in range(1, 5):
        matrix = mobius(g)
        for bits in itertools.product([0, 1], repeat=g):  # bits[i]: bit i of the digit
            products = [
                int(all(bits[i] for i in range(g) if mask >> i & 1)) for mask in range(1 << g)
            ]
            digit = sum(b << i for i, b in enumerate(bits))
            indicators = matrix @ np.array(products, dtype=object)
            assert indicators.tolist() == [int(v == digit) for v in range(1 << g)]


EDGE_COLUMNS: list[dict[str, Any]] = [
    {"name": "edge", "type": "numeric", "min": 0, "max": 100},
    {"name": "neg", "type": "numeric", "min": -500, "max": -100},
    {"name": "same", "type": "numeric", "min": -1, "max": 1},
    {"name": "ties", "type": "numeric", "min": 0, "max": 10},
    {"name": "wide", "type": "numeric"},  # no declared range: the full fixed-point range
    {"name": "gaps", "type": "numeric", "min": 0, "max": 50, "nullable": True},
]


def edge_frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = 21
    edge = rng.uniform(0, 100, rows).round(3)
    edge[[0, 5]] = 0.0  # at the declared bounds, and tied there
    edge[[3, 9]] = 100.0
    gaps = rng.uniform(0, 50, rows).round(2)
    gaps[[1, 4, 7]] = np.nan
    return pd.DataFrame({
        "edge": edge,
        "neg": np.concatenate([[-500.0, -100.0], rng.uniform(-500, -100, rows - 2).round(4)]),
        "same": np.full(rows, 0.25),
        "ties": rng.integers(0, 4, rows).astype(float),
        "wide": rng.normal(0, 1e8, rows).round(1),
        "gaps": gaps,
    })  # fmt: skip


def test_order_statistics_at_the_edges_match_numpy() -> None:
    data = edge_frame()
    names = list(data.columns)
    one = {"column": "edge", "op": ">=", "value": 100.0}  # two rows (tied at the bound)
    single = {"column": "neg", "op": "==", "value": -500.0}  # exactly one row
    specs: list[dict[str, Any]] = [
        {"function": "median@1", "columns": names, "min_cohort": 1},
        {"function": "quantiles@1", "columns": names, "params": {"q": Q}, "min_cohort": 1},
        {"function": "quantiles@1", "columns": names, "params": {"q": Q}, "filter": one,
         "min_cohort": 1},
        {"function": "median@1", "columns": ["edge", "neg", "ties"], "filter": single,
         "min_cohort": 1},
        {"function": "quantiles@1", "columns": ["ties", "gaps"], "params": {"q": Q},
         "filter": {"column": "ties", "op": "<", "value": 2}, "min_cohort": 1},
        {"function": "min@1", "columns": names, "min_cohort": 1},
        {"function": "max@1", "columns": names, "min_cohort": 1},
    ]  # fmt: skip
    median, quantiles, filtered, alone, tied, low, high = run(data, EDGE_COLUMNS, specs)
    exact = names[:-1]  # every row counts: a public count, abs 10^-6; "gaps": a secret one
    assert median.table is not None and quantiles.table is not None
    close(median, [data.median().tolist()], 1e-5)
    assert np.all(np.abs(median.table[exact].to_numpy() - data[exact].median().to_numpy()) <= 1e-6)
    close(quantiles, data.quantile(Q), 1e-5)
    public = quantiles.table[exact].to_numpy()
    assert np.all(np.abs(public - data[exact].quantile(Q).to_numpy()) <= 1e-6), public
    chosen = data[data.edge >= 100.0]
    close(filtered, chosen.quantile(Q), 1e-5)
    close(alone, [data[data.neg == -500.0][["edge", "neg", "ties"]].median().tolist()], 1e-5)
    some = data[data.ties < 2]
    close(tied, pd.concat([some.ties.quantile(Q), some.gaps.dropna().quantile(Q)], axis=1), 1e-5)
    close(low, [data.min().tolist()], 2**-30)
    close(high, [data.max().tolist()], 2**-30)


def test_one_row_is_its_own_median_quantiles_minimum_and_maximum() -> None:
    data = pd.DataFrame({"x": [-7.125], "y": [3.0]})
    columns = [
        {"name": "x", "type": "numeric", "min": -7.125, "max": 0},
        {"name": "y", "type": "numeric", "min": 3, "max": 3},
    ]
    specs = [
        {"function": f, "columns": ["x", "y"], "min_cohort": 1}
        for f in ("median@1", "min@1", "max@1")
    ] + [{"function": "quantiles@1", "columns": ["x", "y"], "params": {"q": Q}, "min_cohort": 1}]
    for result in run(data, columns, specs):
        assert result.table is not None
        assert np.all(np.asarray(result.table, float) == np.array([[-7.125, 3.0]])), result.table


@settings(max_examples=2, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(2, 40),
    low=st.sampled_from([-1000.0, -3.5, 0.0, 250.0]),
    span=st.sampled_from([1.0, 37.25, 5000.0]),
    step=st.sampled_from([0.0, 0.001, 0.25, 1.0]),  # 0: continuous; else heavy ties
)
def test_quantiles_match_numpy_on_drawn_data(seed, rows, low, span, step) -> None:
    rng = np.random.default_rng(seed)
    values = rng.uniform(low, low + span, rows)
    if step:
        values = np.clip(np.round((values - low) / step) * step + low, low, low + span)
    values[rng.integers(0, rows)] = low + span  # one value at the upper bound
    keep = rng.random(rows) < 0.6
    data = pd.DataFrame({"x": values.round(6), "keep": np.where(keep, 1.0, 0.0)})
    columns = [
        {"name": "x", "type": "numeric", "min": low, "max": low + span},
        {"name": "keep", "type": "numeric", "min": 0, "max": 1},
    ]
    q = sorted(rng.uniform(0, 1, 3).round(3).tolist())
    specs = [
        {"function": "quantiles@1", "columns": ["x"], "params": {"q": q}, "min_cohort": 1},
        {"function": "quantiles@1", "columns": ["x"], "params": {"q": q}, "min_cohort": 1,
         "filter": {"column": "keep", "op": ">", "value": 0.5}},
    ]  # fmt: skip
    every, some = run(data, columns, specs)
    close(every, data.x.quantile(q), 1e-6)
    if keep.any():
        close(some, data.x[keep].quantile(q), 1e-5)
