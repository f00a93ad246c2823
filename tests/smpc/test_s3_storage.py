"""S3 storage: the same behaviour as the local directory, plus S3's own failures.

These tests run against moto's S3-compatible server (``ThreadedMotoServer`` on
a free local port, dummy credentials), not AWS: what they show is that the code
speaks S3 correctly (multipart uploads, aborts, error mapping), not how a given
provider behaves.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi import FastAPI
from typer.testing import CliRunner

from kraken_market.catalog.schemas import DataSchema
from kraken_market.cli.analytics import app as analytics_app
from kraken_market.identity.dids import did_key
from kraken_market.settings import get_settings
from kraken_market.smpc import fixedpoint, shamir
from kraken_market.smpc.config import NodeConfig
from kraken_market.smpc.errors import (
    BucketNotFound,
    ObjectNameInvalid,
    ObjectNotFound,
    StorageAccessDenied,
    StorageLocationInvalid,
    StorageUnavailable,
)
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.node.identity import write_private
from kraken_market.smpc.node.worker import ProductInput, WorkerJob, load_tables
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.s3 import PART_SIZE, S3Bucket
from kraken_market.smpc.storage import LocalDirectory, open_storage
from tests.conftest import person
from tests.factories import product_body
from tests.s3_server import moto_s3

BUCKET = "kraken-shares"
PRODUCT = "0x" + "5e" * 32
MiB = 1024 * 1024


class Boom(Exception):
    pass


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto's S3 server with bucket BUCKET."""
    with moto_s3(BUCKET) as url:
        yield url


def raw_client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def storage(endpoint: str) -> S3Bucket:
    """A fresh prefix per test, through the URL form of the location."""
    prefix = f"t-{uuid.uuid4().hex}"
    bucket = open_storage(f"s3://{BUCKET}/{prefix}?endpoint={endpoint}")
    assert isinstance(bucket, S3Bucket)
    return bucket


def pending_uploads(endpoint: str) -> list[Any]:
    return list(raw_client(endpoint).list_multipart_uploads(Bucket=BUCKET).get("Uploads", []))


def test_write_read_delete(storage: S3Bucket) -> None:
    with storage.writer("p/set/node-0.kshare") as stream:
        stream.write(b"abc")
    assert storage.read("p/set/node-0.kshare") == b"abc"
    assert storage.exists("p/set/node-0.kshare")
    assert (
        storage.url("p/set/node-0.kshare") == f"s3://{BUCKET}/{storage.prefix}/p/set/node-0.kshare"
    )
    storage.delete("p/set/node-0.kshare")
    assert not storage.exists("p/set/node-0.kshare")
    storage.delete("p/set/node-0.kshare")  # deleting nothing is fine
    with pytest.raises(ObjectNotFound, match="no object s3://"):
        storage.read("p/set/node-0.kshare")
    with storage.writer("empty") as stream:
        pass
    assert storage.read("empty") == b""


def test_a_large_object_is_a_multipart_upload(storage: S3Bucket, endpoint: str) -> None:
    data = np.random.default_rng(1).bytes(20 * MiB)
    with storage.writer("big") as stream:
        for start in range(0, len(data), 3 * MiB + 17):  # writes that straddle the parts
            stream.write(data[start : start + 3 * MiB + 17])
    assert storage.read("big") == data
    head = raw_client(endpoint).head_object(Bucket=BUCKET, Key=storage.key("big"))
    assert head["ETag"].strip('"').endswith("-3")  # 8 + 8 + 4 MiB
    assert head["ContentLength"] == 20 * MiB
    assert pending_uploads(endpoint) == []


