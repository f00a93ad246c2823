"""The owner's side: turn a CSV or Parquet file into encrypted shares and a signed manifest.

``share_file`` reads -> validates -> encodes (fixed point, one-hot) -> splits
(Shamir, one share per node) -> encrypts (HPKE to each node's key) -> uploads
-> signs, streaming row batches so memory stays bounded by the batch size, not
the file. Nothing is stored unless every row is valid: each node's file is
written atomically, and the manifest, written last, is what makes a share set
exist. The raw data and the unencrypted shares never leave this process.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.catalog.schemas import DataSchema
from kraken_market.smpc import shamir
from kraken_market.smpc.encoding import Encoder, TableSource
from kraken_market.smpc.envelope import EnvelopeWriter, sealed_length
from kraken_market.smpc.errors import DataInvalid, SharingInvalid
from kraken_market.smpc.field import RandomBytes
from kraken_market.smpc.ids import normalise
from kraken_market.smpc.keys import NodePublicKey
from kraken_market.smpc.manifest import (
    KeySigner,
    Manifest,
    ManifestSigner,
    ShareFileEntry,
    SignedManifest,
)
from kraken_market.smpc.share_format import BLOCK_ROWS, ShareHeader, encode_block
from kraken_market.smpc.storage import ShareStorage

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in the file) after each batch."""


class _Hashing:
    """Passes writes through to ``sink`` while hashing and counting them."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink, self.size, self.hash = sink, 0, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.sink.write(data)


def share_names(product_id: str, share_set: str, m: int) -> tuple[list[str], str]:
    """Storage names of the m node files and of the manifest of a share set."""
    folder = f"{product_id}/{share_set}"
    return [f"{folder}/node-{i}.kshare" for i in range(m)], f"{folder}/manifest.jws"


def share_file(
    path: Path,
    product_id: str,
    schema: DataSchema,
    node_public_keys: Sequence[NodePublicKey],
    storage: ShareStorage,
    owner_key: Ed25519PrivateKey | ManifestSigner,
    progress: Progress | None = None,
    *,
    t: int | None = None,
    batch_rows: int = BLOCK_ROWS,
    randbytes: RandomBytes = os.urandom,
) -> SignedManifest:
    """Share ``path`` (CSV or Parquet) among the nodes whose keys are given, in order
    (node i gets evaluation point i + 1); ``t`` defaults to the largest with 2t < m.
    ``owner_key`` signs the manifest: the owner's key, or a signer for an owner whose
    key is elsewhere (a company's, held by its Depute tool)."""
    signer = KeySigner(owner_key) if isinstance(owner_key, Ed25519PrivateKey) else owner_key
    product = normalise(product_id)
    m = len(node_public_keys)
    t = shamir.default_threshold(m) if t is None else t
    try:
        shamir.check_threshold(m, t)
    except ValueError as exc:
        raise SharingInvalid(str(exc), details={"m": m, "t": t}) from exc
    if len({key.raw for key in node_public_keys}) != m:
        raise SharingInvalid("two nodes have the same public key: each node needs its own")
    source = TableSource(path, schema)
    encoder = Encoder(schema)
    rows = source.count_rows()
    if rows == 0:
        raise DataInvalid.at(None, None, f"{Path(path).name} has no data rows")
    share_set = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(4)
    names, manifest_name = share_names(product, share_set, m)
    schema_json = schema.model_dump(mode="json", exclude_none=True)
    headers = [
        ShareHeader(product, i, m, t, rows, tuple(encoder.columns), schema_json, batch_rows)
        for i in range(m)
    ]
    with ExitStack() as stack:
        sinks = [_Hashing(stack.enter_context(storage.writer(name))) for name in names]
        writers = []
        for i, (sink, key, header) in enumerate(zip(sinks, node_public_keys, headers, strict=True)):
            writer = EnvelopeWriter(sink, key, product, i, header.file_size)
            writer.write(header.to_bytes())
            writers.append(writer)
        done = 0
        for table in source.batches(batch_rows):
            block = encoder.encode(table, first_row=done)
            shares = shamir.split(block, t, m, randbytes=randbytes)
            for writer, share in zip(writers, shares, strict=True):
                writer.write(encode_block(share))
            done += table.num_rows
            if progress is not None:
                progress(done, rows)
        if done != rows:
            raise DataInvalid.at(None, None, f"{Path(path).name} changed while it was shared")
        for writer in writers:
            writer.close()
    entries = tuple(
        ShareFileEntry(i, name, sink.hash.hexdigest(), sink.size, key.fingerprint)
        for i, (name, sink, key) in enumerate(zip(names, sinks, node_public_keys, strict=True))
    )
    assert all(e.size == sealed_length(h.file_size) for e, h in zip(entries, headers, strict=True))
    manifest = Manifest(
        product_id=product,
        share_set=share_set,
        owner=signer.owner,
        m=m,
        t=t,
        rows=rows,
        schema=schema_json,
        columns=tuple(encoder.columns),
        files=entries,
        issued_at=int(time.time()),
    )
    signed = signer.sign(manifest)
    with storage.writer(manifest_name) as stream:
        stream.write(signed.jws.encode())
    return signed
