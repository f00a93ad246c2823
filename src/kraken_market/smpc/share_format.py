"""The share file: one compute node's shares of one product, before encryption.

Version 1, byte layout (``docs/share-format.md`` is the reference)::

    offset  size  field
    0       8     magic b"KRKNSHR\\x00"
    8       2     format version, uint16 little-endian (1)
    10      4     header length H, uint32 little-endian
    14      H     header: UTF-8 JSON object, keys sorted, no insignificant
                  whitespace, then padded with spaces so 14 + H is a multiple of 16
    14 + H  ...   payload: rows x columns field elements, 16 bytes each,
                  little-endian, in blocks of ``block_rows`` rows; inside a
                  block, column-major (all rows of column 0, then column 1, ...)

The header names the product, the node (0-based index; Shamir evaluation point
index + 1), m and t, the field modulus and fixed-point parameters, the row
count, the product schema and the expanded share columns
(:mod:`kraken_market.smpc.columns`). Blocks let the owner write a file of any
size in one streaming pass; a file of at most ``block_rows`` rows is plainly
column-major, and :func:`parse` returns whole columns either way.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from kraken_market.smpc import fixedpoint
from kraken_market.smpc.columns import ShareColumn
from kraken_market.smpc.errors import ShareFileInvalid
from kraken_market.smpc.field import ELEMENT_BYTES, FieldArray, P
from kraken_market.smpc.ids import normalise

MAGIC: Final = b"KRKNSHR\x00"
VERSION: Final = 1
BLOCK_ROWS: Final = 1 << 16
_PREFIX = struct.Struct("<8sHI")
_ALIGN = 16


@dataclass(frozen=True)
class ShareHeader:
    product_id: str
    node_index: int
    m: int
    t: int
    rows: int
    columns: tuple[ShareColumn, ...]
    schema: dict[str, Any]
    block_rows: int = BLOCK_ROWS

    def to_json(self) -> dict[str, Any]:
        return {
            "block_rows": self.block_rows,
            "columns": [column.to_json() for column in self.columns],
            "element": {"byte_order": "little", "bytes": ELEMENT_BYTES},
            "field": {"modulus": str(P)},
            "fixed_point": {"bits": fixedpoint.BITS, "frac": fixedpoint.FRAC},
            "m": self.m,
            "node_index": self.node_index,
            "product_id": self.product_id,
            "rows": self.rows,
            "schema": self.schema,
            "t": self.t,
        }

    def to_bytes(self) -> bytes:
        """Magic, version, length and the padded JSON header (the payload follows)."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()
        padded = text + b" " * (-(_PREFIX.size + len(text)) % _ALIGN)
        return _PREFIX.pack(MAGIC, VERSION, len(padded)) + padded

    @property
    def payload_size(self) -> int:
        return self.rows * len(self.columns) * ELEMENT_BYTES

    @property
    def file_size(self) -> int:
        return len(self.to_bytes()) + self.payload_size


@dataclass(frozen=True, eq=False)
class ShareFile:
    """A parsed share file: header and every column's shares, shape (columns, rows)."""

    header: ShareHeader
    elements: FieldArray

    def column(self, name: str) -> FieldArray:
        for position, column in enumerate(self.header.columns):
            if column.name == name:
                return self.elements[position]
        raise KeyError(name)


def encode_block(block: FieldArray) -> bytes:
    """The payload bytes of one block, shape (columns, rows): column-major, as stored."""
    return block.to_bytes()


def parse_header(data: bytes | memoryview) -> tuple[ShareHeader, int]:
    """The header and the payload's offset; ``ShareFileInvalid`` if malformed."""
    view = memoryview(data)
    if len(view) < _PREFIX.size:
        raise ShareFileInvalid("too short for a share file")
    magic, version, length = _PREFIX.unpack(bytes(view[: _PREFIX.size]))
    if magic != MAGIC:
        raise ShareFileInvalid("not a Kraken Market share file (bad magic)")
    if version != VERSION:
        raise ShareFileInvalid(f"share format version {version} is not supported (only 1)")
    end = _PREFIX.size + length
    try:
        raw = json.loads(bytes(view[_PREFIX.size : end]))
        header = ShareHeader(
            product_id=normalise(raw["product_id"]),
            node_index=_int(raw["node_index"]),
            m=_int(raw["m"]),
            t=_int(raw["t"]),
            rows=_int(raw["rows"]),
            columns=tuple(ShareColumn.from_json(c) for c in raw["columns"]),
            schema=dict(raw["schema"]),
            block_rows=_int(raw["block_rows"]),
        )
        fields = (raw["field"], raw["fixed_point"], raw["element"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ShareFileInvalid(f"the share file header is malformed ({exc})") from exc
    expected = header.to_json()
    if fields != (expected["field"], expected["fixed_point"], expected["element"]):
        raise ShareFileInvalid(
            "the share file uses another field, fixed-point format or element size "
            f"(expected modulus {P}, SecFxp(64, 32), 16-byte elements)"
        )
    if end > len(view) or header.block_rows < 1 or not 0 <= header.node_index < header.m:
        raise ShareFileInvalid("the share file header is inconsistent")
    return header, end


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a non-negative integer, got {value!r}")
    return value


def parse(data: bytes | memoryview) -> ShareFile:
    """A whole share file (decrypted, in memory) as columns of field elements."""
    header, offset = parse_header(data)
    payload = memoryview(data)[offset:]
    if len(payload) != header.payload_size:
        raise ShareFileInvalid(
            f"the payload has {len(payload)} bytes; the header announces {header.payload_size}"
        )
    count, rows, size = len(header.columns), header.rows, header.block_rows
    packed = np.frombuffer(payload, dtype="<u8").reshape(-1, 2)
    full = rows // size
    split = full * size * count
    head = packed[:split].reshape(full, count, size, 2).transpose(1, 0, 2, 3)
    tail = packed[split:].reshape(count, rows - full * size, 2)
    columns = np.concatenate([head.reshape(count, full * size, 2), tail], axis=1)
    elements = FieldArray(
        np.ascontiguousarray(columns[..., 0], dtype=np.uint64),
        np.ascontiguousarray(columns[..., 1], dtype=np.uint64),
    )
    if not bool(((elements.hi < np.uint64(P >> 64)) | (elements.lo < np.uint64(P % 2**64))).all()):
        raise ShareFileInvalid("the payload holds a value that is not a field element")
    return ShareFile(header, elements)
