"""Owner-side input: read CSV or Parquet, check it against the product schema, encode.

Reading is streamed in row batches (pyarrow), so memory stays bounded
whatever the file size; only the schema's columns are read (other columns in
the file are ignored and never shared). CSV cells are read as text and parsed
here, so CSV and text Parquet columns follow one rule: a number is what Arrow's
``cast(string -> double)`` accepts after trimming blanks (``12``, ``-3.5``,
``1e6``); the empty cell, ``NA``, ``N/A``, ``NaN``, ``null`` and ``NULL`` are
missing values. Categories match exactly (case and blanks count).

Each problem is an error naming the first bad row (1-based data row) and the
column: :class:`~kraken_market.smpc.errors.NotNumeric`, ``MissingValue``
(where the schema does not declare the column ``nullable``),
``UnknownCategory``, ``OutOfRange`` (outside the declared ``min``/``max`` or
the fixed-point range), ``MissingColumn`` and ``UnreadableData``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NoReturn

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from numpy.typing import NDArray

from kraken_market.catalog.schemas import CategoricalColumn, DataSchema, NumericColumn
from kraken_market.smpc import fixedpoint
from kraken_market.smpc.columns import ShareColumn, expand
from kraken_market.smpc.errors import (
    DataInvalid,
    MissingColumn,
    MissingValue,
    NotNumeric,
    OutOfRange,
    UnknownCategory,
    UnreadableData,
)
from kraken_market.smpc.field import FieldArray

NULL_VALUES: Final = ["", "NA", "N/A", "NaN", "nan", "null", "NULL"]
BATCH_ROWS: Final = 1 << 16
_ONE: Final = np.uint64(1 << fixedpoint.FRAC)  # 1.0 in fixed point: low limb 2**32
_SPAN: Final = "[-2**31, 2**31) of SecFxp(64, 32)"


class TableSource:
    """A CSV or Parquet file, restricted to the columns of ``schema``."""

    def __init__(self, path: Path, schema: DataSchema) -> None:
        self.path = Path(path)
        self.names = [column.name for column in schema.columns]
        # A column is found in the file under the seller's own name (its label, free
        # text) and read as its identifier: what computations and share files use.
        self.sources = schema.source_names()
        self._renamed = dict(zip(self.sources, self.names, strict=True))
        if not self.path.is_file():
            raise UnreadableData(f"no such file: {self.path}", details={"path": str(path)})
        self.format = "parquet" if is_parquet(self.path) else "csv"
        present = self._header()
        for source in self.sources:
            if source not in present:
                shown = ", ".join(present[:20]) + (", …" if len(present) > 20 else "")
                raise MissingColumn.at(
                    None, source, f"the file has no such column (it has: {shown})"
                )

    def _header(self) -> list[str]:
        try:
            if self.format == "parquet":
                return list(pq.ParquetFile(self.path).schema_arrow.names)
            with self.path.open(newline="", encoding="utf-8-sig") as text:
                return next(csv.reader(text), [])
        except (OSError, UnicodeDecodeError, csv.Error, pa.ArrowException) as exc:
            raise UnreadableData(f"cannot read {self.path.name}: {exc}") from exc

    def count_rows(self) -> int:
        """The number of data rows (Parquet: from the footer; CSV: one parsing pass)."""
        if self.format == "parquet":
            return int(pq.ParquetFile(self.path).metadata.num_rows)
        return sum(batch.num_rows for batch in self._csv_batches(self.sources[:1]))

    def batches(self, rows: int = BATCH_ROWS) -> Iterator[pa.Table]:
        """The schema's columns in tables of exactly ``rows`` rows (the last may be shorter)."""
        source = self._parquet_batches(rows) if self.format == "parquet" else self._csv_batches()
        pending: list[pa.RecordBatch] = []
        count = 0
        for batch in source:
            pending.append(batch.rename_columns([self._renamed[n] for n in batch.schema.names]))
            count += batch.num_rows
            while count >= rows:
                table = pa.Table.from_batches(pending)
                yield table.slice(0, rows)
                rest = table.slice(rows)
                pending, count = rest.to_batches(), rest.num_rows
        if count:
            yield pa.Table.from_batches(pending)

    def _csv_batches(self, names: list[str] | None = None) -> Iterator[pa.RecordBatch]:
        names = names or self.sources
        convert = pacsv.ConvertOptions(
            include_columns=names,
            column_types=dict.fromkeys(names, pa.string()),
            null_values=NULL_VALUES,
            strings_can_be_null=True,
        )
        read = pacsv.ReadOptions(block_size=1 << 22)
        try:
            with pacsv.open_csv(self.path, read_options=read, convert_options=convert) as reader:
                yield from reader
        except (OSError, pa.ArrowException) as exc:
            raise UnreadableData(f"cannot parse {self.path.name} as CSV: {exc}") from exc

    def _parquet_batches(self, rows: int) -> Iterator[pa.RecordBatch]:
        try:
            yield from pq.ParquetFile(self.path).iter_batches(batch_size=rows, columns=self.sources)
        except (OSError, pa.ArrowException) as exc:
            raise UnreadableData(f"cannot read {self.path.name} as Parquet: {exc}") from exc


