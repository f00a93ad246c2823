"""With S3 storage: presigned uploads (what a browser does), checked by ``complete``.

Against moto's S3-compatible server (a local test double of S3, as in
``tests/smpc/test_s3_storage.py``), not AWS. moto does not enforce the size and
checksum signed into a presigned URL (AWS and MinIO refuse such a PUT); the
``complete`` check catches them anyway, which these tests show.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3  # type: ignore[import-untyped]
import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from kraken_market.api.app import create_app
from kraken_market.client import ApiError
from kraken_market.settings import Settings
from kraken_market.smpc.storage import open_storage
from tests import served
from tests.conftest import Account, person
from tests.factories import product_body
from tests.s3_server import moto_s3
from tests.storage.objects import data_file, share_set

BUCKET = "kraken-uploads"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto's S3 server with bucket BUCKET."""
    with moto_s3(BUCKET) as url:
        yield url


@pytest.fixture
def location(endpoint: str) -> str:
    return f"s3://{BUCKET}/t-{uuid.uuid4().hex}?endpoint={endpoint}"


@pytest.fixture
def s3_app(tmp_path: Path, engine: Engine, location: str) -> FastAPI:
    settings = Settings(
        data_dir=tmp_path / "data",
        environment="test",
        write_burst=100_000,
        storage_location=location,
        storage_upload_seconds=600,
    )
    return create_app(settings, engine=engine)


def keys(location: str, endpoint: str) -> list[str]:
    prefix = urlsplit(location).path.strip("/")
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/").get("Contents", [])
    return sorted(str(entry["Key"]).removeprefix(prefix + "/") for entry in listed)


def target(who: Account, name: str, data: bytes) -> dict[str, Any]:
    return who.api.upload_target(name, len(data), hashlib.sha256(data).hexdigest())


def complete(who: Account, answer: dict[str, Any], data: bytes) -> httpx2.Response:
    body = {"name": answer["name"], "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    response: httpx2.Response = who.api.http.post(answer["complete_url"], json=body)
    return response


def test_a_browser_style_upload_is_presigned_then_completed(
    s3_app: FastAPI, location: str, endpoint: str
) -> None:
    alice = person(s3_app, "alice")
    item = alice.api.create_product(product_body("batch"))["id"]
    name, data = f"{item}/data.kdata", data_file(item)
    answer = target(alice, name, data)
    assert answer["state"] == "upload" and answer["credentials"] == "none"
    assert answer["url"].startswith(f"{endpoint}/{BUCKET}/") and answer["expires_at"]
    signed = parse_qs(urlsplit(answer["url"]).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-length", "x-amz-checksum-sha256", "content-type"} <= set(signed)
    assert answer["complete_url"] == f"/api/v1/uploads/{answer['upload_id']}/complete"
    assert "Authorization" not in answer["headers"]
    sent = served.put(answer["url"], content=data, headers=answer["headers"])  # no session
    assert sent.status_code == 200, sent.text
    assert keys(location, endpoint) == [f"uploads/{answer['upload_id']}/{name}"]
    assert refusal_of(alice.api.http.get(f"/api/v1/objects/{name}")) == (404, "object_not_found")
    done = complete(alice, answer, data)
    assert done.status_code == 201 and done.json()["created"] is True
    assert keys(location, endpoint) == [name]  # staged copy gone, checked object in place
    assert open_storage(location).read(name) == data  # what a node reads
    with alice.api.open_object(name) as stream:  # the owner, streamed from the bucket
        assert stream.read() == data
    assert complete(alice, answer, data).status_code == 200  # completing twice: idempotent
    assert target(alice, name, data)["state"] == "stored"
    other = data_file(item)
    with pytest.raises(ApiError) as taken:
        target(alice, name, other)
    assert taken.value.api_code == "object_exists"


def refusal_of(response: httpx2.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def test_complete_refuses_what_the_presigned_put_let_through(
    s3_app: FastAPI, location: str, endpoint: str
) -> None:
    alice, bob = person(s3_app, "alice"), person(s3_app, "bob")
    item = alice.api.create_product(product_body("batch"))["id"]
    name = f"{item}/data.kdata"
    plaintext = b"age,heart_rate\n" + b"31,62\n" * 2000
    answer = target(alice, name, plaintext)
    assert served.put(answer["url"], content=plaintext, headers=answer["headers"]).is_success
    assert refusal_of(complete(bob, answer, plaintext)) == (403, "not_owner")
    assert refusal_of(complete(alice, answer, plaintext)) == (422, "object_not_encrypted")
    assert keys(location, endpoint) == []  # refused: the staged copy is dropped too
    data = data_file(item)
    answer = target(alice, name, data)
    swapped = data_file(item)  # a different ciphertext than announced (same size)
    assert served.put(answer["url"], content=swapped, headers=answer["headers"]).is_success
    assert refusal_of(complete(alice, answer, data)) == (422, "object_checksum_mismatch")
    assert refusal_of(complete(alice, answer, data)) == (404, "upload_not_found")
    fake = {**answer, "complete_url": "/api/v1/uploads/not-an-id/complete"}
    assert refusal_of(complete(alice, fake, data)) == (404, "upload_not_found")
    assert keys(location, endpoint) == []


def test_the_sdk_uploads_a_share_set_to_s3_in_one_flow(
    s3_app: FastAPI, location: str, endpoint: str, tmp_path: Path
) -> None:
    alice = person(s3_app, "alice")
    item = alice.api.create_product(product_body("analytics"))["id"]
    made = share_set(tmp_path, item, alice.key.private_key)
    for name, data in made.objects.items():  # shares first, the manifest last
        path = tmp_path / "object"
        path.write_bytes(data)
        assert alice.api.upload_object(item, name, path) == name
    assert keys(location, endpoint) == sorted(made.objects)
    storage = open_storage(location)
    assert storage.read(made.manifest_name).decode() == made.signed.jws
    direct = alice.api.http.put(  # the API's own PUT works with S3 too
        f"/api/v1/objects/{made.share_names[0]}",
        content=made.objects[made.share_names[0]],
        headers={"Content-Type": "application/octet-stream"},
    )
    assert (direct.status_code, direct.json()["created"]) == (200, False)
    with pytest.raises(ApiError) as taken:
        alice.api.upload_object(item, made.share_names[0], tmp_path / "object")
    assert taken.value.api_code == "object_exists"
