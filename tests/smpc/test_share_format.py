"""The share file container: header, blocks, column-major payload."""

from __future__ import annotations

import json

import pytest

from kraken_market.smpc.columns import ShareColumn
from kraken_market.smpc.errors import ShareFileInvalid
from kraken_market.smpc.field import FieldArray, P, random_elements
from kraken_market.smpc.share_format import ShareHeader, encode_block, parse, parse_header

COLUMNS = (ShareColumn("a", "a", "numeric"), ShareColumn("b=x", "b", "one_hot", "x"))
SCHEMA = {"columns": [{"name": "a", "type": "numeric"}]}


def header(rows: int, block_rows: int = 4) -> ShareHeader:
    return ShareHeader("0x" + "0A" * 32, 1, 3, 1, rows, COLUMNS, SCHEMA, block_rows)


def build(rows: int, block_rows: int = 4) -> tuple[bytes, FieldArray]:
    elements = random_elements((len(COLUMNS), rows))
    blocks = [
        encode_block(elements[:, start : start + block_rows])
        for start in range(0, rows, block_rows)
    ]
    return header(rows, block_rows).to_bytes() + b"".join(blocks), elements


@pytest.mark.parametrize("rows", [0, 1, 3, 4, 5, 8, 11])
def test_blocks_parse_back_into_whole_columns(rows: int) -> None:
    data, elements = build(rows)
    parsed = parse(data)
    assert parsed.elements.equals(elements)
    assert parsed.column("b=x").equals(elements[1])
    assert parsed.header.product_id == "0x" + "0a" * 32  # normalised
    assert len(data) == header(rows).file_size


def test_layout_is_as_documented() -> None:
    data, elements = build(3, block_rows=8)
    assert data[:8] == b"KRKNSHR\x00"
    assert int.from_bytes(data[8:10], "little") == 1
    length = int.from_bytes(data[10:14], "little")
    assert (14 + length) % 16 == 0
    meta = json.loads(data[14 : 14 + length])
    assert meta["field"] == {"modulus": str(P)}
    assert meta["fixed_point"] == {"bits": 64, "frac": 32}
    assert meta["element"] == {"byte_order": "little", "bytes": 16}
    assert (meta["rows"], meta["node_index"], meta["m"], meta["t"]) == (3, 1, 3, 1)
    payload = data[14 + length :]
    # column-major: column 0's three elements, then column 1's
    assert payload[:16] == elements.to_ints()[0].to_bytes(16, "little")
    assert payload[48:64] == elements.to_ints()[3].to_bytes(16, "little")


def test_malformed_files_are_refused() -> None:
    data, _ = build(5)
    with pytest.raises(ShareFileInvalid, match="bad magic"):
        parse(b"X" + data[1:])
    with pytest.raises(ShareFileInvalid, match="version 2"):
        parse(data[:8] + (2).to_bytes(2, "little") + data[10:])
    with pytest.raises(ShareFileInvalid, match="payload has"):
        parse(data[:-16])
    with pytest.raises(ShareFileInvalid, match="too short"):
        parse(data[:5])
    too_big = data[: len(data) - 16] + P.to_bytes(16, "little")
    with pytest.raises(ShareFileInvalid, match="not a field element"):
        parse(too_big)


def test_another_field_is_refused() -> None:
    data, _ = build(2)
    length = int.from_bytes(data[10:14], "little")
    meta = json.loads(data[14 : 14 + length])
    meta["field"]["modulus"] = str(2**127 - 1)
    text = json.dumps(meta, separators=(",", ":")).encode().ljust(length)
    with pytest.raises(ShareFileInvalid, match="another field"):
        parse_header(data[:14] + text + data[14 + length :])
