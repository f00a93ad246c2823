"""Column statistics inside the MPC: count, sum, moments, min/max, histogram, quantiles.

Every function returns a list of secure values in the order of the catalogue's
outputs. Sums are exact in the field (a 0/1 mask times a value is exact, sums
are local); sums of squares are exact dot products at scale 2**64 (``SecFld``
view), so the buyer divides exactly (``finish``). Order statistics compare
values with MPyC's ``np_sgn`` at the bit length the declared bounds allow.
"""

from __future__ import annotations

import numpy as np

from kraken_market.smpc.functions.catalogue import Histogram, Quantiles
from kraken_market.smpc.functions.local import column_dot, column_sum
from kraken_market.smpc.functions.mpc_base import Context, Sec
from kraken_market.smpc.functions.plan import LIMIT, DataColumn, bits_for


def masked(x: Sec, weight: Sec | None) -> Sec:
    return x if weight is None else weight * x


def count_of(ctx: Context, weight: Sec | None) -> Sec:
    return ctx.secfxp(ctx.rows) if weight is None else weight.sum()


async def count(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    return [count_of(ctx, weights[0])]


def _sum(ctx: Context, share: str, weight: Sec | None) -> Sec:
    if weight is None:  # every row: the sum of this node's shares, locally
        return ctx.shared([column_sum(ctx.raw(share))])
    return masked(ctx.load(share), weight).sum()


async def total(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    return [_sum(ctx, c.share, w) for c, w in zip(ctx.plan.columns, weights, strict=True)]


async def mean(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    return [count_of(ctx, w) for w in weights] + await total(ctx, weights)


async def moments(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    squares = []
    for column, weight in zip(ctx.plan.columns, weights, strict=True):
        if weight is None:  # local dot product, one resharing
            raw = ctx.raw(column.share)
            squares.append(ctx.reshared([column_dot(raw, raw)]))
            continue
        x = ctx.load(column.share)
        squares.append(await ctx.exact(masked(x, weight)) @ await ctx.exact(x))
    return await mean(ctx, weights) + squares


def _sentinels(columns: tuple[DataColumn, ...], lowest: bool) -> tuple[list[float], int]:
    """Values for rows that do not count (above every value for a minimum) and the bits
    of the comparisons over the values and sentinels."""
    spans = [c.span() for c in columns]
    values = [hi + 1 if lowest else lo - 1 for lo, hi in spans]
    values = [max(-LIMIT, min(LIMIT, v)) for v in values]
    width = max(max(hi, s) - min(lo, s) for (lo, hi), s in zip(spans, values, strict=True))
    return values, bits_for(width)


def filled(ctx: Context, weights: list[Sec | None], lowest: bool) -> tuple[Sec, int]:
    """The selected columns as a (columns, rows) array where rows that do not count hold
    a sentinel that sorts last."""
    sentinels, bits = _sentinels(ctx.plan.columns, lowest)
    rows = []
    for column, weight, sentinel in zip(ctx.plan.columns, weights, sentinels, strict=True):
        x = ctx.load(column.share)
        rows.append(x if weight is None else weight * (x - sentinel) + sentinel)
    return ctx.mpc.np_stack(rows), bits


async def extreme(ctx: Context, weights: list[Sec | None], lowest: bool) -> list[Sec]:
    """Minimum (or maximum) of each row of the array: a tournament of vectorised
    comparisons, n - 1 per column in ceil(log2 n) rounds."""
    v, bits = filled(ctx, weights, lowest)
    mpc = ctx.mpc
    while v.shape[1] > 1:
        half = v.shape[1] // 2
        a, b = v[:, :half], v[:, half : 2 * half]
        lt = ctx.less_than_zero(a - b, bits)  # a < b
        best = b + lt * (a - b) if lowest else a + lt * (b - a)
        v = best if v.shape[1] % 2 == 0 else mpc.np_concatenate([best, v[:, 2 * half :]], axis=1)
    return [v[:, 0]]


async def minimum(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    return await extreme(ctx, weights, lowest=True)


async def maximum(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    return await extreme(ctx, weights, lowest=False)


async def histogram(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    """Counts per bin [e_k, e_k+1) (the last bin closed), from one batch of
    comparisons x < e_k (k < K) and e_K < x per value."""
    params = ctx.plan.params
    assert isinstance(params, Histogram)
    edges = params.edges
    counts: list[Sec] = []
    for column, weight in zip(ctx.plan.columns, weights, strict=True):
        x = ctx.load(column.share)
        lo, hi = column.span()
        bits = bits_for(max(max(abs(hi - e), abs(e - lo)) for e in edges))
        below = ctx.mpc.np_stack([x - e for e in edges[:-1]] + [edges[-1] - x])
        lt = ctx.less_than_zero(below, bits)
        s = masked(lt, weight).sum(axis=1)  # s_k = rows below e_k; s_K = rows above e_K
        n = count_of(ctx, weight)
        k = len(edges) - 1
        bins = [s[i + 1] - s[i] for i in range(k - 1)] + [n - s[k - 1] - s[k]]
        counts.append(ctx.mpc.np_fromlist(bins))
    return counts


def sort_rows(ctx: Context, a: Sec, bits: int) -> Sec:
    """Each row of ``a`` sorted ascending: Batcher's odd-even merge network (as MPyC's
    ``np_sort``, vectorised per layer) with comparisons at ``bits`` bits."""
    mpc, n = ctx.mpc, a.shape[-1]
    if n <= 1:
        return a
    t = (n - 1).bit_length()
    p = 1 << (t - 1)
    while p:
        d, q, r = p, 1 << (t - 1), 0
        while d:
            index = np.fromiter((i for i in range(n - d) if i & p == r), dtype=int)
            b0, b1 = a[..., index], a[..., index + d]
            h = ctx.less_than_zero(b1 - b0, bits) * (b1 - b0)
            a = mpc.np_update(a, (..., index), b0 + h)
            a = mpc.np_update(a, (..., index + d), b1 - h)
            d, q, r = q - p, q >> 1, p
        p >>= 1
    return a


async def quantiles(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    """numpy's 'linear' quantiles: sort (rows that do not count last), then interpolate
    between order statistics floor(q (n - 1)) and the next; when n is secret the index
    is a secret one-hot vector built from the comparisons pos >= k."""
    params = ctx.plan.params
    probabilities = params.q if isinstance(params, Quantiles) else [0.5]
    return quantiles_of(ctx, weights, probabilities)


def quantiles_of(ctx: Context, weights: list[Sec | None], probabilities: list[float]) -> list[Sec]:
    """Per probability, the (columns,) array of each selected column's quantile (numpy
    'linear') over the rows its weight counts: what :func:`quantiles` returns, also
    k-means' data-driven seeds (``mpc_kmeans``)."""
    v, bits = filled(ctx, weights, lowest=True)
    s = sort_rows(ctx, v, bits)
    n = ctx.rows
    out: list[list[Sec]] = [[] for _ in probabilities]
    for j, weight in enumerate(weights):
        row = s[j]
        following = ctx.mpc.np_concatenate([row[1:], row[n - 1 :]])
        for i, q in enumerate(probabilities):
            if weight is None:
                position = q * (n - 1)
                k = min(int(np.floor(position)), n - 1)
                value = row[k] + (position - k) * (following[k] - row[k])
            else:
                value = _secret_rank(ctx, weight.sum(), q, row, following)
            out[i].append(value)
    return [ctx.mpc.np_fromlist(values) for values in out]


def _secret_rank(ctx: Context, count: Sec, q: float, row: Sec, following: Sec) -> Sec:
    mpc, n = ctx.mpc, ctx.rows
    position = mpc.np_fromlist([count * q - q])  # q (n_w - 1), shape (1,)
    ge = 1 - ctx.less_than_zero(position - np.arange(1, n), bits_for(2 * n))  # pos >= k
    one = ctx.secfxp.array(np.ones(1), integral=True)
    zero = ctx.secfxp.array(np.zeros(1), integral=True)
    steps = mpc.np_concatenate([one, ge, zero])
    unit = steps[:-1] - steps[1:]  # one-hot at floor(pos)
    fraction = position[0] - ge.sum()
    low, high = unit @ row, unit @ following
    return low + fraction * (high - low)
