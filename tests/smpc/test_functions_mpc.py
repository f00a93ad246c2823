"""Every catalogue function on 3 real MPC processes, against numpy (stated error bounds).

Hypothesis draws the data (size, scale, seed); each example runs all functions in one
MPC session (3 worker processes), so the run stays short. The bounds are those of
docs/smpc.md ("Accuracy").
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.local import run_local
from kraken_market.smpc.node.worker import ProductInput
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory

PRODUCTS = ["0x" + "a1" * 32, "0x" + "a2" * 32]
SCHEMA = DataSchema.model_validate(
    {
        "columns": [
            {"name": "age", "type": "numeric", "min": 0, "max": 120},
            {"name": "income", "type": "numeric", "min": -500, "max": 500, "nullable": True},
            {"name": "sex", "type": "categorical", "categories": ["f", "m"]},
        ]
    }
)
EDGES = [0.0, 30.0, 60.0, 121.0]
INIT = [[30.0, -50.0], [80.0, 60.0]]
SPECS: list[dict[str, Any]] = [
    {"function": "count@1", "filter": {"and": [
        {"column": "age", "op": ">=", "value": 40.5}, {"column": "sex", "op": "==", "value": "f"}]},
     "min_cohort": 1},
    {"function": "sum@1", "columns": ["age", "income"]},
    {"function": "mean@1", "columns": ["age", "income"],
     "filter": {"or": [{"column": "sex", "op": "!=", "value": "f"},
                       {"column": "income", "op": "<", "value": 0}]}, "min_cohort": 2},
    {"function": "variance@1", "columns": ["age", "income"], "params": {"ddof": 0}},
    {"function": "std@1", "columns": ["age", "income"]},
    {"function": "min@1", "columns": ["age", "income"]},
    {"function": "max@1", "columns": ["age"], "filter": {"column": "sex", "op": "==", "value": "m"},
     "min_cohort": 1},
    {"function": "histogram@1", "columns": ["age"], "params": {"edges": EDGES}},
    {"function": "median@1", "columns": ["age"]},
    {"function": "quantiles@1", "columns": ["income"], "params": {"q": [0.1, 0.75]}},
    {"function": "covariance@1", "columns": ["age", "income"]},
    {"function": "correlation@1", "columns": ["age", "income"]},
    {"function": "linear_regression@1", "columns": ["age"], "params": {"target": "income"}},
    {"function": "kmeans@1", "columns": ["age", "income"],
     "params": {"k": 2, "iterations": 3, "init": INIT}},
    {"function": "mean@1", "columns": ["age"], "min_cohort": 10_000},
]  # fmt: skip


def frame(seed: int, rows: int, scale: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 100, rows).astype(float)
    income = (scale * (age - 50) / 50 + rng.normal(0, scale / 4, rows)).round(3)
    data = pd.DataFrame({"age": age, "income": income.clip(-500, 500),
                         "sex": rng.choice(["f", "m"], rows)})  # fmt: skip
    data.loc[rng.choice(rows, 2, replace=False), "income"] = np.nan
    return data


def lloyd(x: np.ndarray, init: list[list[float]], iterations: int) -> tuple[np.ndarray, np.ndarray]:
    centroids = np.array(init, dtype=float)
    sizes = np.zeros(len(init), dtype=int)
    for _ in range(iterations):
        labels = np.argmin(((x[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
        sizes = np.bincount(labels, minlength=len(init))
        for c in range(len(init)):
            if sizes[c]:
                centroids[c] = x[labels == c].mean(axis=0)
    return centroids, sizes


def close(actual, expected, rel: float, abs_: float) -> None:
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    assert np.allclose(actual, expected, rtol=rel, atol=abs_), (actual, expected)


def within(result, expected, sd: Any = 0.0, inverse_sd: Any = 0.0, n: Any = 0) -> None:
    """``result``'s values within the bound its own ``attrs["accuracy"]`` states (the
    Accuracy table of docs/smpc.md), given the columns' spread and count."""
    accuracy = result.table.attrs["accuracy"]
    actual, expected = np.asarray(result.table, float), np.asarray(expected, float)
    allowed = (
        accuracy["absolute"]
        + accuracy["relative"] * np.abs(expected)
        + accuracy.get("per_sd", 0.0) * np.asarray(sd)
        + accuracy.get("per_inverse_sd", 0.0) * np.asarray(inverse_sd)
        + accuracy.get("per_row", 0.0) * np.asarray(n)
    )
    assert np.all(np.abs(actual - expected) <= allowed), (actual, expected, allowed)


