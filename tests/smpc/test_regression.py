"""Linear regression on 3 real MPC processes (``smpc.local``) against statsmodels, at the
corners of the accuracy envelope of docs/smpc.md ("Regression"): many rows at wide
declared ranges, ill-conditioned features, a tiny spread inside a wide range, many
features, a filter. Each hypothesis example is one MPC session running both functions.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
import statsmodels.api as sm  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.buyer import ComputationResult
from kraken_market.smpc.functions import ols
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.local import LocalRunFailed, run_local
from kraken_market.smpc.node.worker import ProductInput
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory

PRODUCT = "0x" + "c3" * 32
FAST = (Phase.explicit, Phase.generate)
"""No shrinking: each example is an MPC session of seconds; a failure prints its data."""


def run(
    data: pd.DataFrame, bounds: dict[str, float], specs: list[dict[str, Any]]
) -> list[ComputationResult]:
    """``specs`` over ``data`` shared by an owner who declares +-bounds per column."""
    schema = DataSchema.model_validate(
        {
            "columns": [
                {
                    "name": c,
                    "type": "numeric",
                    "min": -bounds[c],
                    "max": bounds[c],
                    "nullable": bool(data[c].isna().any()),
                }
                for c in data.columns
            ]
        }
    )
    keys = [NodeKeyPair.generate() for _ in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "data.parquet"
        data.to_parquet(path)
        store = LocalDirectory(root / "store")
        signed = share_file(
            path, PRODUCT, schema, [k.public_key for k in keys], store, Ed25519PrivateKey.generate()
        )
        product = ProductInput(
            product_id=PRODUCT,
            manifest=f"{PRODUCT}/{signed.manifest.share_set}/manifest.jws",
            owner=signed.manifest.owner,
        )
        results, _ = run_local(
            root / "work",
            root / "store",
            keys,
            [product],
            [ComputationSpec.model_validate(s) for s in specs],
            NodeKeyPair.generate(),
        )
    return results


def both(features: list[str], target: str, **extra: Any) -> list[dict[str, Any]]:
    spec = {"columns": features, "params": {"target": target}, **extra}
    return [
        {"function": "linear_regression@1", **spec},
        {"function": "linear_regression_summary@1", **spec},
    ]


def reference(data: pd.DataFrame, features: list[str], target: str) -> Any:
    return sm.OLS(data[target], sm.add_constant(data[features], has_constant="add")).fit()


def standardised(coef: np.ndarray, data: pd.DataFrame, features: list[str], target: str) -> Any:
    """Coefficients in the units the envelope's bounds use: a slope times its feature's
    standard deviation over the target's; the intercept over the target's standard
    deviation (docs/smpc.md, "Regression")."""
    sd_y = data[target].std()
    slopes = coef[1:] * data[features].std().to_numpy() / sd_y
    return np.concatenate([[coef[0] / sd_y], slopes])


def envelope(
    data: pd.DataFrame, features: list[str], target: str, bounds: dict[str, float], rows: int
) -> np.ndarray:
    """The bound of docs/smpc.md ("Regression accuracy") per coefficient, in standardised
    units: 128 * cond(R) * 2**-46 / (nu**2 * phi_j**2) for a slope, phi_j = sd_j / 2**e_j
    the share of its declared range the feature spans, nu = n / 2**ceil(log2 rows); for
    the intercept, the slopes' bounds times |mean_j| / sd_j, plus 2**(e_y - 30) / sd_y."""
    sd, mean = data[features].std().to_numpy(), data[features].mean().to_numpy()
    exponents = np.array([ols.exponent(bounds[f]) for f in features])
    nu = len(data) / 2 ** ols.Layout((0,), rows, False).r
    condition = np.linalg.cond(data[features].corr().to_numpy()) if len(features) > 1 else 1.0
    slopes = 128 * condition * 2.0**-46 / (nu**2 * (sd / 2.0**exponents) ** 2) + 1e-10
    sd_y = data[target].std()
    floor = 2.0 ** (ols.exponent(bounds[target]) - 30) / sd_y
    intercept = float((np.abs(mean) / sd * slopes).sum() + floor + 1e-10)
    return np.concatenate([[intercept], slopes])


