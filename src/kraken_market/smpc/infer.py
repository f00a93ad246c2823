"""A product schema read off the seller's table (runs on the seller's machine).

Publishing an analytics product needs a schema: which columns buyers may
compute over, numbers with a declared range (MPyC's fixed point cannot detect
overflow, so range-dependent functions need it), categories with their
declared values. Writing it by hand from a CSV is where newcomers stall, so
``infer_schema`` proposes one in a single streaming pass (pyarrow, the reader
``smpc.encoding`` shares with), which the seller confirms or replaces:

- a column whose every value parses as a number is ``numeric``; its range is
  the observed one *rounded outward* to one significant digit (18..89 declares
  0..90, -3.2..7 800 declares -4..8 000; a column never below zero starts at
  0), so the public schema does not publish the table's exact extremes;
- a column of at most :data:`MAX_CATEGORIES` distinct texts is
  ``categorical`` with those texts, sorted (a whole number a CSV writer wrote as
  ``1.0`` proposed as ``1``);
- any other column (free text, identifiers) is left out, with the reason: only
  numbers and categories can be computed over, and a column left out is never
  shared;
- a column with missing values is ``nullable``;
- a column named in free text (``Heart rate (bpm)``) keeps that name as its
  ``label``, shown to buyers, and gets a safe identifier as its ``name``
  (``heart_rate_bpm``), which computations and share files use.

Nothing leaves the machine; the seller sees the result before anything is
shared.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc.encoding import NULL_VALUES, is_parquet
from kraken_market.smpc.errors import UnreadableData

MAX_CATEGORIES = 50
"""More distinct texts than this make a column free text, not a category."""
MAX_COLUMNS = 64
IDENTIFYING_ROWS = 10
"""From this many rows on, a text column whose values are mostly unique is left out."""
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass
class _Column:
    name: str
    rows: int = 0
    missing: int = 0
    numeric: bool = True
    low: float = math.inf
    high: float = -math.inf
    texts: set[str] | None = field(default_factory=set)  # None: too many to be categories


@dataclass(frozen=True)
class LeftOut:
    column: str
    reason: str


@dataclass(frozen=True)
class InferredSchema:
    schema: DataSchema
    rows: int
    left_out: tuple[LeftOut, ...]
    observed: dict[str, tuple[float, float]]
    """Each numeric column's observed (min, max), shown to the seller only."""


def round_out(value: float, up: bool) -> float:
    """``value`` rounded away from the data to one significant digit (0 stays 0)."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    step = 10.0 ** math.floor(math.log10(abs(value)))
    bound = (math.ceil if up else math.floor)(value / step) * step
    return float(round(bound, 12))


def infer_schema(path: Path) -> InferredSchema:
    """The schema proposed for the table at ``path`` (CSV with a header row, or Parquet)."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableData(f"no such file: {path}", details={"path": str(path)})
    columns: dict[str, _Column] = {}
    rows = 0
    for batch in _batches(path):
        rows += batch.num_rows
        for name, data in zip(batch.schema.names, batch.columns, strict=True):
            _observe(columns.setdefault(name, _Column(name)), data)
    if rows == 0:
        raise UnreadableData(f"{path.name} has no data rows")
    chosen: list[dict[str, object]] = []
    left_out: list[LeftOut] = []
    observed: dict[str, tuple[float, float]] = {}
    taken = {name for name in columns if _NAME.fullmatch(name)}
    for column in columns.values():
        described, reason = _describe(column)
        if described is None:
            left_out.append(LeftOut(column.name, reason))
            continue
        if len(chosen) == MAX_COLUMNS:
            left_out.append(LeftOut(column.name, f"a product has at most {MAX_COLUMNS} columns"))
            continue
        if not _NAME.fullmatch(column.name):  # free text in the data: keep it as the label
            if len(column.name.strip()) == 0 or len(column.name) > 200:
                left_out.append(LeftOut(column.name, "a column needs a name of 1-200 characters"))
                continue
            name = identifier(column.name, taken)
            taken.add(name)
            rest = {k: v for k, v in described.items() if k != "name"}
            described = {"name": name, "label": column.name, **rest}
        chosen.append(described)
        if column.numeric:
            observed[str(described["name"])] = (column.low, column.high)
    if not chosen:
        reasons = "; ".join(f"{c.column}: {c.reason}" for c in left_out[:5])
        raise UnreadableData(f"{path.name} has no column that can be computed over ({reasons})")
    return InferredSchema(
        DataSchema.model_validate({"columns": chosen}), rows, tuple(left_out), observed
    )


