"""The buyer's side of a computation's result: recombine result shares and decode them.

Each compute node returns its share of the (re-randomised) result, an array of
GF(P) elements in the share-file element encoding (16 bytes little-endian
each). Any t + 1 of them determine the result by Lagrange interpolation at 0
(Shamir 1979); with more, the extra shares must agree with the same degree-t
polynomials, so a faulty or tampered share is detected rather than silently
used. Values are fixed-point ``SecFxp(64, 32)`` and decode to floats.

A computation's result arrives as one encrypted result file per node
(``smpc.results``); :func:`combine_results` checks that the nodes agree and that
the result is for the computation paid for, recombines, and hands the exact
values to the function's buyer-side step (``smpc.functions.finish``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from numpy.typing import NDArray

from kraken_market.smpc import fixedpoint, shamir
from kraken_market.smpc.errors import ResultSharesInvalid
from kraken_market.smpc.field import ELEMENT_BYTES, FieldArray
from kraken_market.smpc.functions.finish import decode_outputs, finish
from kraken_market.smpc.functions.provenance import result_attrs
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.results import ResultShare


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


# -- computation results (compute nodes' encrypted result files) ----------------------


@dataclass(frozen=True)
class ComputationResult:
    """A recombined computation: the table, or ``suppressed`` (too few matching rows:
    the nodes revealed nothing but that)."""

    spec: ComputationSpec
    table: pd.DataFrame | None
    nodes: tuple[int, ...]

    @property
    def suppressed(self) -> bool:
        return self.table is None


def combine_results(
    spec: ComputationSpec, results: Mapping[int, ResultShare], t: int
) -> ComputationResult:
    """The result of ``spec`` from decrypted result shares (node index -> share): the
    nodes must agree on everything but their share, which must be for ``spec`` (its
    digest is what was paid for); any t + 1 recombine, more are cross-checked."""
    if not results:
        raise ResultSharesInvalid("no result shares")
    headers = {index: share.header for index, share in results.items()}
    first = next(iter(headers.values()))
    if any(h.public_part() != first.public_part() for h in headers.values()):
        raise ResultSharesInvalid("the nodes' result headers disagree", details=sorted(headers))
    if first.digest != spec.digest().hex():
        raise ResultSharesInvalid("the result is for another computation than the one requested")
    nodes = tuple(sorted(results))
    if first.suppressed:
        return ComputationResult(spec, None, nodes)
    shares = {i: r.share for i, r in results.items() if r.share is not None}
    elements = recombine(shares, t)
    values = decode_outputs(elements, first.outputs)
    table = finish(spec, first.columns, values)
    table.attrs.update(result_attrs(spec, list(first.columns), values))
    return ComputationResult(spec, table, nodes)