def is_parquet(path: Path) -> bool:
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


@dataclass(frozen=True)
class Problem:
    """The first bad cell of one kind in one column of a batch (``row`` 0-based in it;
    ``None``: the whole column is of the wrong type)."""

    row: int | None
    error: type[DataInvalid]
    column: str
    message: str
    value: str | None = None

    def raise_at(self, first_row: int) -> NoReturn:
        row = None if self.row is None else first_row + self.row + 1
        extra = {} if self.value is None else {"value": self.value}
        raise self.error.at(row, self.column, self.message, **extra)


class Encoder:
    """Checks tables against a schema and encodes them as fixed-point share columns."""

    def __init__(self, schema: DataSchema) -> None:
        self.schema = schema
        self.columns: list[ShareColumn] = expand(schema)

    def encode(self, table: pa.Table, first_row: int = 0) -> FieldArray:
        """``(len(columns), table.num_rows)`` elements, column-major; ``first_row`` is the
        0-based position of the table's first row in the file (for error messages).
        Of several problems, the one in the earliest row (then column) is raised."""
        n = table.num_rows
        lo = np.zeros((len(self.columns), n), np.uint64)
        hi = np.zeros((len(self.columns), n), np.uint64)
        problems: list[Problem] = []
        out = 0
        for column in self.schema.columns:
            data = table.column(column.name)
            if isinstance(column, NumericColumn):
                values, missing = _numeric(column, data, problems)
                usable = np.where(missing | ~fixedpoint.representable(values), 0.0, values)
                encoded = fixedpoint.encode(usable)
                lo[out], hi[out] = encoded.lo, encoded.hi
                out += 1
                if column.nullable:
                    lo[out] = (~missing).astype(np.uint64) * _ONE
                    out += 1
            else:
                assert isinstance(column, CategoricalColumn)
                index = _categorical(column, data, problems)
                for k in range(len(column.categories)):
                    lo[out] = (index == k).astype(np.uint64) * _ONE
                    out += 1
        if problems:
            order = {c.shown: i for i, c in enumerate(self.schema.columns)}
            first = min(problems, key=lambda p: (p.row or 0, order[p.column]))
            first.raise_at(first_row)
        return FieldArray(lo, hi)


def _first(mask: NDArray[np.bool_]) -> int | None:
    return int(np.argmax(mask)) if bool(mask.any()) else None


