"""Multivariate functions inside the MPC: cross moments, OLS regression, k-means.

- Covariance and correlation: the nodes return the count, the column sums and
  the exact matrix of cross products (scale 2**64); the buyer divides.
- Linear regression: the moments of the columns normalised by their declared
  ranges, summed exactly in row blocks and truncated in two stages (``ols``:
  every truncated value below 2**94, MPyC's masking headroom), centred exactly
  without dividing by the secret count, then Gauss-Jordan elimination on
  K * 2**14 with Newton-corrected rows. A design the fixed point cannot carry
  fails ``design_ill_conditioned`` (one bit opened). Only the outputs of the
  function leave (docs/smpc.md, "Regression").
- k-means: Lloyd's algorithm for a fixed number of iterations (no data-
  dependent stopping, which would leak): squared distances up to the
  constant ||x||^2 as ||c||^2 - 2 x.c, a secure argmin per row (one-hot),
  centroids as sums over counts with a secure reciprocal; an empty cluster
  keeps its centroid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kraken_market.smpc.field import FieldArray, P
from kraken_market.smpc.functions import ols
from kraken_market.smpc.functions.catalogue import KMeans, Regression
from kraken_market.smpc.functions.errors import DesignIllConditioned
from kraken_market.smpc.functions.local import column_dot, column_sum
from kraken_market.smpc.functions.mpc_base import Context, Sec
from kraken_market.smpc.functions.mpc_stats import count_of, masked
from kraken_market.smpc.functions.plan import bits_for


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


RIGHT = 7
"""The identity and the means beside K are scaled by 2**7: the inverse's entries are
K**-1 * 2**(7 - GUARD), so they keep 7 more bits; with pivots >= 2**-26 they stay below
2**19, leaving room in the fixed-point range for the elimination's products."""


