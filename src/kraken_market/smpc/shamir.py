"""Shamir secret sharing over GF(P), vectorised (Shamir 1979; as used by GRR98 and MPyC).

A secret s is the constant term of a random polynomial
``f(X) = s + c_1 X + ... + c_t X^t`` whose coefficients are uniform in GF(P);
node i (0-based) receives ``f(i + 1)``. Any t shares are independent of s
(uniform, whatever s is); any t + 1 determine it by Lagrange interpolation at
0. With m nodes and 2t < m (Gennaro, Rabin, Rabin 1998, "Simplified VSS and
fast-track multiparty computations"), the nodes can also multiply shared
values, which MPyC relies on; we require 1 <= t and 2t < m.

This is exactly the distribution of ``mpyc.thresha.np_random_split(F, s, t,
m)`` (row i is party i's shares, evaluation point i + 1), so a node loads its
row with ``secfxp.field.array(row)`` and ``mpyc.thresha.recombine`` recombines
ours; the tests check both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from kraken_market.smpc.field import FieldArray, P, RandomBytes, add, mul_const, mul_small
from kraken_market.smpc.field import random_elements as _random_elements

BLOCK = 1 << 16
"""Elements processed per numpy pass: 512 KiB limb arrays stay in cache (about 10x faster
than whole-column passes, which spend their time faulting in fresh pages)."""


def check_threshold(m: int, t: int) -> None:
    """``ValueError`` unless 1 <= t and 2t < m (honest majority, semi-honest nodes)."""
    if t < 1 or 2 * t >= m:
        raise ValueError(
            f"threshold t={t} with m={m} nodes: need 1 <= t and 2t < m (e.g. m=3, t=1; m=5, t=2)"
        )


def default_threshold(m: int) -> int:
    """The largest t with 2t < m, MPyC's default ``(m - 1) // 2``."""
    return (m - 1) // 2


def split(
    secrets: FieldArray, t: int, m: int, *, randbytes: RandomBytes = os.urandom
) -> list[FieldArray]:
    """Shares of every element of ``secrets`` for m nodes; item i is node i's array
    (same shape as ``secrets``), the evaluation of each polynomial at X = i + 1."""
    check_threshold(m, t)
    flat = secrets.reshape(secrets.size)
    shares = [FieldArray.zeros((secrets.size,)) for _ in range(m)]
    for start in range(0, secrets.size, BLOCK):
        s = flat[start : start + BLOCK]
        coefficients = [_random_elements(s.shape, randbytes) for _ in range(t)]
        for x, share in enumerate(shares, start=1):
            # Horner: ((c_t x + c_{t-1}) x + ... + c_1) x + s
            y = coefficients[-1]
            for c in reversed(coefficients[:-1]):
                y = add(mul_small(y, x), c)
            y = add(mul_small(y, x), s)
            share.lo[start : start + BLOCK] = y.lo
            share.hi[start : start + BLOCK] = y.hi
    return [share.reshape(*secrets.shape) for share in shares]


def lagrange_coefficients(xs: Sequence[int], at: int = 0) -> list[int]:
    """The coefficients l_i with f(at) = sum(l_i * f(xs[i])) for any f of degree < len(xs)."""
    if len(set(xs)) != len(xs):
        raise ValueError("evaluation points must be distinct")
    coefficients = []
    for i, x_i in enumerate(xs):
        numerator, denominator = 1, 1
        for j, x_j in enumerate(xs):
            if i != j:
                numerator = numerator * (at - x_j) % P
                denominator = denominator * (x_i - x_j) % P
        coefficients.append(numerator * pow(denominator, -1, P) % P)
    return coefficients


def interpolate(points: Sequence[tuple[int, FieldArray]], at: int = 0) -> FieldArray:
    """The value at ``at`` of the polynomials through ``points`` ((x, shares) pairs,
    x = node index + 1), elementwise; with t + 1 points of degree-t sharings this
    recombines the secrets (at = 0)."""
    if not points:
        raise ValueError("no shares to recombine")
    coefficients = lagrange_coefficients([x for x, _ in points], at)
    shape = points[0][1].shape
    flats = [y.reshape(y.size) for _, y in points]
    total = FieldArray.zeros((flats[0].size,))
    for start in range(0, total.size, BLOCK):
        acc: FieldArray | None = None
        for y, coefficient in zip(flats, coefficients, strict=True):
            term = mul_const(y[start : start + BLOCK], coefficient)
            acc = term if acc is None else add(acc, term)
        assert acc is not None
        total.lo[start : start + BLOCK] = acc.lo
        total.hi[start : start + BLOCK] = acc.hi
    return total.reshape(*shape)


def recombine(points: Sequence[tuple[int, FieldArray]], t: int) -> FieldArray:
    """The secrets from at least t + 1 ``(x, shares)`` points (x = node index + 1).

    With more than t + 1 points, every extra point must lie on the same degree-t
    polynomials; ``ValueError`` names the first that does not (a faulty share).
    """
    if len(points) < t + 1:
        raise ValueError(f"need at least t + 1 = {t + 1} shares, got {len(points)}")
    base = list(points[: t + 1])
    for x, y in points[t + 1 :]:
        if not interpolate(base, at=x).equals(y):
            raise ValueError(f"the share at x={x} is not consistent with the others")
    return interpolate(base)
