"""Result shares: what a compute node delivers to the buyer, and its commitment.

A node's result share is a small container, encrypted with HPKE (RFC 9180,
the share files' suite and chunked envelope, :mod:`kraken_market.smpc.envelope`)
to the buyer's result key, with the request id in the envelope's product-id
field and the HPKE info label ``kraken-market result share`` (so a result can
never be taken for a share file, nor one request's result for another's).
Plaintext, version 1::

    0   8  magic b"KRKNRES\\x00"
    8   2  version (1), uint16 little-endian
    10  4  header length H, uint32 little-endian
    14  H  header: UTF-8 JSON, sorted keys (request id, node index, m, t, the
           computation spec and its digest, column names, output names and
           shapes, ``suppressed``, element count)
    ... 16 bytes per field element, little-endian (share-file encoding)

**Commitment.** ``SHA-256(encrypted result file)``: the node attests it on
chain (``Market.attest(request_id, commitment)``), so the buyer can check that
the file it downloaded is the one a registered node committed to before the
payment was released; any modified byte changes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
from dataclasses import dataclass
from typing import Any, Final

from kraken_market.smpc.envelope import EnvelopeWriter, open_envelope
from kraken_market.smpc.errors import EnvelopeInvalid, ResultSharesInvalid
from kraken_market.smpc.field import ELEMENT_BYTES, FieldArray
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey

MAGIC: Final = b"KRKNRES\x00"
VERSION: Final = 1
LABEL: Final = b"kraken-market result share"
_PREFIX = struct.Struct("<8sHI")


@dataclass(frozen=True)
class ResultHeader:
    request_id: str
    node_index: int
    m: int
    t: int
    spec: dict[str, Any]
    digest: str
    columns: tuple[str, ...]
    outputs: tuple[tuple[str, tuple[int, ...]], ...]
    suppressed: bool
    elements: int

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "digest": self.digest,
            "elements": self.elements,
            "m": self.m,
            "node_index": self.node_index,
            "outputs": [[name, list(shape)] for name, shape in self.outputs],
            "request_id": self.request_id,
            "spec": self.spec,
            "suppressed": self.suppressed,
            "t": self.t,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResultHeader:
        return cls(
            request_id=str(data["request_id"]),
            node_index=int(data["node_index"]),
            m=int(data["m"]),
            t=int(data["t"]),
            spec=dict(data["spec"]),
            digest=str(data["digest"]),
            columns=tuple(str(c) for c in data["columns"]),
            outputs=tuple((str(n), tuple(int(s) for s in shape)) for n, shape in data["outputs"]),
            suppressed=bool(data["suppressed"]),
            elements=int(data["elements"]),
        )

    def public_part(self) -> dict[str, Any]:
        """What every node's header must agree on (all but the node index)."""
        data = self.to_json()
        del data["node_index"]
        return data


@dataclass(frozen=True)
class ResultShare:
    header: ResultHeader
    share: FieldArray | None


def seal_result(header: ResultHeader, share: FieldArray | None, buyer: NodePublicKey) -> bytes:
    """The encrypted result file for ``buyer``."""
    text = json.dumps(header.to_json(), sort_keys=True, separators=(",", ":")).encode()
    payload = b"" if share is None else share.to_bytes()
    if len(payload) != header.elements * ELEMENT_BYTES:
        raise ValueError("the header's element count does not match the share")
    plaintext = _PREFIX.pack(MAGIC, VERSION, len(text)) + text + payload
    sink = io.BytesIO()
    writer = EnvelopeWriter(
        sink, buyer, header.request_id, header.node_index, len(plaintext), label=LABEL
    )
    writer.write(plaintext)
    writer.close()
    return sink.getvalue()


def commitment(sealed: bytes) -> bytes:
    """The 32 bytes a node attests on chain for its encrypted result file."""
    return hashlib.sha256(sealed).digest()


def open_result(sealed: bytes, key: NodeKeyPair, request_id: str, node_index: int) -> ResultShare:
    """Decrypt and parse one node's result file; ``ResultSharesInvalid`` if it is not one."""
    try:
        plaintext = open_envelope(sealed, key, request_id, node_index, label=LABEL)
    except EnvelopeInvalid as exc:
        raise ResultSharesInvalid(f"node {node_index}'s result file: {exc.message}") from exc
    if len(plaintext) < _PREFIX.size:
        raise ResultSharesInvalid("a result file is too short")
    magic, version, length = _PREFIX.unpack(plaintext[: _PREFIX.size])
    if magic != MAGIC or version != VERSION:
        raise ResultSharesInvalid("not a version 1 result share")
    end = _PREFIX.size + length
    try:
        header = ResultHeader.from_json(json.loads(plaintext[_PREFIX.size : end]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ResultSharesInvalid(f"the result header is malformed ({exc})") from exc
    if header.node_index != node_index or header.request_id != request_id:
        raise ResultSharesInvalid("the result header names another node or request")
    payload = plaintext[end:]
    if len(payload) != header.elements * ELEMENT_BYTES:
        raise ResultSharesInvalid("the result payload does not match its header")
    if header.suppressed:
        return ResultShare(header, None)
    try:
        share = FieldArray.from_bytes(payload, (header.elements,))
    except ValueError as exc:
        raise ResultSharesInvalid(f"a result value is not a field element: {exc}") from exc
    return ResultShare(header, share)
