"""Resolve a computation against the products' share columns, before any MPC.

Pure code: a node (and the buyer, to check a request before paying) turns a
:class:`~kraken_market.smpc.functions.spec.ComputationSpec` and the share
columns of the products into a :class:`Plan`: which share columns hold the
values, which hold presence flags, the filter with each condition bound to
its share columns, the declared value bounds, and the bit lengths the secure
comparisons need (a comparison of values within +-R costs about
``log2(R * 2**32) + 2`` bits instead of MPyC's default 64: fewer random bits,
fewer rounds of work; see ``docs/smpc.md``).

Selecting a column: a numeric schema column ``x`` reads ``x`` (and, if it is
nullable, only rows where ``x#present`` is 1); a share column name
(``region=north``, ``x#present``) reads that 0/1 column; a categorical schema
column reads all its one-hot columns. No selection means every numeric column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel

from kraken_market.smpc.columns import PRESENT_SUFFIX, ShareColumn
from kraken_market.smpc.functions import ols
from kraken_market.smpc.functions.catalogue import Function, KMeans, Regression, function_of
from kraken_market.smpc.functions.errors import (
    ColumnUnknown,
    FilterInvalid,
    OutsideAccuracyEnvelope,
    ParametersInvalid,
    ProductsIncompatible,
    RangeRequired,
)
from kraken_market.smpc.functions.spec import And, ComputationSpec, Condition, Filter

FRAC: Final = 32
LIMIT: Final = float(2**31)
"""Largest magnitude of a fixed-point value (SecFxp(64, 32))."""
SCALES: Final = {"sum_squares": 2, "cross": 2}
"""Outputs returned as exact products: field value = real value * 2**(32 * scale)."""


def bits_for(span: float) -> int:
    """Bits l such that differences within +-span (fixed point) lie in [-2**(l-1), 2**(l-1))."""
    return max(FRAC + 2, math.ceil(math.log2(max(span, 1.0) * 2**FRAC)) + 2)


@dataclass(frozen=True)
class DataColumn:
    name: str
    share: str
    present: str | None
    low: float | None
    high: float | None
    label: str | None = None
    """The seller's own name of the column (schema ``label``), when it is not ``name``."""

    @property
    def shown(self) -> str:
        """The column as its seller names it, with the identifier a spec uses beside a
        label (``'Heart rate (bpm)' (hr)``), so a message can be acted on."""
        return repr(self.name) if self.label is None else f"{self.label!r} ({self.name})"

    @property
    def bound(self) -> float | None:
        """The largest magnitude a value can have, if the schema declares both bounds."""
        if self.low is None or self.high is None:
            return None
        return max(abs(self.low), abs(self.high))

    def span(self) -> tuple[float, float]:
        return (-LIMIT if self.low is None else self.low, LIMIT if self.high is None else self.high)


@dataclass(frozen=True)
class Compare:
    """``column op value`` on a numeric share column (``bits`` for the secure comparison)."""

    column: DataColumn
    op: str
    value: float
    bits: int


@dataclass(frozen=True)
class Indicator:
    """A categorical condition: the sum of one-hot columns (0/1 per row; free to compute)."""

    shares: tuple[str, ...]


@dataclass(frozen=True)
class Both:
    children: tuple[Resolved, ...]


@dataclass(frozen=True)
class Either:
    children: tuple[Resolved, ...]


Resolved = Compare | Indicator | Both | Either


@dataclass(frozen=True)
class Plan:
    spec: ComputationSpec
    function: Function
    params: BaseModel
    columns: tuple[DataColumn, ...]
    filter: Resolved | None
    rows: int
    outputs: tuple[tuple[str, tuple[int, ...]], ...]

    @property
    def size(self) -> int:
        """Field elements in one node's result share."""
        return sum(math.prod(shape) for _, shape in self.outputs)

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]


