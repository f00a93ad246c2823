"""The buyer's side of a function: exact decoding, divisions, the result table.

The recombined field elements are decoded exactly (centred lift, then a
:class:`~fractions.Fraction` over 2**32, or 2**64 for exact products), so the
divisions by a count that the nodes leave to the buyer (mean, variance,
covariance) are exact rational arithmetic; only the last step (a square root,
a conversion to float) rounds. Which outputs are divided here is listed in
``docs/smpc.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from kraken_market.smpc.field import FieldArray, P
from kraken_market.smpc.functions import ols
from kraken_market.smpc.functions.catalogue import Histogram, Quantiles, function_of
from kraken_market.smpc.functions.plan import SCALES
from kraken_market.smpc.functions.spec import ComputationSpec

Values = dict[str, np.ndarray[Any, Any]]


def lift(element: int) -> int:
    """The centred representative of a field element (negative above (P - 1) / 2)."""
    return element - P if element > (P - 1) // 2 else element


def decode_outputs(elements: FieldArray, outputs: Sequence[tuple[str, tuple[int, ...]]]) -> Values:
    """Each named output as an array of exact Fractions, in its shape."""
    flat = elements.to_ints()
    expected = sum(math.prod(shape) for _, shape in outputs)
    if len(flat) != expected:
        raise ValueError(f"{len(flat)} result values for outputs of {expected}")
    values: Values = {}
    offset = 0
    for name, shape in outputs:
        size = math.prod(shape)
        scale = 1 << (32 * SCALES.get(name, 1))
        part = [Fraction(lift(v), scale) for v in flat[offset : offset + size]]
        values[name] = np.array(part, dtype=object).reshape(shape)
        offset += size
    return values


def _floats(values: Any) -> np.ndarray[Any, Any]:
    floats: np.ndarray[Any, Any] = np.vectorize(float, otypes=[float])(values)
    return floats


def _spread(values: Values, ddof: int) -> np.ndarray[Any, Any]:
    n, s, ss = values["count"], values["sum"], values["sum_squares"]
    return np.array(
        [
            (n[j] * ss[j] - s[j] ** 2) / (n[j] * (n[j] - ddof)) if n[j] > ddof else Fraction(0)
            for j in range(len(n))
        ],
        dtype=object,
    )


def _covariance(values: Values, ddof: int) -> np.ndarray[Any, Any]:
    n, s, c = values["count"][()], values["sum"], values["cross"]
    d = len(s)
    if n <= ddof:
        return np.full((d, d), Fraction(0), dtype=object)
    return np.array(
        [[(n * c[i, j] - s[i] * s[j]) / (n * (n - ddof)) for j in range(d)] for i in range(d)],
        dtype=object,
    )


def _summary(values: Values, cols: list[str], intercept: bool) -> pd.DataFrame:
    """The statsmodels-like table from the normalised outputs (docs/smpc.md, "Regression"):
    coef, std err, t per coefficient; n, R squared, residual standard error and residual
    degrees of freedom in ``attrs``. Exact rational arithmetic up to the square roots."""
    p = len(cols) - 1
    n = round(Fraction(values["count"].item()))
    scales = [round(Fraction(v)) for v in values["scales"].tolist()]
    e, e_y, big_n = scales[:p], scales[p], Fraction(2) ** scales[p + 1]
    normalised, inverse = values["coefficients"], values["inverse_diagonal"]
    guard = Fraction(2) ** ols.GUARD
    # An exact or near-exact fit leaves R = K_yy - K_xy'β' at 0; the fixed-point solve
    # can land a few units of 2**-46 below it. A residual sum is never negative, so it is
    # clamped once here, before the variance, R² and the residual standard error use it.
    residual = max(values["residual"][()] / guard, Fraction(0))
    total = values["total"][()] / guard
    nu = Fraction(n) / big_n
    to_sums = big_n**2 / n if intercept else big_n  # K = nu**2 cov(u), or A = sum uu / N
    dof = n - p - int(intercept)
    unit = Fraction(2) ** (2 * e_y)
    variance = residual / dof if dof > 0 else Fraction(0)
    coefficients, variances = [], []
    if intercept:
        coefficients.append(normalised[0] * 2**e_y)
        variances.append(variance * unit * (1 / nu**2 + values["intercept_factor"][()]))
    for j in range(p):
        scale = Fraction(2) ** (e_y - e[j])
        coefficients.append(normalised[int(intercept) + j] * scale)
        variances.append(variance * max(inverse[j], Fraction(0)) * scale**2)
    coef = np.array([float(c) for c in coefficients])
    error = (
        np.sqrt(np.array([float(v) for v in variances])) if dof > 0 else np.full(len(coef), np.nan)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        t = coef / error
    index = (["intercept"] if intercept else []) + cols[:-1]
    frame = pd.DataFrame({"coef": coef, "std err": error, "t": t}, index=index)
    residual_sum = residual * to_sums * unit
    frame.attrs = {
        "n": n,
        "r_squared": float(min(1 - residual / total, Fraction(1))) if total > 0 else float("nan"),
        "residual_std_error": math.sqrt(float(residual_sum / dof)) if dof > 0 else float("nan"),
        "df_resid": dof,
    }
    return frame


def finish(spec: ComputationSpec, columns: Sequence[str], values: Values) -> pd.DataFrame:
    """The result table the buyer sees for ``spec`` over ``columns``."""
    function, params = function_of(spec)
    name = function.id.split("@")[0]
    cols = list(columns)
    ddof = int(getattr(params, "ddof", 1))
    if name == "count":
        return pd.DataFrame({"count": [int(values["count"].item())]})
    if name in ("sum", "min", "max"):
        return pd.DataFrame([_floats(values[name])], index=[name], columns=cols)
    if name == "mean":
        n, s = values["count"], values["sum"]
        return pd.DataFrame([_floats(s / n)], index=["mean"], columns=cols)
    if name in ("variance", "std"):
        spread = _floats(_spread(values, ddof))
        return pd.DataFrame(
            [spread if name == "variance" else np.sqrt(spread)], index=[name], columns=cols
        )
    if name == "histogram":
        assert isinstance(params, Histogram)
        counts = np.rint(_floats(values["counts"])).astype(int).T
        frame = pd.DataFrame({"lower": params.edges[:-1], "upper": params.edges[1:]})
        return pd.concat([frame, pd.DataFrame(counts, columns=cols)], axis=1)
    if name in ("median", "quantiles"):
        q = params.q if isinstance(params, Quantiles) else [0.5]
        return pd.DataFrame(_floats(values["quantiles"]), index=pd.Index(q, name="q"), columns=cols)
    if name in ("covariance", "correlation"):
        cov = _floats(_covariance(values, ddof))
        if name == "correlation":
            sd = np.sqrt(np.diag(cov))
            with np.errstate(invalid="ignore", divide="ignore"):
                cov = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)
        return pd.DataFrame(cov, index=cols, columns=cols)
    if name == "linear_regression":
        intercept = bool(getattr(params, "intercept", True))
        index = (["intercept"] if intercept else []) + cols[:-1]
        return pd.DataFrame({"coefficient": _floats(values["coefficients"])}, index=index)
    if name == "linear_regression_summary":
        return _summary(values, cols, bool(getattr(params, "intercept", True)))
    assert name == "kmeans"
    frame = pd.DataFrame(_floats(values["centroids"]), columns=cols)
    frame["size"] = np.rint(_floats(values["sizes"])).astype(int)
    frame.index.name = "cluster"
    if "iterations" in values:  # kmeans@2 says how the rounds went
        frame.attrs["iterations"] = round(float(values["iterations"].item()))
        frame.attrs["converged"] = bool(round(float(values["converged"].item())))
    empty = [int(c) for c in frame.index[frame["size"] == 0]]
    if empty:  # an empty cluster keeps its seed: a centroid no row is near
        frame.attrs["warnings"] = [
            f"cluster {c} is empty: its centroid is where it started, not a mean of rows"
            + ("" if "iterations" in values else " (kmeans@2 seeds from the data)")
            for c in empty
        ]
    return frame
