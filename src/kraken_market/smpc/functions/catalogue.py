"""The versioned catalogue of SMPC functions: id, parameter schema, output shape.

An id is ``name@version``; a version never changes meaning (a new behaviour is
a new version), so a ``function_id`` paid for on chain always means the same
computation. Each entry declares

- ``params``: the pydantic model of its parameters (``extra`` forbidden);
- ``rows``: ``"columnwise"`` (each selected column is weighted by the filter
  and its own presence) or ``"joint"`` (rows where every selected column is
  present and the filter matches);
- ``outputs``: the named arrays the nodes return (as result shares), in order,
  with their shapes for ``d`` selected columns. What the *buyer* sees is
  computed from them by :mod:`kraken_market.smpc.functions.finish`, e.g. the
  nodes return ``count`` and ``sum`` and the buyer divides (``docs/smpc.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kraken_market.smpc.functions.errors import FunctionUnknown, ParametersInvalid
from kraken_market.smpc.functions.spec import ComputationSpec

Shape = tuple[int, ...]
Outputs = Callable[[BaseModel, int], list[tuple[str, Shape]]]
MAX_BINS = 64
MAX_K = 8
MAX_ITERATIONS = 20


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Spread(NoParams):
    ddof: Literal[0, 1] = 1
    """Delta degrees of freedom: 1 (sample, pandas' default) or 0 (population, numpy's)."""


class Histogram(NoParams):
    edges: Annotated[list[float], Field(min_length=2, max_length=MAX_BINS + 1)]
    """Bin edges, increasing; bins are [e_i, e_i+1), the last one closed (as numpy)."""

    @model_validator(mode="after")
    def _increasing(self) -> Histogram:
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("histogram edges must be strictly increasing")
        if any(not abs(e) < 2**31 for e in self.edges):
            raise ValueError("histogram edges lie within +-2**31")
        return self


class Quantiles(NoParams):
    q: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=1, max_length=9)]
    """Probabilities; numpy's default ('linear') interpolation between order statistics."""


class Regression(NoParams):
    target: Annotated[str, Field(min_length=1, max_length=256)]
    intercept: bool = True


class KMeans(NoParams):
    k: Annotated[int, Field(ge=1, le=MAX_K)]
    iterations: Annotated[int, Field(ge=1, le=MAX_ITERATIONS)] = 10
    init: list[list[float]] | None = None
    """Initial centroids (k rows, one value per selected column); default: k points
    spread over the declared [min, max] of each column (public: they depend on no data)."""


class SeededKMeans(KMeans):
    init: list[list[float]] | None = None
    """Initial centroids (k rows, one value per selected column); default: seeded from
    the data inside the computation, centroid i at each column's quantile
    (i + 0.5) / k of the rows that count (secure quantiles: nothing is revealed)."""


def _per_column(name: str) -> Outputs:
    return lambda _p, d: [(name, (d,))]


def _moments(_p: BaseModel, d: int) -> list[tuple[str, Shape]]:
    return [("count", (d,)), ("sum", (d,)), ("sum_squares", (d,))]


def _cross(_p: BaseModel, d: int) -> list[tuple[str, Shape]]:
    return [("count", ()), ("sum", (d,)), ("cross", (d, d))]


def _histogram(p: BaseModel, d: int) -> list[tuple[str, Shape]]:
    assert isinstance(p, Histogram)
    return [("counts", (d, len(p.edges) - 1))]


def _quantiles(p: BaseModel, d: int) -> list[tuple[str, Shape]]:
    q = p.q if isinstance(p, Quantiles) else [0.5]
    return [("quantiles", (len(q), d))]


def _regression(p: BaseModel, d: int) -> list[tuple[str, Shape]]:
    assert isinstance(p, Regression)
    return [("coefficients", (d - 1 + int(p.intercept),))]


def _regression_summary(p: BaseModel, d: int) -> list[tuple[str, Shape]]:
    assert isinstance(p, Regression)
    return [
        ("count", ()),
        ("coefficients", (d - 1 + int(p.intercept),)),
        ("inverse_diagonal", (d - 1,)),
        ("intercept_factor", ()),
        ("residual", ()),
        ("total", ()),
        ("scales", (d + 1,)),
    ]


def _kmeans(p: BaseModel, d: int) -> list[tuple[str, Shape]]:
    assert isinstance(p, KMeans)
    return [("centroids", (p.k, d)), ("sizes", (p.k,))]