class _Schema:
    """Share columns and schema bounds of the products (all equal, checked in ``plan``)."""

    def __init__(self, columns: Sequence[ShareColumn], schema: dict[str, Any]) -> None:
        self.shares = {c.name: c for c in columns}
        self.sources: dict[str, list[ShareColumn]] = {}
        for column in columns:
            self.sources.setdefault(column.source, []).append(column)
        self.declared = {c["name"]: c for c in schema.get("columns", [])}

    def numeric(self, name: str) -> DataColumn:
        spec = self.declared.get(name, {})
        present = name + PRESENT_SUFFIX if name + PRESENT_SUFFIX in self.shares else None
        return DataColumn(name, name, present, spec.get("min"), spec.get("max"), spec.get("label"))

    def select(self, name: str) -> list[DataColumn]:
        share = self.shares.get(name)
        if share is not None and share.kind == "numeric":
            return [self.numeric(name)]
        if share is not None:  # a one-hot or presence column: 0/1
            return [DataColumn(name, name, None, 0.0, 1.0)]
        if name in self.sources:  # a categorical column: its one-hot columns
            return [DataColumn(c.name, c.name, None, 0.0, 1.0) for c in self.sources[name]]
        raise ColumnUnknown(f"no column {name!r} in the products (have: {self._known()})")

    def default(self) -> list[DataColumn]:
        return [self.numeric(c.name) for c in self.shares.values() if c.kind == "numeric"]

    def _known(self) -> str:
        names = list(self.sources) + [n for n in self.shares if n not in self.sources]
        return ", ".join(names[:30]) + (", …" if len(names) > 30 else "")

    def resolve(self, tree: Filter) -> Resolved:
        if isinstance(tree, And):
            return Both(tuple(self.resolve(child) for child in tree.all_of))
        if not isinstance(tree, Condition):
            return Either(tuple(self.resolve(child) for child in tree.any_of))
        share = self.shares.get(tree.column)
        if share is None and tree.column in self.sources:
            return self._category(tree)
        if share is None:
            raise ColumnUnknown(f"the filter names {tree.column!r}, not a column of the products")
        if isinstance(tree.value, str):
            raise FilterInvalid(f"{tree.column!r} is numeric: compare it with a number")
        column = self.select(tree.column)[0]
        low, high = column.span()
        span = max(abs(high - tree.value), abs(tree.value - low))
        return Compare(column, tree.op, float(tree.value), bits_for(span))

    def _category(self, tree: Condition) -> Indicator:
        one_hot = self.sources[tree.column]
        categories = [c.category for c in one_hot]
        if tree.op not in ("==", "!=") or not isinstance(tree.value, str):
            raise FilterInvalid(f"{tree.column!r} is categorical: use == or != with a category")
        if tree.value not in categories:
            raise FilterInvalid(f"{tree.value!r} is not a category of {tree.column!r}")
        chosen = [c.name for c in one_hot if (c.category == tree.value) == (tree.op == "==")]
        return Indicator(tuple(chosen))


def plan(
    spec: ComputationSpec, tables: Sequence[tuple[Sequence[ShareColumn], dict[str, Any], int]]
) -> Plan:
    """The plan of ``spec`` over products given as (share columns, schema, rows)."""
    if not tables:
        raise ProductsIncompatible("a computation needs at least one product")
    first = tuple(tables[0][0])
    if any(tuple(columns) != first for columns, _, _ in tables[1:]):
        raise ProductsIncompatible("a union of products needs the same columns in each")
    schema = _Schema(first, tables[0][1])
    function, params = function_of(spec)
    names = list(spec.columns)
    if isinstance(params, Regression):
        if params.target in names:
            raise ColumnUnknown("the regression target is not also a feature")
        names.append(params.target)
    columns = [c for n in names for c in schema.select(n)] if names else schema.default()
    if not names and function.min_columns == 0:
        columns = []
    if len(columns) < function.min_columns:
        raise ColumnUnknown(f"{spec.function} needs at least {function.min_columns} column(s)")
    resolved = None if spec.filter is None else schema.resolve(spec.filter)
    rows = sum(r for _, _, r in tables)
    _check_ranges(spec.function, params, columns, rows, spec.min_cohort, spec.filter is not None)
    outputs = tuple(function.outputs(params, len(columns)))
    return Plan(spec, function, params, tuple(columns), resolved, rows, outputs)