def test_one_write_larger_than_a_part(storage: S3Bucket) -> None:
    data = bytes(range(256)) * (PART_SIZE // 256 * 2 + 3)
    with storage.writer("one-write") as stream:
        assert stream.write(data) == len(data)
    assert storage.read("one-write") == data


@pytest.mark.parametrize("size", [100, 10 * MiB], ids=["put", "multipart"])
def test_a_failed_write_leaves_nothing_and_keeps_the_old_object(
    storage: S3Bucket, endpoint: str, size: int
) -> None:
    with storage.writer("a/b") as stream:
        stream.write(b"old")

    def half_write(name: str) -> None:
        with storage.writer(name) as stream:
            stream.write(b"x" * size)
            raise Boom

    with pytest.raises(Boom):
        half_write("a/b")
    with pytest.raises(Boom):
        half_write("a/c")
    assert storage.read("a/b") == b"old"
    assert not storage.exists("a/c")
    assert pending_uploads(endpoint) == []
    listed = raw_client(endpoint).list_objects_v2(Bucket=BUCKET, Prefix=storage.prefix + "/")
    assert [o["Key"] for o in listed["Contents"]] == [storage.key("a/b")]


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a//b", ".hidden", "a/../b", "", "a b"])
def test_unsafe_names_are_refused(storage: S3Bucket, name: str) -> None:
    for use in (storage.read, storage.exists, storage.delete, storage.url):
        with pytest.raises(ObjectNameInvalid):
            use(name)
    with pytest.raises(ObjectNameInvalid), storage.writer(name):
        pass


def test_a_missing_bucket_is_named(endpoint: str) -> None:
    storage = S3Bucket("s3://no-such-bucket/x", endpoint_url=endpoint)
    for use in (storage.read, storage.exists, storage.delete):
        with pytest.raises(BucketNotFound, match="no-such-bucket") as caught:
            use("a")
        assert (caught.value.code, caught.value.status) == ("bucket_not_found", 404)
    with pytest.raises(BucketNotFound), storage.writer("a") as stream:
        stream.write(b"abc")


def test_an_unreachable_endpoint_is_unavailable(endpoint: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    storage = S3Bucket(f"s3://{BUCKET}", endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1)
    with pytest.raises(StorageUnavailable, match="unreachable") as caught:
        storage.read("a")
    assert (caught.value.code, caught.value.status) == ("storage_unavailable", 503)
    with pytest.raises(StorageUnavailable):
        storage.exists("a")
    with pytest.raises(StorageUnavailable), storage.writer("a") as stream:
        stream.write(b"abc")


def test_no_credentials_is_access_denied(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    storage = S3Bucket(f"s3://{BUCKET}", endpoint_url=endpoint)
    with pytest.raises(StorageAccessDenied, match="credentials") as caught:
        storage.read("a")
    assert (caught.value.code, caught.value.status) == ("storage_access_denied", 403)


def test_locations(tmp_path: Path) -> None:
    bucket = open_storage("s3://b1/one/two?endpoint=http://minio:9000&region=eu-west-1")
    assert isinstance(bucket, S3Bucket)
    assert (bucket.bucket, bucket.prefix, bucket.endpoint, bucket.region) == (
        "b1",
        "one/two",
        "http://minio:9000",
        "eu-west-1",
    )
    assert bucket.url("p/x") == "s3://b1/one/two/p/x"
    assert open_storage("s3://b1", endpoint_url="https://s3.example").url("x") == "s3://b1/x"
    for local in (tmp_path, str(tmp_path), tmp_path.as_uri(), "relative/dir"):
        directory = open_storage(local)
        assert isinstance(directory, LocalDirectory)
    assert open_storage(tmp_path.as_uri()).root == tmp_path  # type: ignore[attr-defined]
    for bad in (
        "s3://",
        "s3://b?foo=1",
        "s3://b?endpoint=http://a&endpoint=http://b",
        "s3://b/../x",
        "s3://b?endpoint=ftp://x",
        "gs://b/x",
        "file://host/x",
        "",
    ):
        with pytest.raises(StorageLocationInvalid):
            open_storage(bad)
    for secret in ("s3://AKIA:hush@b/x", "s3://b?endpoint=http://AKIA:hush@minio:9000"):
        with pytest.raises(StorageLocationInvalid, match="credentials do not belong") as caught:
            open_storage(secret)
        assert "hush" not in caught.value.message
    with pytest.raises(StorageLocationInvalid, match="two endpoints"):
        open_storage("s3://b?endpoint=http://a", endpoint_url="http://b")
    with pytest.raises(StorageLocationInvalid):
        open_storage(str(tmp_path), endpoint_url="http://a")


def test_the_storage_module_does_not_import_boto3() -> None:
    code = "import sys, kraken_market.smpc.storage; sys.exit('boto3' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_node_config_keeps_an_s3_location_and_old_paths(tmp_path: Path) -> None:
    location = f"s3://{BUCKET}/shares?endpoint=http://127.0.0.1:9000"
    config = NodeConfig(
        index=0,
        data_dir=tmp_path,
        parties=("h:20000", "h:21000", "h:22000"),
        storage=location,
        chain_url="http://c",
        deployment_file=tmp_path / "d",
    )
    config.save()
    loaded = NodeConfig.load(tmp_path)
    assert loaded == config and loaded.storage == location
    assert isinstance(open_storage(loaded.storage), S3Bucket)
    old = json.loads((tmp_path / "node.json").read_text()) | {"storage": str(tmp_path / "s")}
    (tmp_path / "node.json").write_text(json.dumps(old))  # node.json from before S3
    directory = open_storage(NodeConfig.load(tmp_path).storage)
    assert isinstance(directory, LocalDirectory) and directory.root == tmp_path / "s"


def test_owner_shares_to_s3_and_a_node_reads_its_file(endpoint: str, tmp_path: Path) -> None:
    schema = DataSchema.model_validate(
        {
            "columns": [
                {"name": "steps", "type": "numeric", "min": 0},
                {"name": "region", "type": "categorical", "categories": ["north", "south"]},
            ]
        }
    )
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {"steps": rng.integers(0, 30_000, 500), "region": rng.choice(["north", "south"], 500)}
    )
    data.to_csv(tmp_path / "data.csv", index=False)
    keys = [NodeKeyPair.generate() for _ in range(3)]
    owner = Ed25519PrivateKey.generate()
    location = f"s3://{BUCKET}/e2e?endpoint={endpoint}"
    signed = share_file(
        tmp_path / "data.csv",
        PRODUCT,
        schema,
        [k.public_key for k in keys],
        open_storage(location),
        owner,
        batch_rows=128,
    )
    manifest_name = f"{PRODUCT}/{signed.manifest.share_set}/manifest.jws"
    product = ProductInput(
        product_id=PRODUCT, manifest=manifest_name, owner=did_key(owner.public_key())
    )
    elements = []
    for i in (0, 2):  # what a node's worker does with its job: the storage is a URL
        write_private(tmp_path / f"key-{i}", keys[i].private_bytes.hex())
        job = WorkerJob(
            request_id="0x" + "ee" * 32,
            node_index=i,
            m=3,
            t=1,
            storage=location,
            key_file=str(tmp_path / f"key-{i}"),
            products=[product],
            computations=[],
            result_key=NodeKeyPair.generate().public_key.raw.hex(),
            out_dir=str(tmp_path / f"job-{i}"),
        )
        tables, shapes = load_tables(job)
        assert shapes[0][2] == 500
        elements.append((i + 1, tables[0].elements))
    values = fixedpoint.decode(shamir.recombine(elements, 1))
    assert values[0].tolist() == data.steps.tolist()
    assert values[1].tolist() == (data.region == "north").astype(float).tolist()


def test_the_share_command_uploads_to_s3(
    endpoint: str, app: FastAPI, served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data.csv").write_text("age\n31\n45\n52\n")
    schema = {"columns": [{"name": "age", "type": "numeric", "min": 0, "max": 130}]}
    olga = person(app, "olga")  # the product's owner: the manifest is signed with her key
    product = olga.api.create_product(product_body("analytics", schema=schema))["id"]
    monkeypatch.setenv("KRAKEN_API_URL", served)
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "cli"))
    get_settings.cache_clear()
    keys = [NodeKeyPair.generate().public_key.raw.hex() for _ in range(3)]
    nodes = {"nodes": [{"index": i, "public_key": key} for i, key in enumerate(keys)]}
    (tmp_path / "nodes.json").write_text(json.dumps(nodes))
    pem = olga.key.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (tmp_path / "owner.pem").write_bytes(pem)
    location = f"s3://{BUCKET}/cli?endpoint={endpoint}"
    args = ["share", str(tmp_path / "data.csv"), "--product", product, "--json"]
    args += ["--nodes", str(tmp_path / "nodes.json")]
    args += ["--owner-key", str(tmp_path / "owner.pem"), "--out", location]
    result = CliRunner().invoke(analytics_app, args)
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["path"].startswith(f"s3://{BUCKET}/cli/{product}/")
    name = body["path"].removeprefix(f"s3://{BUCKET}/cli/")
    assert open_storage(location).read(name).decode() == body["jws"]
    no_bucket = f"s3://no-such-bucket?endpoint={endpoint}"
    result = CliRunner().invoke(analytics_app, [*args[:-2], "--out", no_bucket])
    assert result.exit_code == 1 and "bucket_not_found" in result.output