def _numeric(
    column: NumericColumn, data: pa.ChunkedArray, problems: list[Problem]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Values (NaN where missing) and the missing mask; problems appended."""
    name, kind, n = column.shown, data.type, len(data)  # as the seller names it
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            numbers = pc.cast(pc.utf8_trim_whitespace(data), pa.float64())
        except pa.ArrowInvalid:
            row, text = _first_not_numeric(data)
            problems.append(Problem(row, NotNumeric, name, f"{text!r} is not a number", text))
            return np.zeros(n), np.zeros(n, bool)
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        numbers = pc.cast(data, pa.float64())
    elif pa.types.is_null(kind):
        numbers = pa.chunked_array([pa.nulls(n, pa.float64())])
    else:
        problems.append(Problem(None, NotNumeric, name, f"the column holds {kind}, not numbers"))
        return np.zeros(n), np.zeros(n, bool)
    values = np.asarray(numbers.to_numpy(), dtype=np.float64)
    missing = np.isnan(values)
    if not column.nullable and (first := _first(missing)) is not None:
        problems.append(Problem(first, MissingValue, name, "a value is required here"))
    with np.errstate(invalid="ignore"):
        for bound, bad, words in (
            (column.min, values < (column.min or 0.0), "below the minimum"),
            (column.max, values > (column.max or 0.0), "above the maximum"),
        ):
            if bound is not None and (first := _first(bad)) is not None:
                message = f"{_number(values[first])} is {words} {_number(bound)}"
                problems.append(Problem(first, OutOfRange, name, message))
    if (first := _first(~missing & ~fixedpoint.representable(values))) is not None:
        message = f"{_number(values[first])} is outside the fixed-point range {_SPAN}"
        problems.append(Problem(first, OutOfRange, name, message))
    return values, missing


def _number(value: float) -> str:
    """A number as the owner wrote it: ``-1`` rather than ``np.float64(-1.0)``."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)


def _first_not_numeric(data: pa.ChunkedArray) -> tuple[int, str]:
    for row, value in enumerate(data.to_pylist()):
        if value is None:
            continue
        try:
            pc.cast(pa.array([str(value).strip()]), pa.float64())
        except pa.ArrowInvalid:
            return row, str(value)
    raise AssertionError("a cast failed but no single value does")  # pragma: no cover


def numeric_categories(categories: Sequence[str]) -> dict[float, int]:
    """Category position by numeric value, for the categories that are numbers ("1",
    "2.5") and whose value no other category shares ("1" and "1.0" make 1 ambiguous)."""
    by_value: dict[float, list[int]] = {}
    for position, text in enumerate(categories):
        try:
            value = float(text)
        except ValueError:
            continue
        if math.isfinite(value):
            by_value.setdefault(value, []).append(position)
    return {value: places[0] for value, places in by_value.items() if len(places) == 1}


def _match_numbers(
    categories: Sequence[str],
    strings: pa.ChunkedArray,
    unmatched: NDArray[np.bool_],
    positions: NDArray[np.int64],
) -> None:
    """Match values a CSV writer turned into numbers ("1.0" for category "1", as pandas
    writes an integer column that held a missing value) to the category of the same
    number, where exactly one category has that value; ``positions`` updated in place."""
    by_value = numeric_categories(categories)
    if not by_value:
        return
    rows = np.flatnonzero(unmatched)
    texts = pc.utf8_trim_whitespace(pc.take(strings, pa.array(rows)))
    distinct = pc.unique(texts).to_pylist()
    mapped: dict[str, int] = {}
    for text in distinct:
        try:
            value = float(text)
        except (TypeError, ValueError):
            continue
        if value in by_value:
            mapped[text] = by_value[value]
    if not mapped:
        return
    keys = pa.array(list(mapped), pa.string())
    found = np.asarray(
        pc.fill_null(pc.index_in(texts, value_set=keys), -1).to_numpy(), dtype=np.int64
    )
    targets = np.array(list(mapped.values()), dtype=np.int64)
    hit = found >= 0
    positions[rows[hit]] = targets[found[hit]]


def _categorical(
    column: CategoricalColumn, data: pa.ChunkedArray, problems: list[Problem]
) -> NDArray[np.int64]:
    """Each row's category position (-1: missing or unknown); problems appended."""
    name, n = column.shown, len(data)  # as the seller names it
    try:
        strings = data if pa.types.is_string(data.type) else pc.cast(data, pa.string())
    except pa.ArrowException:
        problems.append(Problem(None, UnknownCategory, name, f"the column holds {data.type}"))
        return np.full(n, -1, np.int64)
    categories = pa.array(column.categories, pa.string())
    index = pc.fill_null(pc.index_in(strings, value_set=categories), -1)
    positions = np.asarray(index.to_numpy(), dtype=np.int64)
    null = np.asarray(strings.is_null().to_numpy(), dtype=bool)
    unmatched = (positions < 0) & ~null
    if unmatched.any():
        _match_numbers(column.categories, strings, unmatched, positions)
    if not column.nullable and (row := _first(null)) is not None:
        problems.append(Problem(row, MissingValue, name, "a category is required here"))
    if (row := _first((positions < 0) & ~null)) is not None:
        value = str(strings[row].as_py())
        shown = ", ".join(column.categories[:10]) + (", …" if len(column.categories) > 10 else "")
        message = f"{value!r} is not a declared category ({shown})"
        problems.append(Problem(row, UnknownCategory, name, message, value))
    return positions
