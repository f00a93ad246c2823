"""Reading CSV and Parquet against a product schema; every error names row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc import fixedpoint
from kraken_market.smpc.encoding import Encoder, TableSource
from kraken_market.smpc.errors import (
    DataInvalid,
    MissingColumn,
    MissingValue,
    NotNumeric,
    OutOfRange,
    UnknownCategory,
    UnreadableData,
)

SCHEMA = DataSchema.model_validate(
    {
        "columns": [
            {"name": "age", "type": "numeric", "min": 0, "max": 130},
            {"name": "income", "type": "numeric", "nullable": True},
            {"name": "sex", "type": "categorical", "categories": ["f", "m"]},
            {
                "name": "smoker",
                "type": "categorical",
                "categories": ["yes", "no"],
                "nullable": True,
            },
        ]
    }
)


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def encode_all(path: Path, schema: DataSchema = SCHEMA, rows: int = 3) -> np.ndarray:
    source, encoder = TableSource(path, schema), Encoder(schema)
    done, parts = 0, []
    for table in source.batches(rows):
        parts.append(fixedpoint.decode(encoder.encode(table, done)))
        done += table.num_rows
    assert done == source.count_rows()
    return np.concatenate(parts, axis=1)


GOOD = """age,income,sex,smoker,ignored
34,1200.5,f,yes,x
 51 ,,m,,y
