"""A real public dataset through the running platform, with the documented commands
only, checked against the references a data scientist would use.

The data: scikit-learn's bundled diabetes study (Efron et al., 2004: 442 patients, ten
baseline measurements and a disease progression score one year later; shipped inside
the package, no download), in its original units. Two clinics sell one half each (by
the study's sex code) with the ranges a seller would honestly declare (age up to 120,
blood pressure up to 200, not the sample's own extremes). A researcher buys:

- a linear regression with its summary table over the union of both clinics, checked
  against statsmodels' OLS on all 442 rows (coefficients, standard errors, R²);
- a filtered k-means on one clinic's patients over 50, checked as k-means' own fixed
  point (each centroid the mean of the patients nearest to it) with an inertia no worse
  than scikit-learn's best of ten starts, give or take 2 %.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped]
from sklearn.cluster import KMeans  # type: ignore[import-untyped]
from sklearn.datasets import load_diabetes  # type: ignore[import-untyped]

from tests.e2e.test_cli_trade import newcomer, run, running  # noqa: F401 - the fixture
from tests.e2e.test_platform import CLI

FEATURES = ["bmi", "bp", "s5"]
TARGET = "progression"
SCHEMA = {
    "columns": [
        {"name": "age", "type": "numeric", "unit": "years", "min": 0, "max": 120},
        {"name": "sex", "type": "categorical", "categories": ["1", "2"]},
        {"name": "bmi", "type": "numeric", "unit": "kg/m2", "min": 10, "max": 70},
        {"name": "bp", "type": "numeric", "unit": "mmHg", "min": 40, "max": 200},
        {"name": "s5", "type": "numeric", "unit": "log triglycerides", "min": 2, "max": 8},
        {"name": TARGET, "type": "numeric", "min": 0, "max": 400},
    ]
}
"""What each clinic declares: plausible ranges for any patient, wider than the sample's."""


def diabetes() -> pd.DataFrame:
    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame = frame.rename(columns={"target": TARGET})[["age", "sex", *FEATURES, TARGET]]
    frame["sex"] = frame["sex"].astype(int)
    return frame


def sell(env: dict[str, str], rows: pd.DataFrame, path: Path) -> str:
    rows.to_csv(path, index=False)  # the sex code written as 1 / 2, as a CSV writer does
    schema = path.with_suffix(".schema.json")
    schema.write_text(json.dumps(SCHEMA))
    sold = run(
        env, "sell", "analytics", str(path), "--schema", str(schema), "--price", "1",
        "--purpose", "research", "--stake", "5", "--yes", "--json",
    )  # fmt: skip
    answer: dict[str, Any] = json.loads(sold.stdout)
    assert answer["rows"] == len(rows) and answer["listed"], sold.stderr
    return str(answer["product"])


def compute(
    env: dict[str, str], tmp: Path, spec: dict[str, Any], *where: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The result's CSV and what the CLI writes beside it (function, rows, accuracy...)."""
    path = tmp / f"{spec['function'].split('@')[0]}.spec.json"
    path.write_text(json.dumps(spec))
    out = tmp / f"{spec['function'].split('@')[0]}.csv"
    command = [*CLI, "trade", "compute", "--spec", str(path), *where, "--out", str(out)]
    # An MPC regression over a union, or rounds of k-means, on a shared 2-core machine
    # may take minutes: more than the CLI helper's 120 s.
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    about: dict[str, Any] = json.loads(out.with_name(out.name + ".json").read_text())
    return pd.read_csv(out, index_col=0), about


def test_a_public_dataset_through_the_platform_matches_the_references(
    running: dict[str, str],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    data = diabetes()
    north = newcomer(running, tmp_path, "North clinic")
    south = newcomer(running, tmp_path, "South clinic")
    first = sell(north, data[data.sex == 1], tmp_path / "north.csv")
    second = sell(south, data[data.sex == 2], tmp_path / "south.csv")
    created = run(
        north, "unions", "create", "--title", "Diabetes study", "--member", first,
        "--member", second, "--json",
    )  # fmt: skip
    union = json.loads(created.stdout)["id"]
    consented = json.loads(run(south, "unions", "consent", union, "--json").stdout)
    assert consented["status"] == "active", consented

    researcher = newcomer(running, tmp_path, "Rhea")
    summary, about = compute(
        researcher, tmp_path,
        {"function": "linear_regression_summary@1", "columns": FEATURES,
         "params": {"target": TARGET}},
        "--union", union,
    )  # fmt: skip
    reference = sm.OLS(data[TARGET], sm.add_constant(data[FEATURES])).fit()
    terms = ["const", *FEATURES]
    assert list(summary.index) == ["intercept", *FEATURES]
    assert np.allclose(summary["coef"], reference.params[terms], rtol=1e-6), summary
    assert np.allclose(summary["std err"], reference.bse[terms], rtol=1e-5), summary
    assert np.allclose(summary["t"], reference.tvalues[terms], rtol=1e-5), summary
    assert about["n"] == len(data) and about["df_resid"] == reference.df_resid
    assert about["r_squared"] == pytest.approx(reference.rsquared, abs=1e-6)
    assert about["residual_std_error"] == pytest.approx(np.sqrt(reference.scale), rel=1e-6)

    older = data[(data.sex == 1) & (data.age > 50)][["bmi", "s5"]].to_numpy()
    kmeans, about = compute(
        researcher, tmp_path,
        {"function": "kmeans@2", "columns": ["bmi", "s5"], "params": {"k": 2, "iterations": 6},
         "filter": {"column": "age", "op": ">", "value": 50}},
        "--product", first,
    )  # fmt: skip
    assert about["converged"] and kmeans["size"].sum() == len(older)  # in 4 rounds, as numpy
    centroids = kmeans[["bmi", "s5"]].to_numpy()
    nearest = np.argmin(((older[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
    for j, centroid in enumerate(centroids):  # Lloyd's fixed point, as the data say
        assert np.allclose(centroid, older[nearest == j].mean(axis=0), rtol=1e-4), (j, kmeans)
    inertia = ((older - centroids[nearest]) ** 2).sum()
    best = KMeans(n_clusters=2, n_init=10, random_state=0).fit(older).inertia_
    assert inertia <= best * 1.02, (inertia, best)
