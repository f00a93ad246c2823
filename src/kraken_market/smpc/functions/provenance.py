"""What a result table says about itself: ``DataFrame.attrs`` of a computation's result.

A data scientist keeps results in notebooks long after the purchase; the table
carries what it is (pandas ``DataFrame.attrs``, kept by copies and most
operations that keep the frame's shape): the function, its parameters, the
columns, filter and minimum cohort asked for, the number of rows it was computed
over where the function reveals it, and the accuracy bound the function was
tested to (``docs/smpc.md``, Accuracy). Runs on the buyer's machine.

``rows`` is only what the nodes revealed anyway: the count of matching rows for
functions whose outputs hold it (count, mean, variance, std, covariance,
correlation, the regression summary's n, k-means sizes, histogram counts); for
the others (sum, min, max, quantiles, ``linear_regression@1``) the nodes open no
count, and ``rows`` is None rather than a figure the buyer did not pay for.
"""

from __future__ import annotations

import copy
from typing import Any, Final

import numpy as np

from kraken_market.smpc.functions.spec import ComputationSpec

U: Final = 2.0**-33
"""The encoding's error: a value x is held as x + δ, |δ| <= 2**-33 (32 fractional bits)."""

_ENVELOPE: Final[dict[str, Any]] = {
    "see": "docs/smpc.md, Accuracy: Regression, Envelope",
    "units": "standardised: a slope times sd_j / sd_y, the intercept over sd_y",
    "slope": "slope_factor * κ / (nu² φ_j²) + slope_absolute",
    "intercept": "Σ_j (|x̄_j| / sd_j) * slope bound_j + 2**(e_y - 30) / sd_y",
    "parameters": "κ: condition number of the features' correlation matrix; nu = n / N, "
    "N = 2**r >= rows; φ_j = sd_j / 2**e_j, e_j = max(0, ceil(log2 B_j)) of the declared "
    "bound B_j",
    "slope_factor": 128 * 2.0**-46,
    "slope_absolute": 1e-10,
}

ACCURACY: Final[dict[str, dict[str, Any]]] = {
    "count": {"absolute": 0.0, "relative": 0.0},
    "histogram": {"absolute": 0.0, "relative": 0.0},
    "sum": {"absolute": 0.0, "relative": 0.0, "per_row": U},
    "mean": {"absolute": U, "relative": 1e-12},
    "variance": {"absolute": U**2, "relative": 1e-13, "per_sd": 2 * U},
    "std": {"absolute": U, "relative": 1e-13},
    "covariance": {"absolute": U**2, "relative": 1e-13, "per_sd": U},
    "correlation": {"absolute": 1e-13, "relative": 0.0, "per_inverse_sd": 2 * U},
    "min": {"absolute": 2.0**-30, "relative": 0.0},
    "max": {"absolute": 2.0**-30, "relative": 0.0},
    # 1e-6 where the count is public (no filter, no nullable column); the result does
    # not say which columns were nullable, so the bound that holds either way
    "median": {"absolute": 1e-5, "relative": 0.0},
    "quantiles": {"absolute": 1e-5, "relative": 0.0},
    "linear_regression": {"envelope": _ENVELOPE | {"coefficient_floor": 2.0**-31}},
    "linear_regression_summary": {"envelope": _ENVELOPE | {"statistics_relative": 10.0}},
    "kmeans": {"absolute": 1e-5, "relative": 1e-6},
}
"""Per function, the bound of docs/smpc.md's Accuracy table on each value against the
same computation in plain floating point (counts and sizes are exact):

|error| <= absolute + relative·|value| + per_row·n + per_sd·(sd, or sd_x + sd_y)
+ per_inverse_sd·(1/sd_x + 1/sd_y),

sd a column's standard deviation over the rows that count: the encoding's error is
small against the value only where the spread is large. Regression states its
``envelope`` instead (standardised units, growing with the condition number);
``coefficient_floor`` is the fixed-point step in each coefficient's own units
(``linear_regression@1``: 2**-31; the summary's normalised slopes: 2**(e_y - e_j - 32)
per feature, given with the exponents its outputs reveal), and the summary's std err,
t, R² and residual standard error are within ``statistics_relative`` times the largest
slope bound, relative. Tested in ``tests/smpc/test_functions_mpc.py``,
``test_accuracy.py`` and ``test_regression.py``."""


def _accuracy(name: str, values: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    """The function's bound; a summary also says the envelope's parameters it reveals
    anyway (the exponents of the declared ranges, and nu = n / N)."""
    accuracy = copy.deepcopy(ACCURACY.get(name, {}))
    if name == "linear_regression_summary" and "scales" in values and "count" in values:
        scales = [round(float(v)) for v in np.ravel(values["scales"])]
        envelope = accuracy["envelope"]
        envelope["exponents"] = dict(zip(columns, scales[:-1], strict=True))
        # its normalised slopes are fixed point: one step 2**-32 is 2**(e_y - e_j - 32)
        # in the slope's own units
        e_y = scales[-2]
        envelope["coefficient_floor"] = {
            c: 2.0 ** (e_y - e - 32) for c, e in zip(columns[:-1], scales[:-2], strict=True)
        }
        envelope["nu"] = float(values["count"].item()) / 2.0 ** scales[-1]
    return accuracy


def _count(values: dict[str, Any], name: str, columns: list[str]) -> int | dict[str, int] | None:
    """Rows computed over, as far as the function's outputs reveal them."""
    if name == "kmeans" and "sizes" in values:
        return int(sum(float(v) for v in np.ravel(values["sizes"])))
    if name == "histogram" and "counts" in values:
        # one row of bin counts per column: rows inside the edges, per column
        per_column = np.rint(np.vectorize(float, otypes=[float])(values["counts"])).sum(axis=-1)
        totals = [int(t) for t in np.ravel(per_column)]
        if len(totals) == len(columns) and len(set(totals)) > 1:
            return dict(zip(columns, totals, strict=True))
        return totals[0] if totals else None
    if "count" not in values:
        return None
    counts = [int(c) for c in np.ravel(values["count"])]
    if len(counts) == 1:
        return counts[0]
    if len(set(counts)) == 1:
        return counts[0]
    return dict(zip(columns, counts, strict=True))  # nullable columns: per column


def result_attrs(
    spec: ComputationSpec, columns: list[str], values: dict[str, Any]
) -> dict[str, Any]:
    """The ``attrs`` of ``spec``'s result table (``values``: the decoded outputs)."""
    name = spec.function.split("@")[0]
    return {
        "function": spec.function,
        "parameters": dict(spec.params),
        "columns": list(columns),
        "filter": spec.model_dump(mode="json", by_alias=True)["filter"],
        "min_cohort": spec.min_cohort,
        "rows": _count(values, name, columns),
        "accuracy": _accuracy(name, values, columns),
        "digest": "0x" + spec.digest().hex(),
    }
