"""Data files stream from local and S3 storage (moto's S3 server) and land atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from kraken_market.access.buyer import download_file
from kraken_market.access.datafile import encrypt_stream, new_data_key
from kraken_market.access.errors import DataFileTruncated
from kraken_market.access.objects import atomic_output, open_object
from kraken_market.catalog.ids import new_product_id
from kraken_market.smpc.errors import ObjectNotFound
from kraken_market.smpc.s3 import S3Bucket
from kraken_market.smpc.storage import LocalDirectory, ShareStorage
from tests.smpc.test_s3_storage import BUCKET
from tests.smpc.test_s3_storage import endpoint as endpoint  # the moto server fixture

CHUNK = 1000


def upload(storage: ShareStorage, data: bytes) -> tuple[str, bytes, str]:
    product, key = new_product_id(), new_data_key()
    name = f"{product}/data.kdata"
    with storage.writer(name) as sink:
        encrypt_stream(io.BytesIO(data), sink, key, product, len(data), chunk_size=CHUNK)
    return name, key, product


def test_s3_objects_stream_and_decrypt(endpoint: str, tmp_path: Path) -> None:
    bucket = S3Bucket(f"s3://{BUCKET}/access", endpoint_url=endpoint)
    data = os.urandom(25 * CHUNK + 1)
    name, key, product = upload(bucket, data)
    with open_object(bucket, name) as stream:
        assert stream.read(8) == b"KRKNDAT\x00"
    out = tmp_path / "s3.bin"
    header = download_file(bucket, name, key, out, product_id=product)
    assert out.read_bytes() == data and header.chunk_count == 26
    with pytest.raises(ObjectNotFound), open_object(bucket, "missing/data.kdata"):
        pass


def test_local_objects_and_missing_ones(tmp_path: Path) -> None:
    storage = LocalDirectory(tmp_path / "store")
    name, key, _ = upload(storage, b"rows")
    assert download_file(storage, name, key, tmp_path / "a.bin").plaintext_length == 4
    with pytest.raises(ObjectNotFound), open_object(storage, "nothing/here.kdata"):
        pass


def test_a_failed_download_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalDirectory(tmp_path / "store")
    name, key, _ = upload(storage, os.urandom(3 * CHUNK))
    path = storage.root / name
    path.write_bytes(path.read_bytes()[:-10])
    out = tmp_path / "out" / "file.bin"
    out.parent.mkdir()
    out.write_bytes(b"old")
    with pytest.raises(DataFileTruncated):
        download_file(storage, name, key, out)
    assert out.read_bytes() == b"old" and sorted(p.name for p in out.parent.iterdir()) == [
        "file.bin"
    ]
    with atomic_output(out) as sink:
        sink.write(b"new")
    assert out.read_bytes() == b"new"