async def regression(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    """``linear_regression@1``: the coefficients in the columns' own units."""
    fit = await _fit(ctx, weights[0], summary=False)
    lay, p = fit.layout, fit.features
    e_y = lay.exponents[-1]
    slopes = [fit.beta[j] * 2.0 ** (e_y - lay.exponents[-1 - p + j]) for j in range(p)]
    coefficients = ([fit.intercept * 2.0**e_y] if fit.intercept is not None else []) + slopes
    return [ctx.mpc.np_fromlist(coefficients)]


async def regression_summary(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    """``linear_regression_summary@1``: n, the normalised coefficients, the diagonal of
    K^-1, the intercept's factor, residual and total sums, and the public exponents;
    the buyer turns them into the statsmodels-like table (``finish``)."""
    fit = await _fit(ctx, weights[0], summary=True)
    mpc, lay, p = ctx.mpc, fit.layout, fit.features
    coefficients = ([fit.intercept] if fit.intercept is not None else []) + [
        fit.beta[j] for j in range(p)
    ]
    scales = [float(e) for e in lay.exponents[int(lay.intercept) :]] + [float(lay.r)]
    assert fit.inverse is not None
    assert fit.factor is not None
    return [
        count_of(ctx, weights[0]),
        mpc.np_fromlist(coefficients),
        fit.inverse,
        fit.factor,
        fit.residual,
        fit.total,
        ctx.secfxp.array(np.array(scales), integral=True),
    ]


@dataclass
class _Fit:
    layout: ols.Layout
    features: int
    beta: Sec
    """Normalised slopes: beta_j * 2**(e_j - e_y)."""
    intercept: Sec | None
    """Normalised intercept: intercept / 2**e_y."""
    residual: Sec
    total: Sec
    inverse: Sec | None
    factor: Sec | None


async def _fit(ctx: Context, weight: Sec | None, *, summary: bool) -> _Fit:
    """Least squares on the centred, range-normalised moments (docs/smpc.md, "Regression")."""
    params = ctx.plan.params
    assert isinstance(params, Regression)
    mpc = ctx.mpc
    bounds = [c.bound or 1.0 for c in ctx.plan.columns]
    lay = ols.layout(bounds, ctx.rows, params.intercept, summary=summary)
    q = len(lay.exponents)
    p = q - 1 - int(params.intercept)
    moments = await _normalised_moments(ctx, weight, lay)  # (q, q) SecFld, scale 2**(32 + G)
    scale = 2.0**-ols.GUARD
    means = None
    if params.intercept:
        # K = A00 * A - a0 a0^T: exact field products (< 2**93), then one truncation to
        # scale 2**(32 + G). K = nu**2 * cov(u), nu = count / N: centred without a division.
        a00, a0, rest = moments[0, 0], moments[0, 1:], moments[1:, 1:]
        raw = rest * a00 - mpc.np_outer(a0, a0)
        centred = mpc.np_trunc(raw, f=32 + ols.GUARD, l=ols.TRUNC_L)
        k = await ctx.fixed(centred)  # K * 2**G as fixed point
        fixed = await ctx.fixed(moments)  # A * 2**G
        nu = fixed[0, 0] * scale  # count / N, in (0, 1]
        means = fixed[0, 1:] * (1 / nu) * scale  # column means / 2**e_j
    else:
        k = await ctx.fixed(moments)
    kxx, kxy, kyy = k[:p, :p], k[:p, p], k[p, p]
    extra = []
    if summary:  # scaled by 2**RIGHT: the solutions keep RIGHT more significant bits
        extra.append(ctx.secfxp.array(np.eye(p) * 2.0**RIGHT))
        if means is not None:
            extra.append(mpc.np_reshape(means[:p], (p, 1)) * 2.0**RIGHT)
    g = mpc.np_concatenate([kxx, *extra, mpc.np_reshape(kxy, (p, 1))], axis=1)
    g, pivots = _gauss_jordan(ctx, g, p)
    beta = g[:, -1]
    await _check_posed(ctx, pivots, beta)
    residual = kyy - (kxy * beta).sum()
    intercept = None if means is None else means[p] - (means[:p] * beta).sum()
    inverse = factor = None
    if summary:
        inverse = mpc.np_fromlist([g[j, p + j] for j in range(p)]) * 2.0 ** (ols.GUARD - RIGHT)
        factor = ctx.secfxp(0)
        if means is not None:
            factor = (means[:p] * g[:, 2 * p]).sum() * 2.0 ** (ols.GUARD - RIGHT)
    return _Fit(lay, p, beta, intercept, residual, kyy, inverse, factor)


async def _normalised_moments(ctx: Context, weight: Sec | None, lay: ols.Layout) -> Sec:
    """A_ij = sum u_i u_j / N at scale 2**(32 + G), exact up to the truncations' rounding
    (ols module docstring): block sums, divided by 2**s1, added, divided by 2**s2."""
    mpc, q, pairs = ctx.mpc, len(lay.exponents), lay.pairs
    sums = await _block_sums(ctx, weight, lay)  # (blocks, pairs) SecFld, exact
    stage1 = _shifted(ctx, sums, [lay.stage1(i, j) for i, j in pairs])
    totals = mpc.np_sum(stage1, axis=0) if lay.blocks > 1 else mpc.np_reshape(stage1, (-1,))
    moments = _shifted(ctx, totals, [lay.stage2(i, j) for i, j in pairs])
    position = {pair: n for n, pair in enumerate(pairs)}
    index = [position[min(i, j), max(i, j)] for i in range(q) for j in range(q)]
    return mpc.np_reshape(moments[index], (q, q))


def _shifted(ctx: Context, values: Sec, shifts: list[int]) -> Sec:
    """values[..., c] / 2**shifts[c] (probabilistic truncation), one call per distinct shift."""
    mpc = ctx.mpc
    parts, order = [], []
    for shift in sorted(set(shifts)):
        columns = [c for c, s in enumerate(shifts) if s == shift]
        part = values[..., columns]
        parts.append(part if shift == 0 else mpc.np_trunc(part, f=shift, l=ols.TRUNC_L))
        order += columns
    joined = mpc.np_concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
    inverse = np.argsort(order)
    return joined[..., inverse.tolist()]


async def _block_sums(ctx: Context, weight: Sec | None, lay: ols.Layout) -> Sec:
    """Exact sums of products of the raw values (scale 2**64) over each block of rows,
    (blocks, pairs), each below 2**LIMIT_BITS."""
    mpc, block, pairs = ctx.mpc, lay.block, lay.pairs
    columns = [c.share for c in ctx.plan.columns]
    if weight is None:  # every row: local digit arithmetic, one GRR98 resharing
        raw: list[FieldArray | None] = [None] * int(lay.intercept) + [ctx.raw(c) for c in columns]
        values = []
        for start in range(0, ctx.rows, block):
            stop = min(start + block, ctx.rows)
            part = [None if r is None else r[start:stop] for r in raw]
            for i, j in pairs:
                a, b = part[i], part[j]
                if a is not None and b is not None:
                    values.append(column_dot(a, b))  # degree 2t
                elif a is not None or b is not None:  # 1 * x: the column sum (degree t)
                    column = a if a is not None else b
                    assert column is not None
                    values.append((column_sum(column) << 32) % P)
                else:  # the constant column with itself: the block's length
                    values.append(((stop - start) << 64) % P)
        flat = ctx.reshared(values)  # degree-t values are degree <= 2t too
        return mpc.np_reshape(flat, (lay.blocks, len(pairs)))
    z = masked(ctx.matrix(columns), weight)
    if lay.intercept:
        z = mpc.np_concatenate([mpc.np_reshape(weight, (1, ctx.rows)), z])
    exact = await ctx.exact(z)
    rows, n = z.shape
    padding = lay.blocks * block - n
    if padding:
        zeros = ctx.field.array(np.zeros((rows, padding), dtype=object))
        exact = mpc.np_concatenate([exact, ctx.secfld.array(zeros)], axis=1)
    batched = mpc.np_transpose(mpc.np_reshape(exact, (rows, lay.blocks, block)), (1, 0, 2))
    products = batched @ mpc.np_transpose(batched, (0, 2, 1))  # (blocks, q, q), exact
    flat = mpc.np_reshape(products, (lay.blocks, rows * rows))
    return flat[:, [i * rows + j for i, j in pairs]]


def _gauss_jordan(ctx: Context, g: Sec, p: int) -> tuple[Sec, Sec]:
    """Gauss-Jordan elimination on [K | I | m | k_y] (K symmetric positive definite: no
    pivoting), one secure reciprocal per pivot (MPyC's fixed point). Also the pivots.

    A fixed-point reciprocal carries an absolute error of 2**-32: for a pivot below 1
    that is a relative error below 2**-32, for a pivot of 2**14 only 2**-18. So the
    row divided by a pivot >= 1 gets one Newton correction, q + (g - q * pivot) / pivot,
    which squares the relative error away (the correction is small, its own error is
    below 2**-32); the pivot's side of 1 is one secure comparison, never opened."""
    mpc, pivots = ctx.mpc, []
    bits = bits_for(2.0 ** (ols.GUARD + 1))
    for k in range(p):
        pivot = g[k, k]
        pivots.append(pivot)
        inverse = 1 / pivot
        quotient = g[k, :] * inverse
        large = 1 - ctx.less_than_zero(g[k, k : k + 1] - 1, bits)[0]
        row = quotient + large * ((g[k, :] - quotient * pivot) * inverse)
        g = g - mpc.np_outer(g[:, k], row)
        g = mpc.np_update(g, k, row)
    return g, mpc.np_fromlist(pivots)


async def _check_posed(ctx: Context, pivots: Sec, beta: Sec) -> None:
    """Refuse to return a solution the fixed point cannot carry: a pivot (the part of a
    feature's centred spread that the earlier features do not explain) below
    MIN_PIVOT, or a normalised coefficient beyond MAX_SLOPE. Only this bit is opened,
    as the cohort's; a failed job is not paid out (the buyer reclaims)."""
    bits = bits_for(2.0**31)
    low = ctx.less_than_zero(pivots - ols.MIN_PIVOT * 2.0**ols.GUARD, bits)
    high = ctx.less_than_zero(ols.MAX_SLOPE - beta, bits)
    very_low = ctx.less_than_zero(beta + ols.MAX_SLOPE, bits)
    bad = ctx.mpc.np_concatenate([low, high, very_low])
    if not bool(await ctx.mpc.output(ctx.mpc.np_prod(1 - bad))):
        raise DesignIllConditioned(
            f"{ctx.plan.spec.function}: the features are (nearly) collinear, or one is "
            "(nearly) constant over the rows that count, or a coefficient exceeds "
            f"{ols.MAX_SLOPE:g} times the target's declared range over the feature's: "
            "drop or combine features, or declare ranges closer to the data"
        )


async def kmeans(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    params = ctx.plan.params
    assert isinstance(params, KMeans)
    weight, k = weights[0], params.k
    columns = ctx.plan.columns
    x = ctx.matrix([c.share for c in columns])  # (d, n)
    init = params.init or [
        [c.span()[0] + (c.span()[1] - c.span()[0]) * (i + 0.5) / k for c in columns]
        for i in range(k)
    ]
    centroids = ctx.secfxp.array(np.array(init, dtype=float))
    bits, shift = lloyd_precision(ctx)
    sizes = None
    for _ in range(params.iterations):
        lloyd = lloyd_round(ctx, x, centroids, weight, bits, shift)
        centroids, sizes = lloyd.centroids, lloyd.sizes
    assert sizes is not None
    return [centroids, sizes]


@dataclass(frozen=True)
class LloydRound:
    """One round of Lloyd's algorithm: ``assign`` (k, n) one-hot per counting row,
    ``sizes`` (k,) and the new ``centroids`` (k, d)."""

    assign: Sec
    sizes: Sec
    centroids: Sec


def lloyd_precision(ctx: Context) -> tuple[int, int]:
    """The comparison bits of the scores (|score| <= 6 d B², B the widest declared bound)
    and the count's shift for ``lloyd_round``."""
    columns = ctx.plan.columns
    bound = max(c.bound or 1.0 for c in columns)
    bits = bits_for(6 * len(columns) * bound**2)
    shift = max(
        0, min(math.ceil(math.log2(max(ctx.rows, 2))), 29 - math.ceil(math.log2(bound + 1)))
    )
    return bits, shift


def lloyd_round(
    ctx: Context, x: Sec, centroids: Sec, weight: Sec | None, bits: int, shift: int
) -> LloydRound:
    """Lloyd's update (Lloyd 1982) on secret (d, n) columns ``x``, shared by ``kmeans@1``
    and ``kmeans@2``: scores ||c||² - 2 x·c (the row's own ||x||² is the same for every
    centroid), the first smallest per row, centroids from exact sums over the secure
    reciprocal of the count. ``bits`` bounds the scores' comparison; the count is scaled
    by 2**-``shift`` so its reciprocal keeps 20+ significant bits. An empty cluster keeps
    its centroid: a secret bit selects it, so nobody learns which cluster was empty."""
    mpc, k = ctx.mpc, centroids.shape[0]
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
    return LloydRound(assign, sizes, means + keep * (centroids - means))


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
