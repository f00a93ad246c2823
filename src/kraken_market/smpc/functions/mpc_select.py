"""Order statistics by secure radix selection: median, quantiles, k-means seeds.

Why not a sorting network: Batcher's network (what MPyC's ``np_sort`` does, and
what this package did before) makes about n log2(n)^2 / 4 secure comparisons of
l-bit differences to reach one order statistic. Selecting the k-th smallest
value digit by digit instead costs, per value, one bit decomposition (among three
nodes: a boolean circuit on replicated bits and one product a bit,
``mpc_compare.low_bits``) and, per 3 bits, 4 multiplications, 2 more per rank
sought and 7 comparisons of *counts* with the rank (log2 n + 2 bits, not l):
O(n l) work in O(l) rounds, independent of log n. On 128 rows of a declared range
of 10,000 (l = 46) a median takes about a sixth of MPyC's ``np_sort`` time
(bench/smpc.py); the gap grows with n.

Method:

- bit decomposition of ``y = x - low`` (the declared lower bound, public): among
  three nodes on replicated bits (``mpc_compare.low_bits``, several times faster);
  otherwise, as follows, by
  opening ``y`` statistically masked with ``r = r_high 2^l + sum r_i 2^i`` (the
  r_i secret random bits) and subtracting the bits of ``r mod 2^l`` from the
  public bits of the opened value: Schoenmakers and Tuyls, "Efficient binary
  conversion for Paillier encrypted values" (EUROCRYPT 2006), as MPyC's
  ``np_to_bits``. Written out here because ``np_to_bits`` adds with a log-depth
  carry circuit of about (l/2) log2 l products built from many small arrays
  (0.26 s for 128 values of 46 bits here, 2.5 times a comparison of each): a
  carry-select borrow chain (3 products a bit, about 2 sqrt(l) rounds) on whole
  arrays does the same;
- radix selection of the k-th smallest from the most significant bits down
  (``GROUP`` at a time): the rows still in play hold the prefix found so far;
  counting them per value of the next digit and comparing the running counts
  with k says the k-th smallest's digit (secret), and which rows stay in play.
  It is the binary search for the k-th ranked element over the value domain of
  Aggarwal, Mishra and Pinkas, "Secure computation of the k-th ranked element"
  (EUROCRYPT 2004), with every count and decision kept secret instead of
  opened.

Nothing is opened but statistically masked values (the masked ``y`` of a bit
decomposition and of each comparison, as in every MPyC comparison) and, among
three nodes, AND-gate messages masked by fresh zero-sharings; the public inputs are the
declared bounds (the bit length l and ``low``) and the row count, which the
sorting network used too. Every secret integer here is a ``SecInt`` over the
same field as the fixed-point shares, so no conversion is needed: a fixed-point
value is the integer ``round(v 2^32)``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from kraken_market.smpc.field import P
from kraken_market.smpc.fixedpoint import FRAC
from kraken_market.smpc.functions import mpc_compare
from kraken_market.smpc.functions.mpc_base import Context, Sec

MASKED_BITS = 90
"""L: what is decomposed lies in (-2^L, 2^L): a fixed-point value minus a declared
bound in (-2^64, 2^64), a quantile's position q (n - 1) 2^s below 2^(31 + 52); the
mask adds ``sec_param`` (30) bits on top for statistical hiding, L + 30 + 2 bits stay
below the 128-bit field."""


def secint(ctx: Context) -> Any:
    """MPyC's secure integers over the share field (the same field object)."""
    kind = ctx.mpc.SecInt(l=MASKED_BITS, p=P)
    if kind.field is not ctx.field:
        raise RuntimeError("MPyC picked another field than the share format's")
    return kind


async def as_integers(ctx: Context, x: Sec, *, scaled: bool) -> Sec:
    """The shares of a fixed-point array as secure integers: ``round(v 2^32)``, or
    ``v`` itself for an integral array (``scaled``: divided by 2^32, exact)."""
    shares = await ctx.mpc.gather(x)
    if scaled:
        shares = shares * ctx.field(pow(1 << FRAC, -1, P))
    return secint(ctx).array(shares)


