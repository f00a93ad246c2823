"""Uploads through the API: only owners, only ciphertext, whole objects, never replaced."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.api.app import create_app
from kraken_market.client import ApiError
from kraken_market.identity.keys import DidKey
from kraken_market.settings import Settings
from kraken_market.smpc.manifest import sign_manifest
from kraken_market.smpc.storage import LocalDirectory
from tests.conftest import Account
from tests.factories import product_body
from tests.identity.conftest import Platform
from tests.identity.test_attorney_api import register
from tests.storage.objects import data_file, share_set

OCTETS = {"Content-Type": "application/octet-stream"}


def product(owner: Account, mode: str = "batch") -> str:
    return str(owner.api.create_product(product_body(mode))["id"])


def put(who: Account | TestClient, name: str, data: bytes | Iterator[bytes], **headers: str) -> Any:
    http = who.api.http if isinstance(who, Account) else who
    return http.put(f"/api/v1/objects/{name}", content=data, headers={**OCTETS, **headers})


def refusal(response: httpx2.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


def stored(settings: Settings) -> LocalDirectory:
    return LocalDirectory(Path(settings.resolved_storage_location))


def leftovers(settings: Settings) -> list[str]:
    root = Path(settings.resolved_storage_location)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_an_owner_uploads_a_data_file_once(alice: Account, settings: Settings) -> None:
    item = product(alice)
    name, data = f"{item}/data.kdata", data_file(item)
    digest = hashlib.sha256(data).hexdigest()
    target = alice.api.upload_target(name, len(data), digest)
    assert target["state"] == "upload" and target["credentials"] == "session"
    assert (target["method"], target["url"], target["complete_url"]) == (
        "PUT",
        f"/api/v1/objects/{name}",
        None,
    )
    first = put(alice, name, data)
    assert first.status_code == 201, first.text
    assert first.json() == {
        "name": name, "kind": "data_file", "size": len(data), "sha256": digest, "created": True,
    }  # fmt: skip
    assert stored(settings).read(name) == data
    again = put(alice, name, data)  # the same bytes: an idempotent success
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert alice.api.upload_target(name, len(data), digest)["state"] == "stored"
    other = data_file(item)
    assert refusal(put(alice, name, other)) == (409, "object_exists")
    with pytest.raises(ApiError) as taken:
        alice.api.upload_target(name, len(other), hashlib.sha256(other).hexdigest())
    assert taken.value.api_code == "object_exists"
    assert stored(settings).read(name) == data
    assert leftovers(settings) == [name]  # no staged part left behind


def test_plaintext_and_other_formats_are_refused_and_nothing_is_stored(
    alice: Account, settings: Settings
) -> None:
    item = product(alice)
    csv = b"age,heart_rate,sex\n" + b"31,62,f\n" * 50_000
    answer = put(alice, f"{item}/data.kdata", csv)
    assert refusal(answer) == (422, "object_not_encrypted")
    assert "encrypt it first" in answer.json()["message"]
    assert "31,62" not in answer.text  # contents are never echoed
    assert refusal(put(alice, f"{item}/data.csv", csv)) == (422, "object_kind_invalid")
    assert refusal(put(alice, f"{item}/data.kdata", data_file("0x" + "ab" * 32))) == (
        422,
        "object_format_invalid",
    )
    assert refusal(put(alice, f"{item}/data.kdata", data_file(item)[:-5])) == (
        422,
        "object_format_invalid",
    )
    assert refusal(put(alice, f"{item}/set/node-0.kshare", data_file(item))) == (
        422,
        "object_kind_invalid",  # a batch product stores data files only
    )
    assert refusal(put(alice, f"{'0x' + 'cd' * 32}/data.kdata", b"x")) == (404, "product_not_found")
    assert refusal(put(alice, "data.kdata", b"x")) == (422, "object_name_invalid")
    json = alice.api.http.put(f"/api/v1/objects/{item}/data.kdata", json={"a": 1})
    assert refusal(json) == (415, "unsupported_media_type")
    assert leftovers(settings) == []


def test_only_the_owner_uploads(
    app: FastAPI, alice: Account, bob: Account, settings: Settings
) -> None:
    item = product(alice)
    name, data = f"{item}/data.kdata", data_file(item)
    assert refusal(put(bob, name, data)) == (403, "not_owner")
    with TestClient(app) as anonymous:
        answer = put(anonymous, name, data)
        assert refusal(answer) == (401, "unauthenticated")
        assert "kraken-market login" in answer.json()["message"]
        body = {"name": name, "size": len(data), "sha256": "0" * 64}
        assert refusal(anonymous.post("/api/v1/uploads", json=body)) == (401, "unauthenticated")
    with pytest.raises(ApiError) as refused:
        bob.api.upload_target(name, len(data), hashlib.sha256(data).hexdigest())
    assert refused.value.api_code == "not_owner"
    alice.api.retire_product(item, "withdrawn")
    assert refusal(put(alice, name, data)) == (409, "product_retired")
    assert leftovers(settings) == []


def test_objects_are_limited_in_size_not_by_the_json_limit(tmp_path: Path, engine: Engine) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        environment="test",
        write_burst=100_000,
        storage_max_object_bytes=3 << 20,
        max_request_bytes=1 << 16,
    )
    from tests.conftest import person

    app = create_app(settings, engine=engine)
    alice = person(app, "alice")
    item = product(alice)
    fits = data_file(item, (2 << 20) + 5, chunk_size=1 << 20)  # above the 64 KiB JSON limit
    assert put(alice, f"{item}/fits.kdata", fits).status_code == 201
    large = data_file(item, (3 << 20) + 1, chunk_size=1 << 20)
    answer = put(alice, f"{item}/large.kdata", large)
    assert refusal(answer) == (413, "object_too_large")
    assert answer.json()["details"]["limit"] == 3 << 20
    streamed = put(
        alice,
        f"{item}/large.kdata",
        iter([large[i : i + 65536] for i in range(0, len(large), 65536)]),
    )
    assert refusal(streamed) == (413, "object_too_large")  # chunked: no Content-Length
    with pytest.raises(ApiError) as refused:
        alice.api.upload_target(f"{item}/large.kdata", len(large), "0" * 64)
    assert refused.value.api_code == "object_too_large"
    too_big_json = alice.api.http.post("/api/v1/products", content=b" " * (1 << 17),
                                       headers={"Content-Type": "application/json"})  # fmt: skip
    assert refusal(too_big_json) == (413, "payload_too_large")  # JSON keeps its own limit
    assert leftovers(settings) == [f"{item}/fits.kdata"]


def test_a_share_set_is_stored_shares_first_and_checked(
    alice: Account, bob: Account, tmp_path: Path, settings: Settings
) -> None:
    item = product(alice, "analytics")
    made = share_set(tmp_path, item, alice.key.private_key)
    manifest = made.objects[made.manifest_name]
    answer = put(alice, made.manifest_name, manifest)
    assert refusal(answer) == (409, "manifest_shares_missing")
    assert answer.json()["details"]["missing"] == made.share_names
    for name in made.share_names:
        assert put(alice, name, made.objects[name]).status_code == 201
    stranger = share_set(tmp_path / "x", item, bob.key.private_key)  # not the owner's key
    assert refusal(
        put(alice, stranger.manifest_name, stranger.objects[stranger.manifest_name])
    ) == (
        422,
        "manifest_invalid",
    )
    assert refusal(put(alice, f"{item}/data.kdata", data_file(item))) == (
        422,
        "object_kind_invalid",
    )
    done = put(alice, made.manifest_name, manifest)
    assert done.status_code == 201 and done.json()["kind"] == "manifest"
    assert sorted(leftovers(settings)) == sorted(made.objects)


def test_a_manifest_must_match_the_stored_shares(alice: Account, tmp_path: Path) -> None:
    item = product(alice, "analytics")
    made = share_set(tmp_path, item, alice.key.private_key)
    for name in made.share_names:
        assert put(alice, name, made.objects[name]).status_code == 201
    manifest = made.signed.manifest
    wrong = replace(manifest.files[1], sha256="0" * 64)
    forged = replace(manifest, files=(manifest.files[0], wrong, manifest.files[2]))
    token = sign_manifest(forged, alice.key.private_key).jws.encode()
    answer = put(alice, made.manifest_name, token)
    assert refusal(answer) == (422, "manifest_mismatch")
    assert answer.json()["details"] == {"name": wrong.name}
    outside = replace(manifest.files[2], name=f"{'0x' + 'ef' * 32}/set/node-2.kshare")
    forged = replace(manifest, files=(*manifest.files[:2], outside))
    token = sign_manifest(forged, alice.key.private_key).jws.encode()
    assert refusal(put(alice, made.manifest_name, token)) == (422, "manifest_invalid")
    assert put(alice, made.manifest_name, made.objects[made.manifest_name]).status_code == 201


def test_the_sdk_uploads_a_file_with_progress(
    alice: Account, tmp_path: Path, settings: Settings
) -> None:
    item = product(alice)
    path = tmp_path / "cohort.kdata"
    path.write_bytes(data_file(item, 3 << 20, chunk_size=1 << 20))
    seen: list[tuple[int, int]] = []
    name = alice.api.upload_object(
        item, "cohort.kdata", path, progress=lambda d, t: seen.append((d, t))
    )
    size = path.stat().st_size
    assert name == f"{item}/cohort.kdata" and stored(settings).read(name) == path.read_bytes()
    assert seen[0] == (0, size) and seen[-1] == (size, size) and len(seen) >= 4
    seen.clear()
    with path.open("rb") as handle:  # again, as a stream: nothing is sent
        assert (
            alice.api.upload_object(item, name, handle, progress=lambda d, t: seen.append((d, t)))
            == name
        )
    assert seen == [(size, size)]
    assert alice.api.object_size(name) == size
    assert alice.api.object_size(f"{item}/other.kdata") is None
    with alice.api.open_object(name) as stream:
        assert stream.read() == path.read_bytes()


def test_an_attorney_uploads_for_the_company_within_its_scope(
    app: FastAPI, admin: Account, settings: Settings
) -> None:
    platform = Platform(app, Path(settings.data_dir))
    company = platform.company("olav")
    register(platform, admin, company)

    def employee(scope: list[str]) -> dict[str, str]:
        key = DidKey.generate()
        held = [platform.person_credential(key, "Eve"), platform.attorney(company, key, scope)]
        session = platform.login(platform.presentation(key, held)).json()
        return {"Authorization": f"Bearer {session['session_token']}"}

    publisher = TestClient(app, headers=employee(["publish"]))
    item = publisher.post("/api/v1/products", json=product_body()).json()["id"]
    name, data = f"{item}/data.kdata", data_file(item)
    buyer_only = TestClient(app, headers=employee(["buy"]))
    assert refusal(put(buyer_only, name, data)) == (403, "scope_required")
    answer = put(publisher, name, data)
    assert answer.status_code == 201, answer.text
    assert stored(settings).read(name) == data
