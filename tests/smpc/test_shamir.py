"""Shamir sharing: interoperable with MPyC's thresha, and t shares reveal nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpyc import finfields, thresha  # type: ignore[import-untyped]

from kraken_market.smpc import shamir
from kraken_market.smpc.field import FieldArray, P

F = finfields.GF(P)
secrets_ = st.lists(st.integers(0, P - 1), min_size=1, max_size=30)


@given(secrets_, st.sampled_from([(3, 1), (5, 2), (4, 1), (7, 3)]))
@settings(max_examples=40)
def test_mpyc_recombines_our_shares_from_any_t_plus_1_nodes(
    values: list[int], mt: tuple[int, int]
) -> None:
    m, t = mt
    shares = shamir.split(FieldArray.from_ints(values), t, m)
    assert len(shares) == m
    points = [(i + 1, [F(v) for v in share.to_ints()]) for i, share in enumerate(shares)]
    for subset in (points[: t + 1], points[-(t + 1) :], points[::2][: t + 1] or points[: t + 1]):
        if len(subset) == t + 1:
            assert [x.value for x in thresha.recombine(F, subset)] == values


@given(secrets_)
@settings(max_examples=30)
def test_we_recombine_mpycs_shares(values: list[int]) -> None:
    rows = thresha.np_random_split(F, F.array(values), 1, 3)
    points = [(i + 1, FieldArray.from_ints(int(v) for v in row)) for i, row in enumerate(rows)]
    assert shamir.recombine(points[1:], 1).to_ints() == values
    assert shamir.recombine([points[2], points[0]], 1).to_ints() == values


def test_split_keeps_shape_and_works_across_blocks() -> None:
    secrets = FieldArray.from_ints(range(2 * shamir.BLOCK + 4)).reshape(2, shamir.BLOCK + 2)
    shares = shamir.split(secrets, 2, 5)
    assert all(share.shape == secrets.shape for share in shares)
    points = [(i + 1, s) for i, s in enumerate(shares)]
    assert shamir.recombine(points[2:], 2).equals(secrets)


def test_recombine_with_extra_shares_detects_a_wrong_one() -> None:
    secrets = FieldArray.from_ints([5, 6, 7])
    shares = shamir.split(secrets, 1, 3)
    points = [(i + 1, s) for i, s in enumerate(shares)]
    assert shamir.recombine(points, 1).to_ints() == [5, 6, 7]
    bad = FieldArray.from_ints([(v + 1) % P for v in shares[2].to_ints()])
    with pytest.raises(ValueError, match="x=3 is not consistent"):
        shamir.recombine([*points[:2], (3, bad)], 1)
    with pytest.raises(ValueError, match="at least t"):
        shamir.recombine(points[:1], 1)


@pytest.mark.parametrize(("m", "t"), [(3, 0), (3, 2), (2, 1), (4, 2), (1, 1)])
def test_threshold_must_keep_an_honest_majority(m: int, t: int) -> None:
    with pytest.raises(ValueError, match="2t < m"):
        shamir.split(FieldArray.from_ints([1]), t, m)


def test_lagrange_coefficients_of_points_1_2_3() -> None:
    assert shamir.lagrange_coefficients([1, 2, 3]) == [3, P - 3, 1]


# --- t shares are independent of the secret ------------------------------------------

SAMPLES = 20_000
BINS = 16


def _histogram(shares: FieldArray) -> np.ndarray:
    """Counts of the top 4 bits of each share (uniform in [0, P) puts 1/16 in each bin)."""
    return np.bincount((shares.hi >> np.uint64(60)).astype(int), minlength=BINS)


def _chi_square(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's statistic for 'a and b come from the same distribution' (2 x k table)."""
    table = np.stack([a, b]).astype(float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    return float(((table - expected) ** 2 / np.where(expected == 0, 1, expected)).sum())


CRITICAL = 60.0  # 15 degrees of freedom: P(chi2 > 60) ~ 1e-7


def _node_shares(secret: int, t: int, m: int, node: int, randbytes=None) -> FieldArray:
    secrets = FieldArray.from_ints([secret] * SAMPLES)
    kwargs = {} if randbytes is None else {"randbytes": randbytes}
    return shamir.split(secrets, t, m, **kwargs)[node]


@pytest.mark.parametrize("node", [0, 1, 2])
def test_one_share_has_the_same_distribution_whatever_the_secret(node: int) -> None:
    zero, large = _node_shares(0, 1, 3, node), _node_shares(2**127 + 12345, 1, 3, node)
    assert _chi_square(_histogram(zero), _histogram(large)) < CRITICAL


def test_two_of_five_shares_are_jointly_independent_of_the_secret() -> None:
    def joint(secret: int) -> np.ndarray:
        shares = shamir.split(FieldArray.from_ints([secret] * SAMPLES), 2, 5)
        a, b = (shares[0].hi >> np.uint64(62)), (shares[3].hi >> np.uint64(62))
        return np.bincount((a * np.uint64(4) + b).astype(int), minlength=16)

    assert _chi_square(joint(1), joint(P - 1)) < CRITICAL


def test_the_independence_check_catches_a_weak_random_source() -> None:
    """The check can fail: coefficients from a source of only 2**60 values leak the secret."""

    def weak(n: int) -> bytes:
        raw = np.frombuffer(np.random.default_rng(1).bytes(n), dtype="<u8").copy()
        raw[1::2] = 0  # high limbs zero: c < 2**64, so s + c keeps s's top bits
        return raw.tobytes()

    zero = _node_shares(0, 1, 3, 0, weak)
    large = _node_shares(2**127 + 12345, 1, 3, 0, weak)
    assert _chi_square(_histogram(zero), _histogram(large)) > CRITICAL


def test_our_shares_are_distributed_like_mpycs_np_random_split() -> None:
    secret = 2**100 + 3
    ours = _node_shares(secret, 1, 3, 1)
    rows = thresha.np_random_split(F, F.array([secret] * SAMPLES), 1, 3)
    theirs = FieldArray.from_ints(int(v) for v in rows[1])
    assert _chi_square(_histogram(ours), _histogram(theirs)) < CRITICAL
