"""Run one planned computation inside an MPyC party: mask, cohort, function, export.

``evaluate`` is what a compute node's MPC process calls after it has loaded
its (verified, decrypted) share files. Steps, identical at every node:

1. the filter becomes a 0/1 mask (secure comparisons; categorical conditions
   are one-hot columns, free), times the presence flags of nullable columns;
2. the minimum cohort: the matching-row counts are compared with
   ``min_cohort`` inside the MPC and only the resulting bit is opened; if it is
   0 the result is *suppressed* and nothing else is computed or revealed;
3. the function (``mpc_stats``, ``mpc_linalg``);
4. the outputs are re-randomised with a fresh sharing of zero and this node's
   shares are returned, never opened.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kraken_market.smpc.field import FieldArray
from kraken_market.smpc.functions import mpc_kmeans, mpc_linalg, mpc_stats
from kraken_market.smpc.functions.mpc_base import Context, Sec, ShareTable
from kraken_market.smpc.functions.plan import Plan

Body = Callable[[Context, list[Sec | None]], Awaitable[list[Sec]]]

BODIES: dict[str, Body] = {
    "count": mpc_stats.count,
    "sum": mpc_stats.total,
    "mean": mpc_stats.mean,
    "variance": mpc_stats.moments,
    "std": mpc_stats.moments,
    "min": mpc_stats.minimum,
    "max": mpc_stats.maximum,
    "histogram": mpc_stats.histogram,
    "median": mpc_stats.quantiles,
    "quantiles": mpc_stats.quantiles,
    "covariance": mpc_linalg.cross,
    "correlation": mpc_linalg.cross,
    "linear_regression": mpc_linalg.regression,
    "linear_regression_summary": mpc_linalg.regression_summary,
    "kmeans": mpc_linalg.kmeans,
    "kmeans@2": mpc_kmeans.kmeans,
}
"""The MPC body of each function, by name (every version), or by id where a version
computes differently."""


@dataclass(frozen=True)
class Evaluation:
    """This node's result share (``None`` when suppressed) and what it cost."""

    share: FieldArray | None
    seconds: float
    comparisons: int

    @property
    def suppressed(self) -> bool:
        return self.share is None


async def evaluate(mpc: Any, plan: Plan, tables: list[ShareTable]) -> Evaluation:
    """The computation of ``plan`` over ``tables`` (this node's shares, one per product),
    inside a started MPyC runtime ``mpc``."""
    started = time.perf_counter()
    ctx = Context(mpc, plan, tables)
    mask = ctx.mask(plan.filter)
    weights = ctx.weights(mask, joint=plan.function.rows == "joint")
    if not await ctx.cohort_ok(weights):
        return Evaluation(None, time.perf_counter() - started, ctx.comparisons)
    body = BODIES.get(plan.function.id) or BODIES[plan.function.id.split("@")[0]]
    outputs = await body(ctx, weights)
    share = await ctx.export(outputs)
    if share.size != plan.size:
        raise RuntimeError(f"{plan.function.id} produced {share.size} values, not {plan.size}")
    return Evaluation(share, time.perf_counter() - started, ctx.comparisons)