def check(results, data: pd.DataFrame) -> None:
    t = {s["function"] + str(i): r for i, (s, r) in enumerate(zip(SPECS, results, strict=True))}
    age, income = data.age, data.income
    both = data.dropna()
    assert t["count@10"].table["count"][0] == ((age >= 40.5) & (data.sex == "f")).sum()
    within(t["sum@11"], [[age.sum(), income.sum()]], n=[age.count(), income.count()])
    chosen = data[(data.sex != "f") | (income < 0)]
    within(t["mean@12"], [[chosen.age.mean(), chosen.income.mean()]])
    sd = np.array([age.std(ddof=0), income.std(ddof=0)])
    within(t["variance@13"], [[age.var(ddof=0), income.var(ddof=0)]], sd=sd)
    within(t["std@14"], [[age.std(), income.std()]])
    close(t["min@15"].table.loc["min"], [age.min(), income.min()], 0, 2**-30)
    close(t["max@16"].table.loc["max"], [age[data.sex == "m"].max()], 0, 2**-30)
    counts, _ = np.histogram(age, EDGES)
    assert t["histogram@17"].table["age"].tolist() == counts.tolist()
    close(t["median@18"].table["age"], [age.median()], 0, 1e-6)
    close(t["quantiles@19"].table["income"], income.dropna().quantile([0.1, 0.75]), 0, 1e-5)
    sd = both[["age", "income"]].std(ddof=0).to_numpy()
    within(t["covariance@110"], both[["age", "income"]].cov(), sd=sd[:, None] + sd[None])
    within(
        t["correlation@111"],
        both[["age", "income"]].corr(),
        inverse_sd=1 / sd[:, None] + 1 / sd[None],
    )
    slope, intercept = np.polyfit(both.age, both.income, 1)
    coefficients = t["linear_regression@112"].table["coefficient"]
    close(coefficients, [intercept, slope], 1e-4, 1e-4)
    centroids, sizes = lloyd(both[["age", "income"]].to_numpy(), INIT, 3)
    kmeans = t["kmeans@113"].table
    assert kmeans["size"].tolist() == sizes.tolist()
    close(kmeans[["age", "income"]], centroids, 1e-6, 1e-5)
    assert t["mean@114"].suppressed and t["mean@114"].table is None
    attrs = {name: result.table.attrs for name, result in t.items() if result.table is not None}
    assert attrs["count@10"]["rows"] == t["count@10"].table["count"][0]
    assert (attrs["count@10"]["function"], attrs["count@10"]["min_cohort"]) == ("count@1", 1)
    assert attrs["count@10"]["accuracy"] == {"absolute": 0.0, "relative": 0.0}
    counted = {"age": len(chosen), "income": int(chosen.income.count())}
    same = len(set(counted.values())) == 1  # one figure when every column counts the same
    assert attrs["mean@12"]["rows"] == (counted["age"] if same else counted)
    assert attrs["mean@12"]["filter"] == SPECS[2]["filter"]
    assert attrs["mean@12"]["columns"] == ["age", "income"]
    assert attrs["sum@11"]["rows"] is None  # the nodes open no count for a sum
    assert attrs["histogram@17"]["rows"] == len(data)  # every age is inside the edges
    assert attrs["histogram@17"]["parameters"] == {"edges": EDGES}
    assert attrs["kmeans@113"]["rows"] == len(both)
    envelope = attrs["linear_regression@112"]["accuracy"]["envelope"]
    assert envelope["see"] == "docs/smpc.md, Accuracy: Regression, Envelope"
    assert (envelope["slope_factor"], envelope["coefficient_floor"]) == (2.0**-39, 2.0**-31)
    assert attrs["linear_regression@112"]["rows"] is None  # linear_regression@1 opens no count
    assert attrs["median@18"]["digest"] == "0x" + ComputationSpec(**SPECS[8]).digest().hex()


@settings(max_examples=2, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.tuples(st.integers(12, 20), st.integers(12, 20)),
    scale=st.sampled_from([1.0, 40.0, 400.0]),
)
def test_functions_match_numpy_on_a_union_of_two_products(seed, rows, scale) -> None:
    data = frame(seed, sum(rows), scale)
    keys = [NodeKeyPair.generate() for _ in range(3)]
    owner = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = LocalDirectory(root / "store")
        inputs = []
        for product, part in zip(PRODUCTS, (data[: rows[0]], data[rows[0] :]), strict=True):
            path = root / f"{product}.csv"
            part.to_csv(path, index=False)
            signed = share_file(path, product, SCHEMA, [k.public_key for k in keys], store, owner)
            name = f"{product}/{signed.manifest.share_set}/manifest.jws"
            inputs.append(
                ProductInput(product_id=product, manifest=name, owner=signed.manifest.owner)
            )
        specs = [ComputationSpec.model_validate(s) for s in SPECS]
        results, outcomes = run_local(root / "work", root / "store", keys, inputs, specs,
                                      NodeKeyPair.generate())  # fmt: skip
    check(results, data)
    assert outcomes[0]["results"][5]["comparisons"] > 0