def _batches(path: Path) -> Iterator[pa.RecordBatch]:
    """The table's batches, CSV columns as text: read as the encoder reads them
    (``smpc.encoding.TableSource``), so a category proposed here is one it accepts and a
    later block cannot contradict a type guessed from the first."""
    try:
        if is_parquet(path):
            yield from pq.ParquetFile(path).iter_batches(batch_size=1 << 16)
            return
        with path.open(newline="", encoding="utf-8-sig") as text:
            names = next(csv.reader(text), [])
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=NULL_VALUES,
            strings_can_be_null=True,
        )
        read = pacsv.ReadOptions(block_size=1 << 22)
        with pacsv.open_csv(path, read_options=read, convert_options=convert) as reader:
            yield from reader
    except (OSError, UnicodeDecodeError, csv.Error, pa.ArrowException) as exc:
        raise UnreadableData(f"cannot read {path.name}: {exc}") from exc


def _observe(column: _Column, data: pa.Array) -> None:
    column.rows += len(data)
    column.missing += data.null_count
    present = pc.drop_null(data)
    if column.numeric:
        numbers = _as_numbers(present)
        if numbers is None:
            column.numeric = False
        elif len(numbers):
            low, high = pc.min_max(numbers).values()
            column.low = min(column.low, low.as_py())
            column.high = max(column.high, high.as_py())
    if column.texts is not None:
        try:
            texts = pc.unique(pc.cast(present, pa.string())).to_pylist()
        except pa.ArrowException:
            column.texts = None
            return
        column.texts.update(str(t) for t in texts)
        if len(column.texts) > MAX_CATEGORIES or any(len(t) > 100 for t in column.texts):
            column.texts = None


def _as_numbers(data: pa.Array) -> pa.Array | None:
    kind = data.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return pc.cast(data, pa.float64())
    if pa.types.is_null(kind):
        return pa.array([], pa.float64())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            return pc.cast(pc.utf8_trim_whitespace(data), pa.float64())
        except pa.ArrowInvalid:
            return None
    return None


_WHOLE = re.compile(r"^\s*(-?\d+)\.0*\s*$")


def _whole(text: str) -> str:
    """A category as a person writes it: ``1`` for the ``1.0`` a CSV writer made of a
    whole number (pandas writes an integer column with a missing value as floats);
    the encoder matches ``1.0`` to category ``1`` (``smpc.encoding``)."""
    match = _WHOLE.fullmatch(text)
    return str(int(match.group(1))) if match else text


def identifier(text: str, taken: set[str]) -> str:
    """A safe identifier for the column the data names ``text`` (``Heart rate (bpm)``
    -> ``heart_rate_bpm``): ASCII letters, digits and _, not starting with a digit,
    unlike every name in ``taken``. Computations and share files use it; people keep
    reading the seller's name (the schema's ``label``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_").lower()[:56] or "column"
    if base[0].isdigit():
        base = "c_" + base
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def _describe(column: _Column) -> tuple[dict[str, object] | None, str]:
    nullable = column.missing > 0
    if column.missing == column.rows:
        return None, "every value is missing"
    if column.numeric:
        low = 0.0 if column.low >= 0 else round_out(column.low, up=False)
        high = round_out(column.high, up=True)
        if high <= low:
            high = low + 1
        return {
            "name": column.name,
            "type": "numeric",
            "min": low,
            "max": high,
            "nullable": nullable,
        }, ""
    if column.texts is None:
        return None, (
            f"more than {MAX_CATEGORIES} distinct texts (free text or identifiers): only "
            "numbers and categories can be computed over; it is not shared"
        )
    present = column.rows - column.missing
    if len(column.texts) * 2 > present and present >= IDENTIFYING_ROWS:
        # Categories are public (the schema lists them): a column whose values are mostly
        # unique would publish them (names, ids), and says nothing a category could.
        return None, (
            f"{len(column.texts)} distinct texts in {present} rows: mostly unique values "
            "(names, identifiers) would be published as categories; it is not shared"
        )
    return {
        "name": column.name,
        "type": "categorical",
        "categories": sorted({_whole(text) for text in column.texts}),
        "nullable": nullable,
    }, ""
