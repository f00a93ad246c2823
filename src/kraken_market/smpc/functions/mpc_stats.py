"""Column statistics inside the MPC: count, sum, moments, min/max, histogram, quantiles.

Every function returns a list of secure values in the order of the catalogue's
outputs. Sums are exact in the field (a 0/1 mask times a value is exact, sums
are local); sums of squares are exact dot products at scale 2**64 (``SecFld``
view), so the buyer divides exactly (``finish``). Order statistics compare
values (``Context.less_than_zero``) at the bit length the declared bounds allow (min,
max, histogram); quantiles select by the values' bits (``mpc_quantiles``,
``mpc_select``).
"""

from __future__ import annotations

from kraken_market.smpc.functions.catalogue import Histogram, Quantiles
from kraken_market.smpc.functions.local import column_dot, column_sum
from kraken_market.smpc.functions.mpc_base import Context, Sec
from kraken_market.smpc.functions.mpc_quantiles import quantiles_of
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


async def quantiles(ctx: Context, weights: list[Sec | None]) -> list[Sec]:
    """numpy's 'linear' quantiles: the order statistics floor(q (n - 1)) and the next
    (secure radix selection, ``mpc_select``), interpolated; with a secret count n the
    ranks and the interpolation weight are secret too."""
    params = ctx.plan.params
    probabilities = params.q if isinstance(params, Quantiles) else [0.5]
    return await quantiles_of(ctx, weights, probabilities)
