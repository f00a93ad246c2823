"""The buyer's side of a computation's result: recombine result shares and decode them.

Each compute node returns its share of the (re-randomised) result, an array of
GF(P) elements in the share-file element encoding (16 bytes little-endian
each). Any t + 1 of them determine the result by Lagrange interpolation at 0
(Shamir 1979); with more, the extra shares must agree with the same degree-t
polynomials, so a faulty or tampered share is detected rather than silently
used. Values are fixed-point ``SecFxp(64, 32)`` and decode to floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from numpy.typing import NDArray

from kraken_market.smpc import fixedpoint, shamir
from kraken_market.smpc.errors import ResultSharesInvalid
from kraken_market.smpc.field import ELEMENT_BYTES, FieldArray


def result_share_from_bytes(data: bytes, shape: tuple[int, ...]) -> FieldArray:
    """One node's result share from its bytes; ``ResultSharesInvalid`` if malformed."""
    expected = int(np.prod(shape, dtype=np.int64)) * ELEMENT_BYTES
    if len(data) != expected:
        raise ResultSharesInvalid(f"a result share of shape {shape} has {expected} bytes")
    try:
        return FieldArray.from_bytes(data, shape)
    except ValueError as exc:
        raise ResultSharesInvalid(f"a result share is not made of field elements: {exc}") from exc


def recombine(shares: Mapping[int, FieldArray], t: int) -> FieldArray:
    """The result's field elements from node index -> share (at least t + 1 nodes)."""
    if len(shares) < t + 1:
        raise ResultSharesInvalid(
            f"need result shares from at least t + 1 = {t + 1} nodes, got {len(shares)}",
            details={"nodes": sorted(shares)},
        )
    shapes = {share.shape for share in shares.values()}
    if len(shapes) != 1:
        raise ResultSharesInvalid(f"result shares differ in shape: {sorted(shapes)}")
    if any(index < 0 for index in shares):
        raise ResultSharesInvalid("node indices start at 0")
    points = [(index + 1, share) for index, share in sorted(shares.items())]
    try:
        return shamir.recombine(points, t)
    except ValueError as exc:
        raise ResultSharesInvalid(
            f"the result shares do not agree ({exc}): a node sent a wrong or tampered share",
            details={"nodes": sorted(shares)},
        ) from exc


def decode(shares: Mapping[int, FieldArray], t: int) -> NDArray[np.float64]:
    """The result's values as floats (fixed-point decoding of :func:`recombine`)."""
    return fixedpoint.decode(recombine(shares, t))


def result_frame(
    shares: Mapping[int, FieldArray],
    t: int,
    columns: Sequence[str],
    index: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The result as a DataFrame: shares of shape (rows, len(columns)), or (len(columns),)
    for a single row."""
    values = decode(shares, t)
    table = values.reshape(1, -1) if values.ndim == 1 else values
    if table.ndim != 2 or table.shape[1] != len(columns):
        raise ResultSharesInvalid(
            f"a result of shape {values.shape} does not fit {len(columns)} columns"
        )
    return pd.DataFrame(table, columns=list(columns), index=None if index is None else list(index))