def check(
    results: list[ComputationResult],
    data: pd.DataFrame,
    features: list[str],
    target: str,
    allowed: np.ndarray,
    bounds: dict[str, float],
) -> dict[str, float]:
    """Both functions against statsmodels: coefficients within ``allowed`` (standardised
    units, :func:`envelope`); standard errors, t, R squared and the residual standard
    error within 10 times the largest slope bound, relative. Returns the errors seen."""
    fit = reference(data, features, target)
    plain, summary = results[0].table, results[1].table
    assert plain is not None
    assert summary is not None
    expected = standardised(fit.params.to_numpy(), data, features, target)
    errors = {}
    # linear_regression@1 returns fixed-point values in the columns' units: 2**-31 more
    floor = standardised(np.full(len(features) + 1, 2.0**-31), data, features, target)
    # linear_regression_summary@1 returns normalised fixed point: one 2**-32 step, scaled
    # back, is 2**(e_y - e_j - 32) in slope j's units (docs/smpc.md, the accuracy table)
    e_y = ols.exponent(bounds[target])
    normalised = np.array(
        [2.0 ** (e_y - 32)] + [2.0 ** (e_y - ols.exponent(bounds[f]) - 32) for f in features]
    )
    for name, got, bound in (
        ("plain", plain["coefficient"], allowed + floor),
        ("summary", summary["coef"], allowed + standardised(normalised, data, features, target)),
    ):
        error = np.abs(standardised(got.to_numpy(), data, features, target) - expected)
        assert np.all(error <= bound), (name, error, bound)
        errors[name] = float((error / bound).max())
    relative = {
        "std err": np.abs(summary["std err"].to_numpy() / fit.bse.to_numpy() - 1).max(),
        "t": np.abs(summary["t"].to_numpy() / fit.tvalues.to_numpy() - 1)[1:].max(),
        "r_squared": abs(summary.attrs["r_squared"] - fit.rsquared),
        "residual": abs(summary.attrs["residual_std_error"] / np.sqrt(fit.scale) - 1),
    }
    assert all(v <= 10 * allowed[1:].max() + 1e-8 for v in relative.values()), relative
    assert summary.attrs["n"] == int(fit.nobs)
    assert summary.attrs["df_resid"] == int(fit.df_resid)
    return errors | {k: float(v) for k, v in relative.items()}


