"""The public arithmetic of least squares inside the MPC: scales, blocks, shifts, cost.

Pure code, shared by the plan (which refuses what cannot be answered, before
anyone pays), the MPC (``mpc_linalg``, which follows this layout) and the
buyer (``finish``, which undoes the public scales). The derivation, with the
magnitudes each quantity reaches, is in ``docs/smpc.md`` ("Regression").

Every column j of the design Z (the constant 1 first when there is an
intercept, then the features, then the target) has a declared bound B_j; its
*exponent* is e_j = max(0, ceil(log2 B_j)), so u_j = x_j / 2**e_j lies in
[-1, 1]. With N = 2**r >= rows, the normalised moments

    A_ij = sum_rows u_i u_j / N        (|A_ij| <= 1)

are what the solve works on. A value x is a field element x * 2**32, so a
product of two raw values is at scale 2**64 and one row contributes at most
2**(64 + e_i + e_j). MPyC's probabilistic truncation (Catrina and Saxena 2010)
of an l-bit value masks it with l + k bits (k = 30, MPyC's security
parameter), so every value we truncate is kept below 2**LIMIT_BITS with
l = TRUNC_L, l + k + 2 < 128 = log2 of the field's modulus:

1. exact sums of raw products over blocks of at most 2**(LIMIT_BITS - 64 -
   2 e_max) rows (each block sum < 2**LIMIT_BITS);
2. each block sum divided by 2**s1 (s1 so that the sum of all blocks stays
   below 2**LIMIT_BITS), then summed over the blocks (one block: nothing to
   divide);
3. that sum divided by 2**s2: A_ij at scale 2**(32 + GUARD), i.e. with
   GUARD more fractional bits than a fixed-point value.

The truncations' cost is dominated by their random bits (MPyC makes one
secret random bit per truncated bit, about 40 us each on 3 local processes),
so :func:`layout` also counts them; a request above :data:`MAX_RANDOM_BITS`
is refused with the change that would bring it in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

LIMIT_BITS: Final = 94
"""Every value we truncate lies below 2**94 in magnitude."""
TRUNC_L: Final = 96
"""The bit length we tell MPyC's truncation (|a| < 2**95; 96 + 30 + 2 <= 128)."""
GUARD: Final = 14
"""Extra fractional bits of the moments and of the centred matrix: the solve runs on
K * 2**14 (entries <= 2**14, so every product in the elimination stays below the
fixed-point limit 2**31) and K keeps 46 fractional bits."""
MAX_EXPONENT: Final = 15
"""Largest column exponent: one row's product (2**(64 + 2*15)) still leaves a block of
one row below 2**LIMIT_BITS. Declared bounds up to 2**15 = 32768."""
MIN_PIVOT: Final = 2.0**-26
"""Smallest pivot of the elimination (in K's units, K <= 1) the MPC accepts: K is exact
to about 2**-45, so a pivot keeps at least 19 significant bits, and its reciprocal
(<= 2**12 in the solve's units) keeps the row it scales within the fixed-point range;
below, the design is (nearly) singular and the job fails ``design_ill_conditioned``
instead of answering."""
MAX_SLOPE: Final = 2.0**15
"""Largest normalised coefficient |beta_j| * 2**(e_j - e_y): K * 2**14 times it stays
below the fixed-point limit 2**31 in the residual."""
MAX_RANDOM_BITS: Final = 1 << 22
"""Random bits of the truncations a regression may need: about 3 minutes on the 2-core
development machine (40 us a bit), well within a node's job timeout (900 s); beyond,
the request is refused with what to change."""


def exponent(bound: float) -> int:
    """e with |x| <= bound <= 2**e (at least 0: the constant column and 0/1 columns are 0)."""
    return max(0, math.ceil(math.log2(bound))) if bound > 0 else 0


@dataclass(frozen=True)
class Layout:
    """The public schedule of one regression's moments."""

    exponents: tuple[int, ...]
    """e_j per column of Z: [1 if intercept] + features + [target]."""
    rows: int
    intercept: bool
    summary: bool = False
    """Whether the inverse's diagonal is computed too (``linear_regression_summary``)."""

    @property
    def r(self) -> int:
        """N = 2**r >= rows: the moments are divided by N (public), never by the count."""
        return max(0, math.ceil(math.log2(max(self.rows, 1))))

    @property
    def block(self) -> int:
        """Rows per block: block * 2**(64 + 2 e_max) <= 2**LIMIT_BITS."""
        return 1 << max(0, LIMIT_BITS - 64 - 2 * max(self.exponents))

    @property
    def blocks(self) -> int:
        return max(1, -(-self.rows // self.block))

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """(i, j), i <= j: the moments computed (the matrix is symmetric)."""
        q = len(self.exponents)
        return [(i, j) for i in range(q) for j in range(i, q)]

    def stage1(self, i: int, j: int) -> int:
        """Bits each block sum of pair (i, j) is divided by before the blocks are added."""
        if self.blocks == 1:
            return 0
        return max(0, 64 + self.exponents[i] + self.exponents[j] + self.r - LIMIT_BITS)

    def stage2(self, i: int, j: int) -> int:
        """Bits the sum is then divided by: from scale 2**(64 + e_i + e_j + r) to 2**(32+G)."""
        total = 64 + self.exponents[i] + self.exponents[j] + self.r - (32 + GUARD)
        return total - self.stage1(i, j)

    @property
    def features(self) -> int:
        return len(self.exponents) - 1 - int(self.intercept)

    @property
    def random_bits(self) -> int:
        """Secret random bits the truncations take (their dominant cost): the moments'
        two stages, the centring, and the elimination (each step multiplies a p x width
        block, each product truncated by 32 bits; MPyC's fixed point)."""
        p = self.features
        moments = sum(self.blocks * self.stage1(i, j) + self.stage2(i, j) for i, j in self.pairs)
        centring = (32 + GUARD) * (p + 1) ** 2 if self.intercept else 0
        width = p + 1 + (p + int(self.intercept) if self.summary else 0)
        elimination = 32 * p * (p + 2) * width
        return moments + centring + elimination


def layout(bounds: Sequence[float], rows: int, intercept: bool, *, summary: bool = False) -> Layout:
    """The layout for the declared bounds of features then target, over ``rows`` rows."""
    exponents = ([0] if intercept else []) + [exponent(b) for b in bounds]
    return Layout(tuple(exponents), rows, intercept, summary)
