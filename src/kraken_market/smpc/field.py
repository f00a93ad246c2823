"""The pinned prime field of SMPC analytics and vectorised arithmetic in it.

Every value an owner shares is an element of GF(P) with

    P = 2**128 - 173 = mpyc.finfields.find_prime_root(64 + 32 + 30 + 2, n=2)[0],

the field MPyC itself picks for ``SecFxp(64, 32)`` at its default security
parameter k = 30 (``mpyc.sectypes._pfield``: ``l + f + k + 2`` bits). Pinning
it means a compute node can check ``secfxp.field.modulus == P`` and load the
owner's shares unchanged; ``tests/smpc/test_field.py`` recomputes it with MPyC.

A :class:`FieldArray` holds elements as two ``uint64`` limb arrays (``lo``,
``hi``), so sharing a million values is a few dozen numpy passes instead of
a million Python ints. Because P is a pseudo-Mersenne prime, reduction folds
the part above 2**128 back in times 173. Serialised, an element is 16 bytes,
little-endian (the ``lo`` limb first), exactly ``int.to_bytes(16, "little")``.

Random elements come from the operating system's CSPRNG (``os.urandom``),
with rejection of the 173 values in [P, 2**128) so they are exactly uniform,
as ``secrets.randbelow(P)`` is in MPyC's ``thresha.np_random_split``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

P: Final = 0xFFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FF53
"""The field modulus, 2**128 - 173."""

ELEMENT_BYTES: Final = 16
_C: Final = (1 << 128) - P  # 173: 2**128 = C (mod P)
_MASK32: Final = np.uint64(0xFFFF_FFFF)
_MAX64: Final = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_P_LO: Final = np.uint64(P & 0xFFFF_FFFF_FFFF_FFFF)  # 2**64 - 173
_SHIFT32: Final = np.uint64(32)
_ONE: Final = np.uint64(1)

U64 = NDArray[np.uint64]
RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True, eq=False)
class FieldArray:
    """An array of GF(P) elements: ``value = hi * 2**64 + lo``, always in [0, P)."""

    lo: U64
    hi: U64

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.lo.shape)

    @property
    def size(self) -> int:
        return int(self.lo.size)

    def __getitem__(self, key: int | slice | tuple[int | slice, ...]) -> FieldArray:
        return FieldArray(np.ascontiguousarray(self.lo[key]), np.ascontiguousarray(self.hi[key]))

    def reshape(self, *shape: int) -> FieldArray:
        return FieldArray(self.lo.reshape(shape), self.hi.reshape(shape))

    def equals(self, other: FieldArray) -> bool:
        return bool(np.array_equal(self.lo, other.lo) and np.array_equal(self.hi, other.hi))

    # --- serialisation -------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """16 bytes per element, little-endian, in C order of ``shape``."""
        packed = np.empty((*self.shape, 2), dtype="<u8")
        packed[..., 0] = self.lo
        packed[..., 1] = self.hi
        return packed.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes | memoryview, shape: tuple[int, ...]) -> FieldArray:
        """Elements from :meth:`to_bytes` output; ``ValueError`` if one is not below P."""
        packed = np.frombuffer(data, dtype="<u8").reshape(*shape, 2)
        array = cls(packed[..., 0].astype(np.uint64), packed[..., 1].astype(np.uint64))
        if bool(_at_least_p(array.lo, array.hi).any()):
            raise ValueError("a field element is not below the modulus")
        return array

    def to_ints(self) -> list[int]:
        """The elements as Python ints, flattened in C order (what MPyC's arrays take)."""
        lows, highs = self.lo.ravel().tolist(), self.hi.ravel().tolist()
        return [(h << 64) | lo for lo, h in zip(lows, highs, strict=True)]

    @classmethod
    def from_ints(cls, values: Iterable[int], shape: tuple[int, ...] | None = None) -> FieldArray:
        """Elements from ints (reduced mod P), e.g. MPyC's ``field.array(...).value``."""
        ints = [int(v) % P for v in values]
        lo = np.fromiter((v & 0xFFFF_FFFF_FFFF_FFFF for v in ints), np.uint64, len(ints))
        hi = np.fromiter((v >> 64 for v in ints), np.uint64, len(ints))
        return cls(lo, hi) if shape is None else cls(lo, hi).reshape(*shape)

    @classmethod
    def zeros(cls, shape: tuple[int, ...]) -> FieldArray:
        return cls(np.zeros(shape, np.uint64), np.zeros(shape, np.uint64))

    @classmethod
    def concatenate(cls, arrays: Iterable[FieldArray], axis: int = 0) -> FieldArray:
        parts = list(arrays)
        return cls(
            np.concatenate([a.lo for a in parts], axis=axis),
            np.concatenate([a.hi for a in parts], axis=axis),
        )


def _at_least_p(lo: U64, hi: U64) -> NDArray[np.bool_]:
    mask: NDArray[np.bool_] = (hi == _MAX64) & (lo >= _P_LO)
    return mask


def _canonical(lo: U64, hi: U64) -> FieldArray:
    """Reduce values below 2**128 into [0, P): subtract P where needed (x - P = x + C - 2**128)."""
    big = _at_least_p(lo, hi)
    if bool(big.any()):
        lo = np.where(big, lo + np.uint64(_C), lo)
        hi = np.where(big, np.uint64(0), hi)
    return FieldArray(lo, hi)


def _fold(lo: U64, hi: U64, top: U64) -> FieldArray:
    """Reduce ``top * 2**128 + hi * 2**64 + lo`` (``top`` < 2**55) using 2**128 = C mod P."""
    add = top * np.uint64(_C)
    new_lo = lo + add
    carry = (new_lo < lo).astype(np.uint64)
    new_hi = hi + carry
    wrapped = (carry == _ONE) & (new_hi == 0)  # passed 2**128 once more: add C again
    new_lo = new_lo + wrapped.astype(np.uint64) * np.uint64(_C)  # new_lo is small: no carry
    return _canonical(new_lo, new_hi)


def add(a: FieldArray, b: FieldArray) -> FieldArray:
    """``a + b`` mod P, elementwise."""
    lo = a.lo + b.lo
    carry = (lo < a.lo).astype(np.uint64)
    hi = a.hi + b.hi + carry
    out = (hi < a.hi) | ((hi == a.hi) & (carry == _ONE))  # sum passed 2**128
    return _fold(lo, hi, out.astype(np.uint64))


def neg(a: FieldArray) -> FieldArray:
    """``-a`` mod P, elementwise."""
    lo = _P_LO - a.lo
    borrow = (a.lo > _P_LO).astype(np.uint64)
    hi = _MAX64 - a.hi - borrow
    zero = (a.lo == 0) & (a.hi == 0)
    return FieldArray(np.where(zero, np.uint64(0), lo), np.where(zero, np.uint64(0), hi))


def sub(a: FieldArray, b: FieldArray) -> FieldArray:
    """``a - b`` mod P, elementwise."""
    return add(a, neg(b))


def mul_small(a: FieldArray, k: int) -> FieldArray:
    """``a * k`` mod P for a public 0 <= k <= 2**32 (evaluation points, radix steps).

    Schoolbook over four 32-bit digits of ``a``: each digit times k fits 64 bits.
    """
    if not 0 <= k <= 1 << 32:
        raise ValueError("mul_small takes 0 <= k <= 2**32")
    if k == 1:
        return a
    kk = np.uint64(k)
    digits = (a.lo & _MASK32, a.lo >> _SHIFT32, a.hi & _MASK32, a.hi >> _SHIFT32)
    words = []
    carry = np.zeros(a.shape, np.uint64)
    for digit in digits:
        partial = digit * kk + carry  # <= (2**32 - 1) * 2**32 + 2**32 - 1 < 2**64
        words.append(partial & _MASK32)
        carry = partial >> _SHIFT32
    lo = words[0] | (words[1] << _SHIFT32)
    hi = words[2] | (words[3] << _SHIFT32)
    return _fold(lo, hi, carry)


def mul_const(a: FieldArray, c: int) -> FieldArray:
    """``a * c`` mod P for a public field constant ``c`` (e.g. a Lagrange coefficient).

    Horner over the four 32-bit digits of ``c``: acc = acc * 2**32 + a * digit.
    """
    c %= P
    acc: FieldArray | None = None
    for shift in (96, 64, 32, 0):
        term = mul_small(a, (c >> shift) & 0xFFFF_FFFF)
        acc = term if acc is None else add(mul_small(acc, 1 << 32), term)
    assert acc is not None
    return acc


def random_elements(shape: tuple[int, ...], randbytes: RandomBytes = os.urandom) -> FieldArray:
    """Uniform elements of GF(P) from a CSPRNG, by rejection of values >= P.

    ``randbytes`` is injectable for tests; anything but a CSPRNG breaks secrecy.
    """
    count = int(np.prod(shape, dtype=np.int64))
    raw = np.frombuffer(randbytes(count * ELEMENT_BYTES), dtype="<u8").reshape(count, 2)
    lo, hi = raw[:, 0].astype(np.uint64), raw[:, 1].astype(np.uint64)
    bad = np.flatnonzero(_at_least_p(lo, hi))
    while bad.size:  # probability 173 / 2**128 per element
        again = np.frombuffer(randbytes(bad.size * ELEMENT_BYTES), dtype="<u8").reshape(-1, 2)
        lo[bad], hi[bad] = again[:, 0], again[:, 1]
        bad = bad[_at_least_p(lo[bad], hi[bad])]
    return FieldArray(lo.reshape(shape), hi.reshape(shape))