0,-3e2,f,no,z
130,NA,m,NaN,w
"""


def test_csv_is_encoded_with_presence_and_one_hot_columns(tmp_path: Path) -> None:
    encoded = encode_all(write(tmp_path, GOOD))
    names = [c.name for c in Encoder(SCHEMA).columns]
    assert names == [
        "age", "income", "income#present", "sex=f", "sex=m", "smoker=yes", "smoker=no",
    ]  # fmt: skip
    expected = [
        [34, 51, 0, 130],
        [1200.5, 0, -300, 0],
        [1, 0, 1, 0],
        [1, 0, 1, 0],
        [0, 1, 0, 1],
        [1, 0, 0, 0],
        [0, 0, 1, 0],
    ]
    assert encoded.tolist() == expected


def test_parquet_gives_the_same_encoding(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "age": [34, 51, 0, 130],
            "income": [1200.5, None, -300.0, float("nan")],
            "sex": pd.Categorical(["f", "m", "f", "m"]),
            "smoker": ["yes", None, "no", None],
        }
    )
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    assert encode_all(path).tolist() == encode_all(write(tmp_path, GOOD)).tolist()


def test_format_is_sniffed_when_the_suffix_says_nothing(tmp_path: Path) -> None:
    frame = pd.DataFrame({"age": [1], "income": [2.0], "sex": ["f"], "smoker": ["no"]})
    frame.to_parquet(tmp_path / "blob")
    assert TableSource(tmp_path / "blob", SCHEMA).format == "parquet"


@pytest.mark.parametrize(
    ("cells", "error", "row", "column", "words"),
    [
        ("abc,1,f,yes", NotNumeric, 2, "age", "'abc' is not a number"),
        ("1,1;5,f,yes", NotNumeric, 2, "income", "'1;5' is not a number"),
        (",1,f,yes", MissingValue, 2, "age", "a value is required"),
        ("1,1,,yes", MissingValue, 2, "sex", "a category is required"),
        ("1,1,F,yes", UnknownCategory, 2, "sex", "'F' is not a declared category (f, m)"),
        ("1,1,f,maybe", UnknownCategory, 2, "smoker", "'maybe'"),
        ("-1,1,f,yes", OutOfRange, 2, "age", "-1 is below the minimum 0"),
        ("131,1,f,yes", OutOfRange, 2, "age", "131 is above the maximum 130"),
        ("1,3e9,f,yes", OutOfRange, 2, "income", "3000000000 is outside the fixed-point range"),
        ("1,inf,f,yes", OutOfRange, 2, "income", "inf is outside"),
    ],
)
def test_each_bad_cell_is_an_error_naming_row_and_column(
    tmp_path: Path, cells: str, error: type[DataInvalid], row: int, column: str, words: str
) -> None:
    path = write(tmp_path, f"age,income,sex,smoker\n1,1,f,yes\n{cells}\n2,2,m,no\n")
    with pytest.raises(error) as caught:
        encode_all(path)
    assert caught.value.message.startswith(f"row {row}, column '{column}': ")
    assert words in caught.value.message
    assert caught.value.details["row"] == row
    assert caught.value.details["column"] == column


def test_the_earliest_problem_is_reported_with_its_file_row(tmp_path: Path) -> None:
    lines = ["age,income,sex,smoker"] + ["1,1,f,yes"] * 7 + ["1,1,f,maybe", "x,1,f,yes"]
    with pytest.raises(UnknownCategory, match=r"^row 8, column 'smoker'"):
        encode_all(write(tmp_path, "\n".join(lines)), rows=3)  # row 8 is in the third batch


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(MissingColumn, match="column 'smoker': the file has no such column"):
        TableSource(write(tmp_path, "age,income,sex\n1,2,f\n"), SCHEMA)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(UnreadableData, match="no such file"):
        TableSource(tmp_path / "nope.csv", SCHEMA)
    broken = write(tmp_path, "age,income,sex,smoker\n1,2,f,yes,extra,cells\n")
    with pytest.raises(UnreadableData, match="cannot parse"):
        encode_all(broken)
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(UnreadableData):
        TableSource(tmp_path / "bad.parquet", SCHEMA)


def test_parquet_column_of_the_wrong_type(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "age": pd.to_datetime(["2020-01-01"]),
            "income": [1.0],
            "sex": ["f"],
            "smoker": ["no"],
        }
    )
    frame.to_parquet(tmp_path / "d.parquet")
    with pytest.raises(NotNumeric, match="column 'age': the column holds timestamp"):
        encode_all(tmp_path / "d.parquet")


numbers = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@given(st.lists(st.tuples(numbers, st.sampled_from(["f", "m"])), min_size=1, max_size=40))
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_csv_round_trip_property(tmp_path: Path, rows: list[tuple[float, str]]) -> None:
    schema = DataSchema.model_validate(
        {
            "columns": [
                {"name": "x", "type": "numeric"},
                {"name": "c", "type": "categorical", "categories": ["f", "m"]},
            ]
        }
    )
    text = "x,c\n" + "".join(f"{x!r},{c}\n" for x, c in rows)
    encoded = encode_all(write(tmp_path, text, "p.csv"), schema, rows=7)
    xs = np.array([x for x, _ in rows])
    assert np.allclose(encoded[0], xs, rtol=0, atol=2**-32)
    assert encoded[1].tolist() == [1.0 if c == "f" else 0.0 for _, c in rows]


def test_categories_written_as_numbers_match_when_unambiguous(tmp_path: Path) -> None:
    """pandas writes an integer column with a missing value as floats: category "1" then
    arrives as "1.0". It matches the one category of that number; a number two
    categories share ("1" and "1.0") or none has is still refused."""
    schema = DataSchema.model_validate(
        {"columns": [{"name": "group", "type": "categorical", "categories": ["1", "2", "x"],
                      "nullable": True}]}
    )  # fmt: skip
    path = tmp_path / "groups.csv"
    pd.DataFrame({"group": [1, 2, None, 2, 1]}).to_csv(path, index=False)
    assert "1.0" in path.read_text()  # as the common writer does it
    assert encode_all(path, schema, rows=2).tolist() == [
        [1, 0, 0, 0, 1],
        [0, 1, 0, 1, 0],
        [0, 0, 0, 0, 0],
    ]
    assert encode_all(write(tmp_path, "group\n 2.00\n1e0\n", "b.csv"), schema).tolist() == [
        [0, 1],
        [1, 0],
        [0, 0],
    ]
    ambiguous = DataSchema.model_validate(
        {"columns": [{"name": "group", "type": "categorical", "categories": ["1", "1.00"]}]}
    )
    with pytest.raises(UnknownCategory, match=r"^row 2, column 'group': '1\.0' is not"):
        encode_all(write(tmp_path, "group\n1\n1.0\n", "c.csv"), ambiguous)
    with pytest.raises(UnknownCategory, match=r"'3\.0' is not a declared category"):
        encode_all(write(tmp_path, "group\n3.0\n", "d.csv"), schema)


def test_a_labelled_column_is_read_under_the_sellers_name_and_errors_say_it(
    tmp_path: Path,
) -> None:
    schema = DataSchema.model_validate(
        {"columns": [{"name": "bpm", "label": "Heart rate (bpm)", "type": "numeric",
                      "min": 0, "max": 250}]}
    )  # fmt: skip
    assert encode_all(write(tmp_path, "Heart rate (bpm),x\n60,a\n72,b\n"), schema).tolist() == [
        [60, 72]
    ]
    with pytest.raises(OutOfRange, match=r"^row 2, column 'Heart rate \(bpm\)'"):
        encode_all(write(tmp_path, "Heart rate (bpm)\n60\n300\n", "b.csv"), schema)
    with pytest.raises(MissingColumn, match="Heart rate"):
        encode_all(write(tmp_path, "bpm\n60\n", "c.csv"), schema)  # read by its label only
