"""The function catalogue, computation specs and plans (pure: no MPC)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.columns import expand
from kraken_market.smpc.field import FieldArray, P
from kraken_market.smpc.functions import ols
from kraken_market.smpc.functions.catalogue import CATALOGUE, describe, function_of
from kraken_market.smpc.functions.errors import (
    ColumnUnknown,
    FilterInvalid,
    FunctionUnknown,
    ParametersInvalid,
    ProductsIncompatible,
    RangeRequired,
)
from kraken_market.smpc.functions.finish import decode_outputs, finish
from kraken_market.smpc.functions.plan import Both, Compare, Either, Indicator, bits_for, plan
from kraken_market.smpc.functions.spec import ComputationSpec, conditions, filter_from_json

SCHEMA = DataSchema.model_validate(
    {
        "columns": [
            {"name": "age", "type": "numeric", "min": 0, "max": 120},
            {"name": "income", "type": "numeric", "nullable": True},
            {"name": "region", "type": "categorical", "categories": ["north", "south", "east"]},
        ]
    }
)
TABLE = (expand(SCHEMA), SCHEMA.model_dump(mode="json", exclude_none=True), 50)


def spec(**data) -> ComputationSpec:
    return ComputationSpec.model_validate(data)


def test_the_catalogue_has_every_function_with_a_version() -> None:
    names = {f.split("@")[0] for f in CATALOGUE}
    assert names == {
        "count",
        "sum",
        "mean",
        "variance",
        "std",
        "min",
        "max",
        "histogram",
        "median",
        "quantiles",
        "covariance",
        "correlation",
        "linear_regression",
        "linear_regression_summary",
        "kmeans",
    }
    assert {f for f in CATALOGUE if not f.endswith("@1")} == {"kmeans@2"}  # seeded from data
    assert {d["id"] for d in describe()} == set(CATALOGUE)


def test_the_digest_covers_everything_and_ignores_key_order() -> None:
    a = spec(function="mean@1", columns=["age"], filter={"column": "age", "op": ">", "value": 3})
    b = ComputationSpec.model_validate_json(
        '{"filter": {"value": 3, "op": ">", "column": "age"}, "columns": ["age"],'
        ' "function": "mean@1"}'
    )
    assert a.digest() == b.digest() and len(a.digest()) == 32
    assert a.digest() != spec(function="mean@1", columns=["age"]).digest()
    assert a.digest() != a.model_copy(update={"min_cohort": 11}).digest()


def test_filters_nest_with_and_or() -> None:
    tree = filter_from_json(
        {
            "and": [
                {"column": "age", "op": ">=", "value": 18},
                {
                    "or": [
                        {"column": "region", "op": "==", "value": "north"},
                        {"column": "income", "op": "<", "value": 10},
                    ]
                },
            ]
        }
    )
    assert [c.column for c in conditions(tree)] == ["age", "region", "income"]
    with pytest.raises(ValidationError):
        filter_from_json({"column": "age", "op": "~", "value": 1})
    with pytest.raises(ValidationError):
        spec(function="count@1", filter={"column": "age", "op": "<", "value": 1e12})


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("histogram@1", {"edges": [1, 1, 2]}),
        ("histogram@1", {"edges": [1]}),
        ("quantiles@1", {"q": [1.5]}),
        ("kmeans@1", {"k": 9}),
        ("mean@1", {"surprise": 1}),
        ("variance@1", {"ddof": 2}),
    ],
)
def test_parameters_are_checked_against_the_schema(function, params) -> None:
    with pytest.raises(ParametersInvalid):
        function_of(spec(function=function, params=params))


def test_unknown_functions_are_refused() -> None:
    with pytest.raises(FunctionUnknown, match="mean@1"):
        function_of(spec(function="mean@9"))


def test_columns_resolve_to_share_columns() -> None:
    p = plan(spec(function="mean@1", columns=["age", "income", "region=east"]), [TABLE])
    assert [(c.share, c.present) for c in p.columns] == [
        ("age", None),
        ("income", "income#present"),
        ("region=east", None),
    ]
    assert p.outputs == (("count", (3,)), ("sum", (3,)))
    assert [c.name for c in plan(spec(function="sum@1", columns=["region"]), [TABLE]).columns] == [
        "region=north",
        "region=south",
        "region=east",
    ]
    assert [c.name for c in plan(spec(function="min@1"), [TABLE]).columns] == ["age", "income"]
    assert plan(spec(function="count@1"), [TABLE, TABLE]).rows == 100
    with pytest.raises(ColumnUnknown):
        plan(spec(function="mean@1", columns=["weight"]), [TABLE])


def test_filters_resolve_to_comparisons_and_free_indicators() -> None:
    tree = {
        "or": [
            {"column": "region", "op": "!=", "value": "north"},
            {"and": [{"column": "age", "op": "<", "value": 30}]},
        ]
    }
    p = plan(spec(function="count@1", filter=tree), [TABLE])
    assert isinstance(p.filter, Either)
    indicator, both = p.filter.children
    assert indicator == Indicator(("region=south", "region=east"))
    assert isinstance(both, Both) and isinstance(both.children[0], Compare)
    assert both.children[0].bits == bits_for(90)  # |age - 30| <= 90 within [0, 120]
    bad = [
        {"column": "region", "op": "<", "value": "north"},
        {"column": "region", "op": "==", "value": "west"},
        {"column": "age", "op": "==", "value": "old"},
    ]
    for condition in bad:
        with pytest.raises(FilterInvalid):
            plan(spec(function="count@1", filter=condition), [TABLE])


def test_bits_follow_the_declared_range() -> None:
    assert bits_for(1) == 34 and bits_for(120) == 41 and bits_for(2**32) == 66


def test_products_of_a_union_need_the_same_columns() -> None:
    other = DataSchema.model_validate({"columns": [{"name": "age", "type": "numeric"}]})
    with pytest.raises(ProductsIncompatible):
        plan(spec(function="count@1"), [TABLE, (expand(other), {}, 5)])


def test_products_of_values_need_declared_ranges() -> None:
    with pytest.raises(RangeRequired, match="income"):
        plan(spec(function="variance@1", columns=["income"]), [TABLE])
    with pytest.raises(RangeRequired):
        plan(spec(function="kmeans@1", columns=["income"], params={"k": 2}), [TABLE])
    with pytest.raises(ParametersInvalid):
        plan(spec(function="kmeans@1", columns=["age"], params={"k": 2, "init": [[1.0]]}), [TABLE])
    assert plan(spec(function="variance@1", columns=["age"]), [TABLE]).size == 3


def test_the_buyer_divides_exactly() -> None:
    """Variance from exact count, sum and sum of squares (scale 2**64) is exact."""
    values = [Fraction(1, 3), Fraction(5, 2), Fraction(-7, 4)]
    encoded = [round(v * 2**32) for v in values]
    n, s, ss = len(values), sum(encoded), sum(e * e for e in encoded)
    elements = FieldArray.from_ints([n << 32, s % P, ss % P])
    outputs = (("count", (1,)), ("sum", (1,)), ("sum_squares", (1,)))
    decoded = decode_outputs(elements, outputs)
    assert decoded["sum_squares"][0] == Fraction(ss, 2**64)
    table = finish(spec(function="variance@1", columns=["x"], params={"ddof": 0}), ["x"], decoded)
    exact = [Fraction(e, 2**32) for e in encoded]
    mean = sum(exact) / 3
    assert table.loc["variance", "x"] == float(sum((x - mean) ** 2 for x in exact) / 3)


def summary_outputs(rows: Sequence[Sequence[int]], bounds: list[float]) -> dict[str, Any]:
    """The normalised outputs of ``linear_regression_summary@1`` with an intercept
    (docs/smpc.md, "Regression" 1-7), computed exactly: u = x / 2**e, N = 2**r >= n,
    K = nu**2 cov(u), beta' = K_xx^-1 K_xy, R = K_yy - K_xy' beta', R and K_yy at the
    solve's 2**GUARD. The buyer's finishing is then the only arithmetic left."""
    n, p = len(rows), len(rows[0]) - 1
    e = [ols.exponent(b) for b in bounds]
    r = (n - 1).bit_length()
    big_n, nu = Fraction(2**r), Fraction(n, 2**r)
    u = [[Fraction(v) / 2 ** e[j] for j, v in enumerate(row)] for row in rows]
    a0 = [sum(row[j] for row in u) / big_n for j in range(p + 1)]
    k = [[nu * sum(row[i] * row[j] for row in u) / big_n - a0[i] * a0[j] for j in range(p + 1)]
         for i in range(p + 1)]  # fmt: skip
    inverse = _inverse([row[:p] for row in k[:p]])
    beta = [sum(inverse[i][j] * k[j][p] for j in range(p)) for i in range(p)]
    mean = [a / nu for a in a0]
    intercept = mean[p] - sum(beta[j] * mean[j] for j in range(p))
    factor = sum(mean[i] * inverse[i][j] * mean[j] for i in range(p) for j in range(p))
    residual = k[p][p] - sum(k[p][j] * beta[j] for j in range(p))
    return {
        "count": np.array(Fraction(n), dtype=object),
        "coefficients": np.array([intercept, *beta], dtype=object),
        "inverse_diagonal": np.array([inverse[j][j] for j in range(p)], dtype=object),
        "intercept_factor": np.array(factor, dtype=object),
        "residual": np.array(residual * 2**ols.GUARD, dtype=object),
        "total": np.array(k[p][p] * 2**ols.GUARD, dtype=object),
        "scales": np.array([Fraction(v) for v in [*e, r]], dtype=object),
    }


def _inverse(m: list[list[Fraction]]) -> list[list[Fraction]]:
    """Gauss-Jordan on Fractions: exact, for the small matrices of these tests."""
    size = len(m)
    a = [[*m[i], *(Fraction(int(i == j)) for j in range(size))] for i in range(size)]
    for c in range(size):
        pivot = next(i for i in range(c, size) if a[i][c] != 0)
        a[c], a[pivot] = a[pivot], a[c]
        a[c] = [v / a[c][c] for v in a[c]]
        for i in range(size):
            if i != c:
                a[i] = [v - a[i][c] * w for v, w in zip(a[i], a[c], strict=True)]
    return [row[size:] for row in a]


@pytest.mark.parametrize("below", [0, 1, 5])
def test_an_exact_fit_finishes_with_a_zero_residual(below: int) -> None:
    """A target that is an exact linear combination of the features: R is 0, and the
    fixed-point solve may return it a few units of 2**-46 below 0. The buyer's table
    still finishes: residual standard error 0, R squared 1 (was a math domain error
    on the buyer's machine, after payment)."""
    rows = [(x, z, 3 * x - 2 * z + 7) for x, z in
            [(1, 4), (2, 9), (3, 1), (4, 7), (5, 5), (6, 2), (7, 8), (8, 3)]]  # fmt: skip
    values = summary_outputs(rows, [10.0, 10.0, 50.0])
    assert values["residual"][()] == 0
    values["residual"] = np.array(Fraction(-below, 2**32), dtype=object)  # below 0 by `below` units
    job = spec(function="linear_regression_summary@1", columns=["x", "z"], params={"target": "y"})
    table = finish(job, ["x", "z", "y"], values)
    assert table["coef"].tolist() == [7.0, 3.0, -2.0]
    assert table["std err"].tolist() == [0.0, 0.0, 0.0]
    assert table.attrs["residual_std_error"] == 0.0
    assert table.attrs["r_squared"] == 1.0
    assert (table.attrs["n"], table.attrs["df_resid"]) == (8, 5)
