"""Fixed-point encoding of real values as GF(P) elements, as MPyC's ``SecFxp(64, 32)``.

A value v is represented by the integer ``x = round(v * 2**32)`` (round half
to even, like Python's ``round``), stored as ``x mod P``. ``SecFxp(l=64,
f=32)`` requires ``-2**63 <= x < 2**63``, so a single value must lie in
[-2**31, 2**31); anything else (and NaN, infinities) is refused, never wrapped.
MPyC does not detect overflow during a computation either: sums of n values
need ``log2(n)`` bits of headroom for comparisons, which is why product
schemas declare ``min``/``max`` per column.

Decoding takes the centred lift (elements above (P-1)/2 are negative) and
divides by 2**32. It is what the buyer applies to recombined results.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kraken_market.smpc.field import FieldArray, P, neg

BITS: Final = 64
"""l: bits of the signed integer representation (MPyC ``bit_length``)."""
FRAC: Final = 32
"""f: fractional bits (MPyC ``frac_length``)."""
SCALE: Final = float(1 << FRAC)
LOWEST: Final = -float(1 << (BITS - FRAC - 1))
"""Smallest representable value, -2**31."""
HIGHEST: Final = float(np.nextafter(float(1 << (BITS - FRAC - 1)), 0.0))
"""Largest float that encodes, 2**31 - 2**-22 (SecFxp holds up to 2**31 - 2**-32, which
a float64 cannot)."""

_LIMIT: Final = float(1 << (BITS - 1))  # |x| bound: -2**63 <= x < 2**63
_P_LO: Final = np.uint64(P & 0xFFFF_FFFF_FFFF_FFFF)
_MAX64: Final = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_HALF_HI: Final = np.uint64(((P - 1) // 2) >> 64)
_HALF_LO: Final = np.uint64(((P - 1) // 2) & 0xFFFF_FFFF_FFFF_FFFF)


def representable(values: ArrayLike) -> NDArray[np.bool_]:
    """Mask of the values that ``SecFxp(64, 32)`` can hold (finite, in range after rounding)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.rint(v * SCALE)
        return np.isfinite(scaled) & (scaled >= -_LIMIT) & (scaled < _LIMIT)


def encode(values: ArrayLike) -> FieldArray:
    """``round(v * 2**32) mod P`` for each value; ``ValueError`` if one is not representable."""
    v = np.asarray(values, dtype=np.float64)
    if not bool(representable(v).all()):
        raise ValueError(f"values must be finite and in [{LOWEST}, {HIGHEST}]")
    x = np.rint(v * SCALE).astype(np.int64)
    u = x.view(np.uint64)
    negative = x < 0
    # x < 0 becomes P - |x| = P_lo + x (mod 2**64) in the low limb, 2**64 - 1 in the high one.
    lo = np.where(negative, u + _P_LO, u)
    hi = np.where(negative, _MAX64, np.uint64(0))
    return FieldArray(lo.astype(np.uint64), hi.astype(np.uint64))


def encode_ints(values: ArrayLike) -> FieldArray:
    """Small integers (one-hot 0/1, presence flags) as fixed-point values."""
    return encode(np.asarray(values, dtype=np.float64))


def decode(elements: FieldArray) -> NDArray[np.float64]:
    """The real values of fixed-point field elements (centred lift, then / 2**32)."""
    negative = (elements.hi > _HALF_HI) | ((elements.hi == _HALF_HI) & (elements.lo > _HALF_LO))
    flipped = neg(elements)
    lo = np.where(negative, flipped.lo, elements.lo)
    hi = np.where(negative, flipped.hi, elements.hi)
    magnitude = hi.astype(np.float64) * SCALE + lo.astype(np.float64) / SCALE
    return np.where(negative, -magnitude, magnitude)
