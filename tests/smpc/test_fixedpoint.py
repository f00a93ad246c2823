"""Fixed-point encoding as MPyC SecFxp(64, 32) does it: round(v * 2**32) mod P."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraken_market.smpc import fixedpoint
from kraken_market.smpc.field import P

reals = st.floats(min_value=-(2.0**31), max_value=2.0**31, exclude_max=True, allow_nan=False)


@given(st.lists(reals, min_size=1, max_size=50))
def test_encoding_is_round_times_2_32_mod_p_and_decodes_back(values: list[float]) -> None:
    encoded = fixedpoint.encode(values)
    assert encoded.to_ints() == [round(v * 2**32) % P for v in values]
    decoded = fixedpoint.decode(encoded)
    assert np.allclose(decoded, values, rtol=0, atol=2**-33)


def test_range_ends_and_signs() -> None:
    values = [fixedpoint.LOWEST, fixedpoint.HIGHEST, -1.0, 0.0, 2**-32, -(2**-32), 0.5]
    encoded = fixedpoint.encode(values)
    assert encoded.to_ints()[0] == P - 2**63
    assert encoded.to_ints()[1] == 2**63 - 2**10
    assert fixedpoint.decode(encoded).tolist() == values


@pytest.mark.parametrize(
    "bad", [2.0**31, -(2.0**31) - 1, float("inf"), float("-inf"), float("nan")]
)
def test_values_outside_the_range_are_refused(bad: float) -> None:
    assert not fixedpoint.representable([bad])[0]
    with pytest.raises(ValueError, match="finite and in"):
        fixedpoint.encode([1.0, bad])


def test_decoding_large_sums_is_the_centred_lift() -> None:
    """Sums of many values leave the 64-bit range but stay far below P/2: still exact-ish."""
    from kraken_market.smpc.field import FieldArray

    big = 2**100 + 2**31
    decoded = fixedpoint.decode(FieldArray.from_ints([big, P - big]))
    assert decoded.tolist() == [big / 2**32, -big / 2**32]