def _need_bounds(function: str, columns: Sequence[DataColumn], why: str) -> list[float]:
    bounds = []
    for column in columns:
        if column.bound is None:
            raise RangeRequired(
                f"{function} {why}: it needs min and max declared for column {column.name!r} "
                "in the product schema (MPyC cannot detect overflow)"
            )
        bounds.append(column.bound)
    return bounds


def _check_regression(
    function: str,
    params: Regression,
    columns: Sequence[DataColumn],
    bounds: list[float],
    rows: int,
    min_cohort: int,
    filtered: bool,
) -> None:
    """Refuse a regression the layout cannot carry (``ols``), or whose summary would have
    no degrees of freedom, with what to change."""
    widest = max(range(len(bounds)), key=lambda j: bounds[j])
    if ols.exponent(bounds[widest]) > ols.MAX_EXPONENT:
        raise OutsideAccuracyEnvelope(
            f"{function}: column {columns[widest].shown} is declared up to "
            f"{bounds[widest]:g}; a regression takes declared ranges within "
            f"+-{2**ols.MAX_EXPONENT} (rescale the column, e.g. to thousands)"
        )
    summary = function.startswith("linear_regression_summary")
    layout = ols.layout(bounds, rows, params.intercept, summary=summary)
    if layout.random_bits > ols.MAX_RANDOM_BITS:
        fits = [
            b
            for b in range(ols.MAX_EXPONENT, -1, -1)
            if ols.layout(
                [min(x, 2.0**b) for x in bounds], rows, params.intercept, summary=summary
            ).random_bits
            <= ols.MAX_RANDOM_BITS
        ]
        advice = f"declare ranges within +-{2 ** fits[0]}, or " if fits else ""
        raise OutsideAccuracyEnvelope(
            f"{function}: {rows} rows, {layout.features} features and values declared up "
            f"to {max(bounds):g} need {layout.random_bits} secret random bits of "
            f"truncation (at most {ols.MAX_RANDOM_BITS}): {advice}ask over fewer rows "
            "(a filter does not reduce them) or fewer features"
        )
    coefficients = len(columns) - 1 + int(params.intercept)
    # every row counts unless a filter or a nullable column may drop some (then the
    # count is secret and only min_cohort bounds it from below)
    fewest = rows if not filtered and all(c.present is None for c in columns) else min_cohort
    if summary and fewest <= coefficients:
        raise OutsideAccuracyEnvelope(
            f"{function}: standard errors need more rows than coefficients "
            f"({coefficients}): ask for min_cohort {coefficients + 1} or more (you asked "
            f"{min_cohort}), or over more rows"
        )


def _check_ranges(
    function: str,
    params: BaseModel,
    columns: Sequence[DataColumn],
    rows: int,
    min_cohort: int,
    filtered: bool,
) -> None:
    """Refuse what could overflow the field or the fixed-point range (silently wrong)."""
    name = function.split("@")[0]
    if name in ("variance", "std", "covariance", "correlation"):
        bounds = _need_bounds(function, columns, "sums products of values")
        if rows * max(bounds, default=1.0) ** 2 >= 2.0**62:
            raise RangeRequired(f"{function}: sums of squares could exceed 2**62 on {rows} rows")
    if name in ("linear_regression", "linear_regression_summary"):
        assert isinstance(params, Regression)
        bounds = _need_bounds(function, columns, "sums products of values")
        _check_regression(function, params, columns, bounds, rows, min_cohort, filtered)
    if name == "kmeans":
        assert isinstance(params, KMeans)
        bounds = _need_bounds(function, columns, "computes distances")
        if params.init is not None and (
            len(params.init) != params.k or any(len(c) != len(columns) for c in params.init)
        ):
            raise ParametersInvalid(f"{function}: init has k rows of one value per column")
        if 6 * len(columns) * max(bounds) ** 2 >= 2.0**30 or rows * max(bounds) >= 2.0**30:
            raise RangeRequired(f"{function}: values too large for fixed-point distances")
