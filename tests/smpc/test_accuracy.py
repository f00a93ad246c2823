"""The accuracy bounds of docs/smpc.md where the 2**-33 input rounding dominates: columns
with a tiny spread inside their range (std 0.0026 and less), on 3 MPC processes
against numpy. Each value is encoded within 2**-33 of itself, so a spread-based
statistic errs by about 2**-33 over the column's standard deviation, not by a fixed
relative amount (the old bound, rel 1e-9, did not hold there)."""

from __future__ import annotations

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.smpc.test_regression import FAST, run

ULP = 2.0**-33


@settings(max_examples=2, deadline=None, derandomize=True, phases=FAST)
@given(
    seed=st.integers(0, 2**32 - 1),
    spread=st.sampled_from([0.0026, 1e-4]),
    centre=st.sampled_from([0.5, 900.0]),
)
def test_spread_statistics_on_a_tiny_spread(seed: int, spread: float, centre: float) -> None:
    rng = np.random.default_rng(seed)
    rows = 60
    a = rng.normal(centre, spread, rows)
    b = 0.3 * (a - centre) / spread + rng.normal(0, 1, rows)
    data = pd.DataFrame({"a": a, "b": b})
    bounds = {"a": 1000.0, "b": 100.0}
    specs = [
        {"function": f, "columns": ["a", "b"]}
        for f in ("mean@1", "std@1", "covariance@1", "correlation@1")
    ]
    tables = [r.table for r in run(data, bounds, specs)]
    mean, std, cov, corr = (t for t in tables if t is not None)
    sd = data.std().to_numpy()
    assert np.all(np.abs(mean.loc["mean"].to_numpy() - data.mean().to_numpy()) <= ULP + 1e-12)
    assert np.all(np.abs(std.loc["std"].to_numpy() - sd) <= ULP + 1e-13 * sd)
    allowed_cov = ULP * np.add.outer(sd, sd) + 1e-13 * np.abs(data.cov().to_numpy())
    assert np.all(np.abs(cov.to_numpy() - data.cov().to_numpy()) <= allowed_cov)
    allowed_corr = 2 * ULP * np.add.outer(1 / sd, 1 / sd) + 1e-13
    assert np.all(np.abs(corr.to_numpy() - data.corr().to_numpy()) <= allowed_corr), (
        corr.to_numpy() - data.corr().to_numpy(),
        allowed_corr,
    )
