"""GF(P) arithmetic on limb pairs against Python ints, and the pinned prime against MPyC."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpyc import finfields  # type: ignore[import-untyped]

from kraken_market.smpc.field import (
    FieldArray,
    P,
    add,
    mul_const,
    mul_small,
    neg,
    random_elements,
    sub,
)

elements = st.lists(st.integers(0, P - 1), min_size=1, max_size=40)
EDGES = [0, 1, 2, 172, 173, 174, 2**63, 2**64 - 1, 2**64, 2**64 + 1, P - 2, P - 1, (P - 1) // 2]


def test_the_pinned_prime_is_mpycs_for_secfxp_64_32() -> None:
    """mpyc.sectypes._pfield: l + f + k + 2 bits, k = 30 by default (the MPyC nodes in
    test_mpyc_nodes.py also check ``secfxp.field.modulus == P`` in a real runtime)."""
    assert finfields.find_prime_root(64 + 32 + 30 + 2, n=2)[0] == P
    assert P == 2**128 - 173


def test_bytes_are_16_byte_little_endian_ints() -> None:
    array = FieldArray.from_ints(EDGES)
    data = array.to_bytes()
    assert data == b"".join(v.to_bytes(16, "little") for v in EDGES)
    assert FieldArray.from_bytes(data, (len(EDGES),)).to_ints() == EDGES


def test_from_bytes_refuses_values_not_below_p() -> None:
    with pytest.raises(ValueError, match="not below the modulus"):
        FieldArray.from_bytes(P.to_bytes(16, "little"), (1,))


@given(elements, elements)
def test_add_sub_neg_match_python_ints(a: list[int], b: list[int]) -> None:
    n = min(len(a), len(b))
    a, b = (a + EDGES)[: n + len(EDGES)], (b + EDGES[::-1])[: n + len(EDGES)]
    x, y = FieldArray.from_ints(a), FieldArray.from_ints(b)
    assert add(x, y).to_ints() == [(u + v) % P for u, v in zip(a, b, strict=True)]
    assert sub(x, y).to_ints() == [(u - v) % P for u, v in zip(a, b, strict=True)]
    assert neg(x).to_ints() == [-u % P for u in a]


@given(elements, st.integers(0, 2**32))
def test_mul_small_matches_python_ints(a: list[int], k: int) -> None:
    values = a + EDGES
    assert mul_small(FieldArray.from_ints(values), k).to_ints() == [v * k % P for v in values]


@given(elements, st.integers(0, P - 1))
@settings(max_examples=50)
def test_mul_const_matches_python_ints(a: list[int], c: int) -> None:
    values = a + EDGES
    for constant in (c, P - 1, 2**96 + 7):
        product = mul_const(FieldArray.from_ints(values), constant).to_ints()
        assert product == [v * constant % P for v in values]


def test_random_elements_reject_values_at_or_above_p() -> None:
    """The 173 values in [P, 2**128) are drawn again, so elements are uniform below P."""
    too_big = [P, P + 5, 2**128 - 1]
    queue = [b"".join(v.to_bytes(16, "little") for v in [*too_big, 7]), (11).to_bytes(16, "little")]
    queue += [(v).to_bytes(16, "little") for v in (12, 13)]
    calls: list[int] = []

    def randbytes(n: int) -> bytes:
        calls.append(n)
        chunk = queue.pop(0)
        if len(chunk) < n:  # the redraw asks for all rejected elements at once
            chunk += b"".join(queue.pop(0) for _ in range(n // 16 - 1))
        return chunk

    drawn = random_elements((4,), randbytes).to_ints()
    assert drawn == [11, 12, 13, 7]
    assert calls == [64, 48]


def test_random_elements_look_uniform() -> None:
    drawn = random_elements((20_000,))
    assert drawn.shape == (20_000,)
    top = (drawn.hi >> np.uint64(60)).astype(int)
    counts = np.bincount(top, minlength=16)
    expected = len(top) / 16
    assert ((counts - expected) ** 2 / expected).sum() < 60  # chi-square, 15 df, p ~ 1e-7
