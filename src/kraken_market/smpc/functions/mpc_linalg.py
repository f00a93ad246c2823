"""Multivariate functions inside the MPC: cross moments, OLS regression, k-means.

- Covariance and correlation: the nodes return the count, the column sums and
  the exact matrix of cross products (scale 2**64); the buyer divides.
- Linear regression: X^T X and X^T y are accumulated in row blocks small
  enough that each block's raw product stays below 2**95 (what MPyC's
  probabilistic truncation takes), truncated by 2**-(32 + e) so the sums fit
  fixed point, then the normal equations are solved inside the MPC by
  Gauss-Jordan elimination with secure reciprocals of the pivots (X^T X is
  symmetric positive definite: no pivoting). Only the coefficients leave.
- k-means: Lloyd's algorithm for a fixed number of iterations (no data-
  dependent stopping, which would leak): squared distances up to the
  constant ||x||^2 as ||c||^2 - 2 x.c, a secure argmin per row (one-hot),
  centroids as sums over counts with a secure reciprocal; an empty cluster
  keeps its centroid.
"""

from __future__ import annotations

import math

import numpy as np

from kraken_market.smpc.functions.catalogue import KMeans, Regression
from kraken_market.smpc.functions.local import column_dot, column_sum
from kraken_market.smpc.functions.mpc_base import Context, Sec
from kraken_market.smpc.functions.mpc_stats import count_of, masked
from kraken_market.smpc.functions.plan import bits_for

MOMENT_TOP = 12
"""log2 of the largest scaled moment: large enough for 20+ bits of precision in the
pivots' reciprocals, small enough for the elimination to stay in range."""


async def cross(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    weight = weights[0]
    if weight is None:  # every row: local sums and dot products, one resharing
        raw = [ctx.raw(c.share) for c in ctx.plan.columns]
        d = len(raw)
        dots = {(i, j): column_dot(raw[i], raw[j]) for i in range(d) for j in range(i, d)}
        matrix = [dots[min(i, j), max(i, j)] for i in range(d) for j in range(d)]
        product = ctx.mpc.np_reshape(ctx.reshared(matrix), (d, d))
        return [count_of(ctx, None), ctx.shared([column_sum(r) for r in raw]), product]
    x = ctx.matrix([c.share for c in ctx.plan.columns])
    y = masked(x, weight)
    product = await ctx.exact(y) @ ctx.mpc.np_transpose(await ctx.exact(x))
    return [count_of(ctx, weight), y.sum(axis=1), product]


async def regression(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    params = ctx.plan.params
    assert isinstance(params, Regression)
    mpc, weight = ctx.mpc, weights[0]
    z = masked(ctx.matrix([c.share for c in ctx.plan.columns]), weight)  # features..., target
    if params.intercept:
        ones = weight if weight is not None else ctx.secfxp.array(np.ones(ctx.rows), integral=True)
        z = mpc.np_concatenate([mpc.np_reshape(ones, (1, ctx.rows)), z])
    moments = await _scaled_moments(ctx, z)
    p = z.shape[0] - 1
    return [_solve(ctx, moments, p)]


async def _scaled_moments(ctx: Context, z: Sec) -> Sec:
    """Z Z^T / 2**e for the (p + 1, n) array Z, in fixed point."""
    mpc, (rows, n) = ctx.mpc, z.shape
    bound = max([1.0] + [c.bound or 1.0 for c in ctx.plan.columns])
    block = max(1, int(2**30 // bound**2))  # block raw products < 2**94
    e = max(0, math.ceil(math.log2(max(1.0, n * bound**2))) - MOMENT_TOP)
    blocks = -(-n // block)
    exact = await ctx.exact(z)
    if blocks * block != n:
        pad = ctx.secfld.array(ctx.field.array(np.zeros((rows, blocks * block - n), dtype=object)))
        exact = mpc.np_concatenate([exact, pad], axis=1)
    batched = mpc.np_transpose(mpc.np_reshape(exact, (rows, blocks, block)), (1, 0, 2))
    raw = batched @ mpc.np_transpose(batched, (0, 2, 1))  # (blocks, rows, rows), exact
    scaled = mpc.np_trunc(await ctx.fixed(raw), f=32 + e, l=64 - e)
    return scaled.sum(axis=0)


def _solve(ctx: Context, augmented: Sec, p: int) -> Sec:
    """Gauss-Jordan on [A | b] (the last row and column of the moments hold the target)."""
    mpc = ctx.mpc
    g = augmented[:p, :]  # p x (p + 1): [X^T X | X^T y]
    for k in range(p):
        row = g[k, :] * (1 / g[k, k])
        g = g - mpc.np_outer(g[:, k], row)
        g = mpc.np_update(g, k, row)
    return g[:, p]


async def kmeans(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    params = ctx.plan.params
    assert isinstance(params, KMeans)
    mpc, weight, k = ctx.mpc, weights[0], params.k
    columns = ctx.plan.columns
    x = ctx.matrix([c.share for c in columns])  # (d, n)
    init = params.init or [
        [c.span()[0] + (c.span()[1] - c.span()[0]) * (i + 0.5) / k for c in columns]
        for i in range(k)
    ]
    centroids = ctx.secfxp.array(np.array(init, dtype=float))
    bound = max(c.bound or 1.0 for c in columns)
    bits = bits_for(6 * len(columns) * bound**2)
    shift = max(
        0, min(math.ceil(math.log2(max(ctx.rows, 2))), 29 - math.ceil(math.log2(bound + 1)))
    )
    sizes = None
    for _ in range(params.iterations):
        norms = (centroids * centroids).sum(axis=1)  # (k,)
        scores = mpc.np_reshape(norms, (k, 1)) - 2 * (centroids @ x)  # (k, n)
        assign = _argmin_rows(ctx, scores, bits)  # (k, n) one-hot, integral
        if weight is not None:
            assign = assign * weight
        sizes = assign.sum(axis=1)  # (k,)
        sums = assign @ mpc.np_transpose(x)  # (k, d), exact
        empty = ctx.less_than_zero(sizes - 0.5, bits_for(2 * ctx.rows))
        scale = 2.0**-shift
        inverse = 1 / ((sizes + empty) * scale)  # ~ 2**shift / size: keeps 20+ bits
        means = sums * mpc.np_reshape(inverse, (k, 1)) * scale
        keep = mpc.np_reshape(empty, (k, 1))
        centroids = means + keep * (centroids - means)
    assert sizes is not None
    return [centroids, sizes]


def _argmin_rows(ctx: Context, scores: Sec, bits: int) -> Sec:
    """One-hot (k, n) of the first smallest score per column, k - 1 comparison rounds."""
    mpc, k = ctx.mpc, scores.shape[0]
    best = scores[0]
    chosen = [ctx.secfxp.array(np.ones(scores.shape[1]), integral=True)]
    for c in range(1, k):
        lt = ctx.less_than_zero(scores[c] - best, bits)  # strictly smaller: ties keep the first
        best = best + lt * (scores[c] - best)
        chosen = [h - lt * h for h in chosen] + [lt]
    return mpc.np_stack(chosen)
