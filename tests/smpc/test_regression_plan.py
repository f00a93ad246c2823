"""The regression's public arithmetic and its refusals before payment (pure: no MPC)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.columns import expand
from kraken_market.smpc.functions import ols
from kraken_market.smpc.functions.catalogue import describe
from kraken_market.smpc.functions.errors import OutsideAccuracyEnvelope
from kraken_market.smpc.functions.plan import plan
from kraken_market.smpc.functions.spec import ComputationSpec


def table(bound: float, rows: int, features: int = 1, nullable: bool = False) -> tuple[Any, ...]:
    columns = [{"name": f"x{j}", "type": "numeric", "min": -bound, "max": bound}
               for j in range(features)]  # fmt: skip
    columns.append({"name": "y", "type": "numeric", "min": 0, "max": bound, "nullable": nullable})
    schema = DataSchema.model_validate({"columns": columns})
    return (expand(schema), schema.model_dump(mode="json", exclude_none=True), rows)


def regression(function: str = "linear_regression@1", features: int = 1, **extra) -> Any:
    columns = [f"x{j}" for j in range(features)]
    return ComputationSpec.model_validate(
        {"function": function, "columns": columns, "params": {"target": "y"}, **extra}
    )


@settings(deadline=None)
@given(
    bounds=st.lists(st.floats(1e-3, 2.0**15), min_size=1, max_size=32),
    rows=st.integers(1, 2**31 - 1),
    intercept=st.booleans(),
)
def test_every_truncated_value_fits_the_masking_headroom(bounds, rows, intercept) -> None:
    """What the docs claim: block sums, their sum after stage 1, the moments after stage
    2 and the centred products all stay below 2**94 (MPyC's truncation with l = 96)."""
    lay = ols.layout(bounds, rows, intercept)
    e, r = lay.exponents, lay.r
    assert 2**r >= rows and (lay.blocks - 1) * lay.block < rows <= lay.blocks * lay.block
    for i, j in lay.pairs:
        per_row = 64 + e[i] + e[j]
        assert math.log2(min(lay.block, rows)) + per_row <= ols.LIMIT_BITS
        assert r + per_row - lay.stage1(i, j) <= ols.LIMIT_BITS
        assert lay.stage2(i, j) >= 0
        assert per_row + r - lay.stage1(i, j) - lay.stage2(i, j) == 32 + ols.GUARD
    assert 2 * (32 + ols.GUARD) + 1 <= ols.LIMIT_BITS  # the centring's products
    assert ols.LIMIT_BITS + 1 + 30 + 2 <= 128 and ols.TRUNC_L == ols.LIMIT_BITS + 2


def test_the_reported_failures_now_plan() -> None:
    for bound, rows in ((600.0, 569), (360.0, 2_000), (160.0, 10_000), (1000.0, 100_000)):
        assert plan(regression(), [table(bound, rows)]).size == 2
    assert plan(regression(features=10), [table(1000.0, 100_000, 10)]).size == 11


def test_a_declared_range_beyond_the_layout_is_refused_before_payment() -> None:
    with pytest.raises(OutsideAccuracyEnvelope, match="'x0' is declared up to 40000") as info:
        plan(regression(), [table(40_000.0, 100)])
    assert info.value.code == "outside_accuracy_envelope"


def test_a_refusal_names_the_column_as_its_seller_does() -> None:
    columns, schema, rows = table(40_000.0, 100)
    schema["columns"][0]["label"] = "Monthly income (EUR)"
    with pytest.raises(OutsideAccuracyEnvelope, match=r"'Monthly income \(EUR\)' \(x0\) is"):
        plan(regression(), [(columns, schema, rows)])


def test_too_much_work_is_refused_with_the_range_that_would_fit() -> None:
    with pytest.raises(OutsideAccuracyEnvelope, match=r"declare ranges within \+-\d+"):
        plan(regression(), [table(30_000.0, 1_000_000)])
    with pytest.raises(OutsideAccuracyEnvelope, match=r"fewer rows .* or fewer features"):
        plan(regression("linear_regression_summary@1", 31), [table(30_000.0, 100_000, 31)])


def test_a_summary_needs_more_rows_than_coefficients() -> None:
    with pytest.raises(OutsideAccuracyEnvelope, match="more rows than coefficients"):
        plan(regression("linear_regression_summary@1", 3, min_cohort=1), [table(10.0, 4, 3)])
    assert plan(regression("linear_regression_summary@1", 3, min_cohort=1), [table(10.0, 5, 3)])
    secret = regression("linear_regression_summary@1", 3, min_cohort=4)  # y is nullable
    with pytest.raises(OutsideAccuracyEnvelope, match="min_cohort 5 or more"):
        plan(secret, [table(10.0, 500, 3, nullable=True)])
    assert plan(regression(features=3, min_cohort=4), [table(10.0, 500, 3, nullable=True)])


def test_the_catalogue_says_what_each_regression_reveals() -> None:
    reveals = {str(f["id"]): str(f["reveals"]) for f in describe()}
    assert reveals["linear_regression@1"] == "the coefficients only"
    assert "residual and total sums of squares" in reveals["linear_regression_summary@1"]
    assert all(reveals.values())
