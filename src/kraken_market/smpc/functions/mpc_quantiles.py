"""Quantiles (numpy 'linear') and medians inside the MPC, by secure radix selection.

For each probability q the order statistics of ranks floor(q (n - 1)) and the next
are selected (``mpc_select``: nothing is sorted, nothing opened) and interpolated,
``low + t (high - low)`` with t = q (n - 1) - floor(q (n - 1)) held to 2^-52 as
two 26-bit halves: each half times (high - low) is exact in the field (below 2^91
for any fixed-point values) and one probabilistic truncation each (Catrina and
Saxena 2010, MPyC's ``np_trunc``) brings it to 2^-32. The interpolation so adds at
most (high - low) 2^-53 + 2^-31, where a fixed-point weight (as before, 2^-32)
added (high - low) 2^-33: below 10^-6 for any range under 8,000, whatever it is now.

With a filter or missing values the count n is secret: the positions q (n - 1) are
exact integers at 2^-52 (q rounded to 2^-52), split into floor and fraction by one
bit decomposition of their 52 low bits, and the next rank is floor + [floor + 1 < n].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kraken_market.smpc.fixedpoint import FRAC
from kraken_market.smpc.functions.mpc_base import Context, Sec
from kraken_market.smpc.functions.mpc_select import as_integers, low_bits, secint, select

FRACTION = 52
"""Bits of the interpolation weight t (float64's, whose q (n - 1) numpy uses)."""
HALF = FRACTION // 2
"""(high - low) < 2^65 times a 26-bit half is below 2^91: with MPyC's truncation mask
(sec_param = 30 bits more) and a sign bit it stays below the 128-bit field."""


async def quantiles_of(
    ctx: Context, weights: list[Sec | None], probabilities: list[float]
) -> list[Sec]:
    """Per probability, the (columns,) array of each selected column's quantile (numpy
    'linear') over the rows its weight counts: what ``quantiles@1`` and ``median@1``
    return, also k-means' data-driven seeds (``mpc_kmeans``)."""
    mpc, columns, kind = ctx.mpc, ctx.plan.columns, secint(ctx)
    lows = [math.floor(c.span()[0] * 2**FRAC) for c in columns]
    highs = [math.ceil(c.span()[1] * 2**FRAC) for c in columns]
    bits = max(max(h - lo for h, lo in zip(highs, lows, strict=True)).bit_length(), 1)
    offsets = np.array(lows, dtype=object).reshape(len(columns), 1)
    x = await as_integers(ctx, mpc.np_stack([ctx.load(c.share) for c in columns]), scaled=False)
    digits = await low_bits(ctx, x - offsets, bits)
    ranks = [await _ranks(ctx, weight, probabilities) for weight in weights]
    rows = None
    if any(w is not None for w in weights):
        ones = kind.array(np.ones(ctx.rows, dtype=object))
        rows = mpc.np_stack(
            [ones if w is None else await as_integers(ctx, w, scaled=True) for w in weights]
        )
    public = all(r.public for r in ranks)
    if public:
        order: Sec = np.stack([r.ranks for r in ranks])
    else:
        order = mpc.np_stack([kind.array(r.ranks) if r.public else r.ranks for r in ranks])
    chosen = select(ctx, digits, rows, order) + offsets  # (columns, 2 per probability)
    out = []
    for i in range(len(probabilities)):
        low, high = chosen[:, 2 * i], chosen[:, 2 * i + 1]
        step = low
        for half, shift in ((0, HALF), (1, FRACTION)):  # t = (t_high 2^26 + t_low) 2^-52
            if public:
                weight: Sec = np.array([r.fractions[half][i] for r in ranks], dtype=object)
            else:
                weight = mpc.np_fromlist([
                    kind(int(r.fractions[half][i])) if r.public else r.fractions[half][i]
                    for r in ranks
                ])  # fmt: skip
            step = step + mpc.np_trunc((high - low) * weight, f=shift, l=bits + HALF + 2)
        out.append(ctx.secfxp.array(await mpc.gather(step)))  # integers round(v 2^32)
    return out


@dataclass(frozen=True)
class Ranks:
    """Per probability q, the 0-based ranks floor(q (n - 1)) and min(that + 1, n - 1)
    (interleaved, 2 per q) and the interpolation weights round(t 2^52) as their high
    and low 26 bits: numpy arrays when the count is public, secure integers when it is
    secret."""

    public: bool
    ranks: Any
    fractions: Any


async def _ranks(ctx: Context, weight: Sec | None, probabilities: list[float]) -> Ranks:
    if weight is None:  # numpy's own arithmetic: index q (n - 1), floor and fraction
        n = ctx.rows
        positions = [q * (n - 1) for q in probabilities]
        low = [min(math.floor(p), n - 1) for p in positions]
        ranks = np.array([r for k in low for r in (k, min(k + 1, n - 1))], dtype=object)
        t = [round((p - k) * 2**FRACTION) for p, k in zip(positions, low, strict=True)]
        halves = (np.array([v >> HALF for v in t], dtype=object),
                  np.array([v & ((1 << HALF) - 1) for v in t], dtype=object))  # fmt: skip
        return Ranks(True, ranks, halves)
    mpc, field = ctx.mpc, ctx.field
    count = await as_integers(ctx, mpc.np_fromlist([weight.sum()]), scaled=True)  # (1,)
    rounded = np.array([round(q * 2**FRACTION) for q in probabilities], dtype=object)
    position = count * rounded - rounded  # q (n - 1) 2^52, exact
    digits = await low_bits(ctx, position, FRACTION)
    powers = np.array([1 << i for i in range(HALF)], dtype=object)
    high_half, low_half = powers @ digits[HALF:], powers @ digits[:HALF]
    shares = await mpc.gather(position - high_half * (1 << HALF) - low_half)
    low = secint(ctx).array(shares * field(pow(1 << FRACTION, -1, field.modulus)))
    size = (ctx.rows + 2).bit_length() + 1  # low + 1 - n lies in [-n - 1, n + 1]
    high = low + ctx.less_than_zero(low + 1 - count, size)  # the next rank, unless past n - 1
    ranks = mpc.np_reshape(mpc.np_stack([low, high], axis=1), (-1,))
    return Ranks(False, ranks, (high_half, low_half))