def _seeded_kmeans(p: BaseModel, d: int) -> list[tuple[str, Shape]]:
    return [*_kmeans(p, d), ("iterations", ()), ("converged", ())]


@dataclass(frozen=True)
class Function:
    id: str
    summary: str
    params: type[BaseModel]
    rows: Literal["columnwise", "joint"]
    outputs: Outputs
    reveals: str
    """What the buyer learns beyond the result itself: what a seller weighs before allowing
    the function (the function id is what a request names and pays for)."""
    min_columns: int = 1


SUMS = "each column's count and sum"
CROSS = "the count, the column sums and every cross product (the buyer divides)"

CATALOGUE: dict[str, Function] = {
    f.id: f
    for f in (
        Function(
            "count@1",
            "rows matching the filter",
            NoParams,
            "joint",
            lambda _p, _d: [("count", ())],
            "the count",
            min_columns=0,
        ),
        Function("sum@1", "sum per column", NoParams, "columnwise", _per_column("sum"), "the sums"),
        Function(
            "mean@1",
            "mean per column",
            NoParams,
            "columnwise",
            lambda _p, d: [("count", (d,)), ("sum", (d,))],
            SUMS,
        ),
        Function(
            "variance@1",
            "variance per column",
            Spread,
            "columnwise",
            _moments,
            SUMS + " and sum of squares",
        ),
        Function(
            "std@1",
            "standard deviation per column",
            Spread,
            "columnwise",
            _moments,
            SUMS + " and sum of squares",
        ),
        Function(
            "min@1",
            "minimum per column",
            NoParams,
            "columnwise",
            _per_column("min"),
            "one value of each column",
        ),
        Function(
            "max@1",
            "maximum per column",
            NoParams,
            "columnwise",
            _per_column("max"),
            "one value of each column",
        ),
        Function(
            "histogram@1",
            "counts per bin and column",
            Histogram,
            "columnwise",
            _histogram,
            "the counts per bin",
        ),
        Function(
            "median@1",
            "median per column",
            NoParams,
            "columnwise",
            _quantiles,
            "one value (or the mean of two) of each column",
        ),
        Function(
            "quantiles@1",
            "quantiles per column",
            Quantiles,
            "columnwise",
            _quantiles,
            "interpolations between two values of each column",
        ),
        Function("covariance@1", "covariance matrix", Spread, "joint", _cross, CROSS),
        Function("correlation@1", "Pearson correlation matrix", NoParams, "joint", _cross, CROSS),
        Function(
            "linear_regression@1",
            "OLS coefficients, solved inside the MPC",
            Regression,
            "joint",
            _regression,
            "the coefficients only",
        ),
        Function(
            "linear_regression_summary@1",
            "OLS coefficients with standard errors, t statistics, n, R squared and the "
            "residual standard error (as statsmodels' summary)",
            Regression,
            "joint",
            _regression_summary,
            "the coefficients; n; the residual and total sums of squares (R squared, "
            "residual standard error); the diagonal of the inverse of the centred features' "
            "cross-product matrix (standard errors) and, with an intercept, the means' "
            "quadratic form in it (the intercept's standard error)",
        ),
        Function(
            "kmeans@1",
            "Lloyd's k-means, fixed iterations",
            KMeans,
            "joint",
            _kmeans,
            "the centroids and the size of each cluster",
        ),
        Function(
            "kmeans@2",
            "Lloyd's k-means seeded from the data's quantiles; iterations and convergence",
            SeededKMeans,
            "joint",
            _seeded_kmeans,
            "the centroids, the size of each cluster, the number of rounds until no row "
            "moved and whether it converged",
        ),
    )
}


def function_of(spec: ComputationSpec) -> tuple[Function, BaseModel]:
    """The catalogue entry of ``spec`` and its validated parameters."""
    entry = CATALOGUE.get(spec.function)
    if entry is None:
        raise FunctionUnknown(
            f"no function {spec.function!r} in the catalogue ({', '.join(sorted(CATALOGUE))})"
        )
    try:
        params = entry.params.model_validate(spec.params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors()
        )
        raise ParametersInvalid(f"{spec.function}: {problems}") from exc
    return entry, params


def describe() -> list[dict[str, object]]:
    """The catalogue as JSON: id, summary, rows, what it reveals, parameter JSON Schema."""
    return [
        {
            "id": f.id,
            "summary": f.summary,
            "rows": f.rows,
            "reveals": f.reveals,
            "params": f.params.model_json_schema(),
        }
        for f in CATALOGUE.values()
    ]
