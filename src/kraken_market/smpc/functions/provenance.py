"""What a result table says about itself: ``DataFrame.attrs`` of a computation's result.

A data scientist keeps results in notebooks long after the purchase; the table
carries what it is (pandas ``DataFrame.attrs``, kept by copies and most
operations that keep the frame's shape): the function, its parameters, the
columns, filter and minimum cohort asked for, the number of rows it was computed
over where the function reveals it, and the accuracy bound the function was
tested to (``docs/smpc.md``, Accuracy). Runs on the buyer's machine.

``rows`` is only what the nodes revealed anyway: the count of matching rows for
functions whose outputs hold it (count, mean, variance, std, covariance,
correlation, k-means sizes, histogram counts); for the others (sum, min, max,
quantiles, regression) the nodes open no count, and ``rows`` is None rather
than a figure the buyer did not pay for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kraken_market.smpc.functions.spec import ComputationSpec

ACCURACY: dict[str, dict[str, float]] = {
    "count": {"absolute": 0.0, "relative": 0.0},
    "histogram": {"absolute": 0.0, "relative": 0.0},
    "sum": {"absolute": 1e-6, "relative": 0.0},
    "mean": {"absolute": 1e-9, "relative": 1e-12},
    "variance": {"absolute": 1e-9, "relative": 1e-9},
    "std": {"absolute": 1e-9, "relative": 1e-9},
    "covariance": {"absolute": 1e-7, "relative": 1e-9},
    "correlation": {"absolute": 1e-9, "relative": 1e-9},
    "min": {"absolute": 2**-30, "relative": 0.0},
    "max": {"absolute": 2**-30, "relative": 0.0},
    "median": {"absolute": 1e-5, "relative": 0.0},
    "quantiles": {"absolute": 1e-5, "relative": 0.0},
    "linear_regression": {"absolute": 1e-4, "relative": 1e-4},
    "kmeans": {"absolute": 1e-5, "relative": 1e-6},
}
"""Per function: the error bound of each value against the same computation in plain
floating point (|error| <= absolute + relative * |value|), as tested
(``tests/smpc/test_functions_mpc.py``) and listed in docs/smpc.md; counts and sizes
are exact. Regression's grows with the condition number of XᵀX."""


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
        "accuracy": dict(ACCURACY.get(name, {})),
        "digest": "0x" + spec.digest().hex(),
    }