async def low_bits(ctx: Context, y: Sec, bits: int) -> Sec:
    """The ``bits`` least significant bits of each secure integer in ``y`` (|y| < 2^L):
    a (bits, *y.shape) 0/1 secure integer array, least significant first.

    One opening of c = y + 2^L + r (r uniform below 2^(L + sec_param), its low ``bits``
    bits secret random bits r_i), then y mod 2^bits = (c - r) mod 2^bits: bit i is
    c_i xor r_i xor b_i with b_i the borrow into bit i, b_(i+1) = g_i + p_i b_i where
    g_i = (1 - c_i) r_i (a borrow made here) and p_i = 1 - (c_i xor r_i) (one passed
    on) are linear in the secret bits since c is public. The borrows are a
    carry-select chain (Bedrij 1962) over blocks of about sqrt(bits) bits: inside
    every block at once, the bits and borrows for an incoming borrow of 0 and of 1
    (w - 1 rounds); then the blocks' incoming borrows one after the other (bits / w - 1
    rounds); then one product picks each bit. About 2 sqrt(bits) rounds and 3 products
    per bit, against bits - 1 rounds (1 product a bit) for a plain ripple and about
    (bits / 2) log2(bits) products for MPyC's log-depth carries."""
    mpc, field, kind = ctx.mpc, ctx.field, secint(ctx)
    if mpc_compare.decomposes(mpc, bits, MASKED_BITS):  # three nodes: on replicated bits
        return await mpc_compare.low_bits(mpc, kind, y, bits, MASKED_BITS)
    shape, n = y.shape, y.size
    k = mpc.options.sec_param
    if MASKED_BITS + k + 2 >= field.modulus.bit_length() or bits > MASKED_BITS:
        raise ValueError("the masked value would not fit the field")
    random = mpc.np_random_bits(field, bits * n)
    high = mpc._np_randoms(field, n, 1 << (MASKED_BITS + k - bits))
    if mpc.options.no_prss:
        high = await high
    r = (await random).value.reshape(bits, n)
    r_low = np.sum(r << np.arange(bits).reshape(bits, 1), axis=0)
    shares = (await mpc.gather(y)).value.reshape(n)
    masked = (shares + (1 << MASKED_BITS) + (high.value << bits) + r_low) % field.modulus
    c = (await mpc.output(field.array(masked))).value
    width = math.isqrt(max(bits - 1, 0)) + 1
    blocks = -(-bits // width)
    padded = blocks * width  # padding bits: c_i = r_i = 0, so they make no borrow
    c_bits = np.zeros((padded, n), dtype=object)
    c_bits[:bits] = (c.reshape(1, n) >> np.arange(bits).reshape(bits, 1)) & 1
    r_bits = np.zeros((padded, n), dtype=object)
    r_bits[:bits] = r
    secret = kind.array(field.array(r_bits.reshape(blocks, width, n)))
    public = c_bits.reshape(blocks, width, n)
    odd = public + secret - 2 * public * secret  # c_i xor r_i
    make = (1 - public) * secret
    # Inside every block at once, for an incoming borrow e of 0 and of 1: with
    # u = odd_t b_t (one product), bit t is odd_t + b_t - 2u and the next borrow
    # make_t + (1 - odd_t) b_t = make_t + b_t - u.
    borrow = np.array([0, 1], dtype=object).reshape(2, 1, 1) + 0 * make[:, 0, :]
    variants = []  # (2, blocks, n) per bit of the block
    for t in range(width):
        both = odd[:, t, :] * borrow if t else odd[:, 0, :] * np.array([0, 1]).reshape(2, 1, 1)
        variants.append(odd[:, t, :] + borrow - 2 * both)
        borrow = make[:, t, :] + borrow - both
    # Across blocks, one after the other: the borrow into each block.
    into = [0 * make[0, 0, :]]
    for j in range(blocks - 1):
        into.append(borrow[0, j] + (borrow[1, j] - borrow[0, j]) * into[-1])
    incoming = mpc.np_stack(into)  # (blocks, n)
    both = mpc.np_stack(variants)  # (width, 2, blocks, n)
    chosen = both[:, 0] + (both[:, 1] - both[:, 0]) * incoming  # (width, blocks, n)
    ordered = mpc.np_transpose(chosen, axes=(1, 0, 2)).reshape((padded, n))  # bit jw + t
    return ordered[:bits].reshape((bits, *shape))


GROUP = 3
"""Bits decided per round of the selection: 2^GROUP - 1 count comparisons in parallel
per round instead of one, for GROUP times fewer rounds (rounds, not arithmetic, bound
it here)."""


def monomials(ctx: Context, digits: Sec) -> Sec:
    """(groups, columns, 2^g, n) from (groups, g, columns, n) bits: for every subset S
    of a group's g bits (S as a bit mask), the product of its bits (1 for the empty
    set): 2^g - g - 1 products a row and group, g - 1 rounds, all groups at once. Every
    0/1 function of the bits is a public linear combination of these (``mobius``), so
    the selection needs no other products of bits."""
    groups, g, columns, n = digits.shape
    terms: list[Sec] = [digits[:, 0]]  # S = {0}; S = {} is added last
    for i in range(1, g):
        bit = digits[:, i]
        products = ctx.mpc.np_stack(terms) * bit.reshape((1, groups, columns, n))
        # a new list: MPyC's np_stack above holds on to the one it was given
        terms = [*terms, bit, *(products[j] for j in range(len(terms)))]
    one = secint(ctx).array(np.ones((groups, columns, n), dtype=object))
    return ctx.mpc.np_stack([one, *terms], axis=2)


@functools.cache
def mobius(g: int) -> np.ndarray[Any, Any]:
    """M with [digit = v] = sum_S M[v, S] prod_(i in S) b_i (inclusion-exclusion:
    (-1)^|S - V| for the subsets S of the bits above V = the set bits of v)."""
    size = 1 << g
    matrix = np.zeros((size, size), dtype=object)
    for v in range(size):
        for mask in range(size):
            if mask & v == v:
                matrix[v, mask] = (-1) ** bin(mask & ~v).count("1")
    return matrix


@functools.cache
def _steps(g: int) -> tuple[np.ndarray[Any, Any], ...]:
    """Public matrices of one round (monomial sums m, thermometer bits a_t = [S_t <= k]):
    m @ below = S_1 .. S_(2^g - 1); m @ counts = c_0 .. c_(2^g - 2); the one-hot digit in
    the monomial basis is first + a @ onehot (a_0 = 1 and a_(2^g) = 0 are constants)."""
    size, change = 1 << g, mobius(g)
    counts = change.T  # m @ M^T: rows in play per digit value
    below = counts @ np.array([[int(v < t) for t in range(1, size)] for v in range(size)],
                              dtype=object)  # fmt: skip
    differences = np.zeros((size - 1, size), dtype=object)
    for t in range(size - 1):  # a_(t+1) enters o_t with -1 and o_(t+1) with +1
        differences[t, t], differences[t, t + 1] = -1, 1
    return below, counts[:, :-1], change[0], differences @ change


def select(ctx: Context, digits: Sec, rows: Sec | None, ranks: Sec) -> Sec:
    """The ranks[..., j]-th smallest (0-based) of the values whose bits are ``digits``
    ((l, columns, n), least significant first) among the rows that count (``rows``:
    (columns, n) 0/1 secure integers, None for all), as (columns, R) secure integers.
    A rank at or beyond the count gives a value no row holds.

    GROUP bits at a time from the top: the rows in play (``live``) count per value v
    of their next digit (dot products with the digit's monomials), the comparisons
    S_t <= k of the running sums S_t = sum_(v < t) c_v give the k-th smallest's digit
    as a thermometer code, whose differences are its one-hot code o; then k -= S_digit
    (= sum_t [S_t <= k] c_(t-1)) and live_j *= [digit_j = digit] (a dot product of row
    j's monomials with o in the monomial basis, then one product)."""
    mpc = ctx.mpc
    bits, columns, n = digits.shape
    width = ranks.shape[-1]
    size = (n + 1).bit_length() + 1  # ranks and counts lie in [-1, n]: k - S_t too
    groups = -(-bits // GROUP)
    if groups * GROUP > bits:  # top bits of 0 (public): their values are never chosen
        zeros = secint(ctx).array(np.zeros((groups * GROUP - bits, columns, n), dtype=object))
        digits = mpc.np_concatenate((digits, zeros), axis=0)
    tables = monomials(ctx, digits.reshape((groups, GROUP, columns, n)))
    below_of, counts_of, first, onehot = _steps(GROUP)
    live: Sec = None if rows is None else rows.reshape((columns, 1, n))
    value: Sec = 0
    rank = ranks.reshape((columns, width, 1))
    for group in reversed(range(groups)):
        table = tables[group]  # (columns, 2^g, n)
        if live is None:  # every row in play: the sums are local
            sums = table.sum(axis=2).reshape((columns, 1, 1 << GROUP))
        else:
            sums = live @ mpc.np_transpose(table, axes=(0, 2, 1))  # (columns, R|1, 2^g)
        at_most = 1 - ctx.less_than_zero(rank - sums @ below_of, size)  # (columns, R, 2^g-1)
        rank = rank - (at_most * (sums @ counts_of)).sum(axis=2).reshape((columns, width, 1))
        match = (first + at_most @ onehot) @ table  # (columns, R, n): the digit is chosen
        live = match if live is None else live * match
        value = value + at_most.sum(axis=2) * (1 << (group * GROUP))
    return value