@settings(max_examples=2, deadline=None, derandomize=True, phases=FAST)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.sampled_from([569, 2_000]),
    bound=st.sampled_from([600.0, 20_000.0]),
)
def test_many_rows_at_wide_ranges(seed: int, rows: int, bound: float) -> None:
    """The reported failure: one feature, n * B**2 far above 2 * 10**8 (was ~1e19)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-bound, bound, rows).round(3)
    y = (0.37 * x + 3.0 + rng.normal(0, bound / 20, rows)).clip(-bound, bound).round(3)
    data = pd.DataFrame({"x": x, "y": y})
    bounds = {"x": bound, "y": bound}
    results = run(data, bounds, both(["x"], "y"))
    check(results, data, ["x"], "y", envelope(data, ["x"], "y", bounds, rows), bounds)


@settings(max_examples=2, deadline=None, derandomize=True, phases=FAST)
@given(seed=st.integers(0, 2**32 - 1), closeness=st.sampled_from([1e-2, 5e-3]))
def test_ill_conditioned_features_and_a_tiny_spread(seed: int, closeness: float) -> None:
    """Two nearly collinear features (condition number of their correlation matrix about
    2 / closeness**2, up to 8 * 10**4), and one with standard deviation 0.0026 inside a
    declared +-1, all with a filter and a nullable column (the masked path)."""
    rng = np.random.default_rng(seed)
    rows = 240
    a = rng.normal(0, 30, rows)
    b = a + rng.normal(0, 30 * closeness, rows)
    c = rng.normal(0.5, 0.0026, rows)
    y = 2 * a - b + 1000 * c + rng.normal(0, 5, rows)
    data = pd.DataFrame({"a": a, "b": b, "c": c, "y": y, "g": rng.integers(0, 2, rows)})
    data = data.round({"a": 4, "b": 4, "c": 6, "y": 4})
    data.loc[rng.choice(rows, 5, replace=False), "y"] = np.nan
    bounds = {"a": 200.0, "b": 200.0, "c": 1.0, "y": 2000.0, "g": 1.0}
    where = {"column": "g", "op": ">", "value": 0.5}
    results = run(data, bounds, both(["a", "b", "c"], "y", filter=where))
    chosen = data[data.g > 0.5].dropna()
    allowed = envelope(chosen, ["a", "b", "c"], "y", bounds, rows)
    check(results, chosen, ["a", "b", "c"], "y", allowed, bounds)


def test_many_features() -> None:
    """Eight features over a few hundred rows (ten or thirty were garbage; the time grows
    as p**3: docs/smpc.md)."""
    rng = np.random.default_rng(7)
    rows, p = 250, 8
    x = rng.normal(0, 10, (rows, p))
    y = x @ rng.normal(0, 1, p) + rng.normal(0, 3, rows)
    features = [f"x{j}" for j in range(p)]
    data = pd.DataFrame(x, columns=features).assign(y=y).round(4)
    bounds = dict.fromkeys(data.columns, 300.0)
    results = run(data, bounds, both(features, "y"))
    check(results, data, features, "y", envelope(data, features, "y", bounds, rows), bounds)


def test_collinear_features_fail_instead_of_answering() -> None:
    rng = np.random.default_rng(8)
    a = rng.normal(0, 10, 200).round(3)
    data = pd.DataFrame({"a": a, "b": 2 * a, "y": a + rng.normal(0, 1, 200).round(3)})
    with pytest.raises(LocalRunFailed, match="design_ill_conditioned"):
        run(data, dict.fromkeys(data.columns, 100.0), both(["a", "b"], "y")[:1])


def test_without_intercept_as_statsmodels_without_a_constant() -> None:
    """Uncentred moments, n - p residual degrees of freedom, uncentred R squared."""
    rng = np.random.default_rng(9)
    x = rng.uniform(0, 50, (150, 2))
    data = pd.DataFrame(x, columns=["a", "b"]).assign(y=x @ [1.5, -0.25] + rng.normal(0, 2, 150))
    data = data.round(4)
    bounds = {"a": 50.0, "b": 50.0, "y": 200.0}
    spec = {"columns": ["a", "b"], "params": {"target": "y", "intercept": False}}
    plain, summary = (r.table for r in run(data, bounds, [
        {"function": "linear_regression@1", **spec},
        {"function": "linear_regression_summary@1", **spec},
    ]))  # fmt: skip
    fit = sm.OLS(data["y"], data[["a", "b"]]).fit()
    assert plain is not None
    assert summary is not None
    assert list(summary.index) == ["a", "b"]
    assert np.allclose(plain["coefficient"], fit.params, rtol=1e-9)
    assert np.allclose(summary["coef"], fit.params, rtol=1e-9)
    assert np.allclose(summary["std err"], fit.bse, rtol=1e-7)
    assert summary.attrs["df_resid"] == 148
    assert summary.attrs["r_squared"] == pytest.approx(fit.rsquared, abs=1e-9)
    # a near-perfect fit (R squared 0.996) amplifies the coefficients' error in the
    # residual sum by about 1 / (1 - R squared): docs/smpc.md
    residual = summary.attrs["residual_std_error"]
    assert residual == pytest.approx(np.sqrt(fit.scale), rel=4e-9 / (1 - fit.rsquared))


def test_an_exact_fit_finishes() -> None:
    """A target that is exactly 3a - 2b + 7: the residual sum is 0 and the fixed-point
    solve lands it within the slopes' rounding of 0 (from -1 to about 95 units of 2**-46
    from run to run here);
    the summary still finishes (was a math domain error below 0): residual standard
    error about 0, R squared at most 1, n revealed as its rows, its envelope stated
    with the exponents and nu it reveals anyway. ``test_functions_spec`` pins the
    negative case exactly."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 15, 80).round(3), rng.normal(0, 15, 80).round(3)
    data = pd.DataFrame({"a": a, "b": b, "y": (3 * a - 2 * b + 7).round(3)})
    bounds = {"a": 50.0, "b": 50.0, "y": 300.0}
    plain, summary = (r.table for r in run(data, bounds, both(["a", "b"], "y")))
    assert plain is not None
    assert summary is not None
    envelope_attrs = summary.attrs["accuracy"]["envelope"]
    floor = envelope_attrs["coefficient_floor"]
    assert floor == {"a": 2.0**-29, "b": 2.0**-29}  # e_y - e_j = 9 - 6
    allowed = envelope(data, ["a", "b"], "y", bounds, len(data)) + standardised(
        np.array([0.0, floor["a"], floor["b"]]), data, ["a", "b"], "y"
    )
    got = standardised(summary["coef"].to_numpy(), data, ["a", "b"], "y")
    assert np.all(
        np.abs(got - standardised(np.array([7.0, 3, -2]), data, ["a", "b"], "y")) <= allowed
    )
    # R = K_yy - sum_j K_yj b_j with |K_yj| <= 1 and each normalised slope b_j rounded to
    # 2**-32 steps: R is off by at most p 2**-32 (p 2**14 units of 2**-46; a run here
    # gave about 95 units), in the target's units RSS = R 2**(2 e_y) N**2 / n: docs/smpc.md
    floor = np.sqrt(2 * 2.0**-32 * 2.0 ** (2 * 9) * 128**2 / 80 / 77)
    assert 0.0 <= summary.attrs["residual_std_error"] <= floor
    # 1 - R squared is R over the centred total, the same bound on R: RSS / TSS
    total = float(((data["y"] - data["y"].mean()) ** 2).sum())
    slack = 2 * 2.0**-32 * 2.0 ** (2 * 9) * 128**2 / 80 / total
    assert 1 - slack <= summary.attrs["r_squared"] <= 1.0
    assert (summary.attrs["n"], summary.attrs["rows"], summary.attrs["df_resid"]) == (80, 80, 77)
    assert envelope_attrs["exponents"] == {"a": 6, "b": 6, "y": 9}
    assert envelope_attrs["nu"] == 80 / 128
    assert plain.attrs["rows"] is None
    assert plain.attrs["accuracy"]["envelope"]["coefficient_floor"] == 2.0**-31
