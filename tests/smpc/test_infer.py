"""A schema read off the seller's table: numbers with ranges rounded outward, categories,
columns that cannot be computed over left out with the reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]
import pytest

from kraken_market.catalog.schemas import CategoricalColumn, NumericColumn
from kraken_market.smpc.encoding import TableSource
from kraken_market.smpc.errors import UnreadableData
from kraken_market.smpc.infer import MAX_CATEGORIES, infer_schema, round_out


@pytest.mark.parametrize(
    ("value", "up", "bound"),
    [
        (89, True, 90),
        (90, True, 90),
        (7800, True, 8000),
        (101, True, 200),
        (0.034, True, 0.04),
        (-3.2, False, -4),
        (-0.5, False, -0.5),
        (0, True, 0),
        (-89, True, -80),
    ],
)
def test_bounds_are_rounded_away_from_the_data(value: float, up: bool, bound: float) -> None:
    assert round_out(value, up) == pytest.approx(bound)


def test_a_table_gives_numbers_categories_and_what_was_left_out(tmp_path: Path) -> None:
    rows = 60
    frame = pd.DataFrame(
        {
            "age": [18 + i % 72 for i in range(rows)],
            "sex": ["f" if i % 2 else "m" for i in range(rows)],
            "temperature": [-3.2 + i * 0.1 for i in range(rows)],
            "patient": [f"P{i:04d}" for i in range(rows)],
            "Weight kg": [70] * rows,
            "note": [None] * rows,
        }
    )
    frame.loc[3, "temperature"] = None
    frame.loc[5, "age"] = 89
    path = tmp_path / "visits.csv"
    frame.to_csv(path, index=False)
    inferred = infer_schema(path)
    columns = {c.name: c.model_dump(exclude_none=True) for c in inferred.schema.columns}
    assert inferred.rows == rows
    assert columns["age"] == {
        "name": "age", "type": "numeric", "min": 0.0, "max": 90.0, "nullable": False,
    }  # fmt: skip
    assert columns["sex"]["categories"] == ["f", "m"]
    assert (columns["temperature"]["min"], columns["temperature"]["max"]) == (-4.0, 3.0)
    assert columns["temperature"]["nullable"] is True
    assert inferred.observed["age"] == (18.0, 89.0)
    left = {c.column: c.reason for c in inferred.left_out}
    assert set(left) == {"patient", "note"}
    assert "distinct texts" in left["patient"]
    assert columns["weight_kg"]["label"] == "Weight kg"  # free text: kept as the label
    assert "missing" in left["note"]
    TableSource(path, inferred.schema)  # the schema fits the file it was read off


def test_parquet_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "steps.parquet"
    pd.DataFrame({"steps": [1200, 5300, 9999], "region": ["north", "south", "north"]}).to_parquet(
        path
    )
    inferred = infer_schema(path)
    assert [c.name for c in inferred.schema.columns] == ["steps", "region"]
    steps = inferred.schema.columns[0]
    assert isinstance(steps, NumericColumn) and steps.max == 10000


def test_free_text_is_not_a_category(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    values = [f"word{i}" for i in range(MAX_CATEGORIES + 1)]
    pd.DataFrame({"x": list(range(len(values))), "text": values}).to_csv(path, index=False)
    assert [c.name for c in infer_schema(path).schema.columns] == ["x"]


def test_a_table_with_nothing_to_compute_over_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("full name\n" + "".join(f"Person {i}\n" for i in range(12)))
    with pytest.raises(UnreadableData, match="no column that can be computed over"):
        infer_schema(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    with pytest.raises(UnreadableData, match="no data rows"):
        infer_schema(empty)
    with pytest.raises(UnreadableData, match="no such file"):
        infer_schema(tmp_path / "missing.csv")


def test_mostly_unique_texts_are_not_published_as_categories(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    rows = 20
    pd.DataFrame(
        {
            "name": [f"Person {i}" for i in range(rows)],
            "smoker": ["True" if i % 3 else "False" for i in range(rows)],
            "note": [" spaced" if i % 2 else "plain" for i in range(rows)],
        }
    ).to_csv(path, index=False)
    inferred = infer_schema(path)
    columns = {c.name: c for c in inferred.schema.columns}
    assert set(columns) == {"smoker", "note"}
    assert "mostly unique" in {c.column: c.reason for c in inferred.left_out}["name"]
    smoker, note = columns["smoker"], columns["note"]
    assert isinstance(smoker, CategoricalColumn) and smoker.categories == ["False", "True"]
    assert isinstance(note, CategoricalColumn) and note.categories == [" spaced", "plain"]
    TableSource(path, inferred.schema).batches()  # the encoder reads the same texts
    encoded = next(iter(TableSource(path, inferred.schema).batches()))
    assert encoded.num_rows == rows


def test_whole_numbers_written_as_floats_are_proposed_as_written_by_a_person(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.csv"
    codes = ["1.0", "2.0", "unknown", "1.0", None, "2.0"] * 2
    pd.DataFrame({"code": codes, "x": range(len(codes))}).to_csv(path, index=False)
    [code] = [c for c in infer_schema(path).schema.columns if c.name == "code"]
    assert isinstance(code, CategoricalColumn)
    assert code.categories == ["1", "2", "unknown"] and code.nullable
    encoded = TableSource(path, infer_schema(path).schema)  # the proposal reads its own file
    assert sum(batch.num_rows for batch in encoded.batches()) == len(codes)


def test_free_text_column_names_get_identifiers_and_keep_the_sellers_name(
    tmp_path: Path,
) -> None:
    """Column names are free text in real data; computations need identifiers. The
    schema keeps both: ``name`` (computed on) and ``label`` (what buyers read)."""
    path = tmp_path / "t.csv"
    frame = pd.DataFrame(
        {
            "Heart rate (bpm)": [60, 72, 80, 91] * 3,
            "heart_rate_bpm": [1, 2, 3, 4] * 3,  # the identifier is taken already
            "2nd visit": ["yes", "no", "no", "yes"] * 3,
            "Größe": [170.5, 180, 165, 190] * 3,
        }
    )
    frame.to_csv(path, index=False)
    inferred = infer_schema(path)
    named = [(c.name, c.label) for c in inferred.schema.columns]
    assert named == [
        ("heart_rate_bpm_2", "Heart rate (bpm)"),
        ("heart_rate_bpm", None),
        ("c_2nd_visit", "2nd visit"),
        ("groe", "Größe"),
    ]
    assert inferred.observed["heart_rate_bpm_2"] == (60, 91)
    dumped = inferred.schema.model_dump(mode="json")["columns"]
    assert "label" not in dumped[1]  # absent when the data's name is the identifier
    source = TableSource(path, inferred.schema)  # the file is read under its own names
    [table] = list(source.batches())
    assert table.column_names == ["heart_rate_bpm_2", "heart_rate_bpm", "c_2nd_visit", "groe"]
    assert table.column("heart_rate_bpm_2").to_pylist()[:2] == ["60", "72"]
