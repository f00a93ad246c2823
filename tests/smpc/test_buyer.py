"""The buyer recombines any t + 1 result shares and decodes them."""

from __future__ import annotations

import numpy as np
import pytest
from mpyc import finfields, thresha  # type: ignore[import-untyped]

from kraken_market.smpc import buyer, fixedpoint, shamir
from kraken_market.smpc.errors import ResultSharesInvalid
from kraken_market.smpc.field import FieldArray, P

RESULT = np.array([[12.5, -3.25, 1e6], [0.0, 2**-20, -7.0]])


def result_shares(m: int = 3, t: int = 1) -> dict[int, FieldArray]:
    shares = shamir.split(fixedpoint.encode(RESULT), t, m)
    return dict(enumerate(shares))


@pytest.mark.parametrize("nodes", [(0, 1), (1, 2), (0, 2), (0, 1, 2)])
def test_any_t_plus_1_nodes_give_the_result(nodes: tuple[int, ...]) -> None:
    shares = result_shares()
    values = buyer.decode({i: shares[i] for i in nodes}, t=1)
    assert values.tolist() == RESULT.tolist()


def test_result_shares_made_by_mpyc_recombine() -> None:
    field = finfields.GF(P)
    encoded = [round(v * 2**32) % P for v in RESULT.ravel()]
    rows = thresha.np_random_split(field, field.array(encoded), 1, 3)
    shares = {i: FieldArray.from_ints(int(v) for v in row) for i, row in enumerate(rows)}
    frame = buyer.result_frame({0: shares[0], 2: shares[2]}, 1, ["a", "b", "c", "d", "e", "f"])
    assert frame.iloc[0].tolist() == RESULT.ravel().tolist()


def test_frame_and_bytes() -> None:
    shares = result_shares()
    wire = {i: buyer.result_share_from_bytes(s.to_bytes(), (2, 3)) for i, s in shares.items()}
    frame = buyer.result_frame(wire, 1, ["mean", "min", "max"], index=["x", "y"])
    assert frame.loc["y", "max"] == -7.0
    assert list(frame.columns) == ["mean", "min", "max"]
    with pytest.raises(ResultSharesInvalid, match="has 96 bytes"):
        buyer.result_share_from_bytes(b"\0" * 95, (2, 3))
    with pytest.raises(ResultSharesInvalid, match="not made of field elements"):
        buyer.result_share_from_bytes(P.to_bytes(16, "little"), (1,))
    with pytest.raises(ResultSharesInvalid, match="does not fit 2 columns"):
        buyer.result_frame(wire, 1, ["a", "b"])


def test_too_few_or_inconsistent_shares() -> None:
    shares = result_shares()
    with pytest.raises(ResultSharesInvalid, match="at least t \\+ 1 = 2 nodes, got 1"):
        buyer.decode({0: shares[0]}, t=1)
    tampered = FieldArray.from_ints([(v + 1) % P for v in shares[2].to_ints()], (2, 3))
    with pytest.raises(ResultSharesInvalid, match="do not agree"):
        buyer.decode({0: shares[0], 1: shares[1], 2: tampered}, t=1)
    with pytest.raises(ResultSharesInvalid, match="differ in shape"):
        buyer.decode({0: shares[0], 1: shares[1][0]}, t=1)
