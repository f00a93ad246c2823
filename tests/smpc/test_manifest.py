"""The owner's signed manifest: signature, signer, product and file commitments."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kraken_market.smpc.columns import ShareColumn
from kraken_market.smpc.errors import ManifestInvalid, ManifestMismatch
from kraken_market.smpc.manifest import (
    Manifest,
    ShareFileEntry,
    check_share_file,
    owner_did,
    sign_manifest,
    verify_manifest,
)

PRODUCT = "0x" + "77" * 32
FILES = [b"node zero file", b"node one file", b"node two file"]


def manifest_of(signer: Ed25519PrivateKey, **changes: Any) -> Manifest:
    import hashlib

    entries = tuple(
        ShareFileEntry(
            i, f"{PRODUCT}/s/node-{i}.kshare", hashlib.sha256(f).hexdigest(), len(f), f"{i}" * 64
        )
        for i, f in enumerate(FILES)
    )
    fields: dict[str, Any] = dict(
        product_id=PRODUCT,
        share_set="s",
        owner=owner_did(signer),
        m=3,
        t=1,
        rows=10,
        schema={"columns": [{"name": "x", "type": "numeric"}]},
        columns=(ShareColumn("x", "x", "numeric"),),
        files=entries,
        issued_at=1_800_000_000,
    )
    fields.update(changes)
    return Manifest(**fields)


@pytest.fixture
def owner() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def parts(token: str) -> list[str]:
    return token.split(".")


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unb64(part: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def test_sign_and_verify(owner) -> None:
    signed = sign_manifest(manifest_of(owner), owner)
    header = unb64(parts(signed.jws)[0])
    assert header["alg"] == "Ed25519" and header["typ"] == "kraken-share-manifest+jws"
    assert header["kid"].startswith(owner_did(owner) + "#")
    assert verify_manifest(signed.jws, owner_did(owner), PRODUCT) == signed.manifest
    assert sign_manifest(manifest_of(owner), owner).jws == signed.jws  # deterministic


def test_a_changed_payload_does_not_verify(owner) -> None:
    signed = sign_manifest(manifest_of(owner), owner)
    header, payload, signature = parts(signed.jws)
    changed = unb64(payload)
    changed["files"][1]["sha256"] = "0" * 64
    with pytest.raises(ManifestInvalid, match="signature does not verify"):
        verify_manifest(f"{header}.{b64(changed)}.{signature}", owner_did(owner))


def test_another_signer_is_refused(owner) -> None:
    mallory = Ed25519PrivateKey.generate()
    forged = sign_manifest(manifest_of(mallory), mallory)
    with pytest.raises(ManifestInvalid, match="not signed by the product owner"):
        verify_manifest(forged.jws, owner_did(owner))
    # claiming the owner's kid with mallory's signature fails on the signature
    header, payload, signature = parts(forged.jws)
    claimed = unb64(header) | {"kid": owner_did(owner) + "#x"}
    payload = b64(manifest_of(owner).to_json())
    with pytest.raises(ManifestInvalid, match="does not verify"):
        verify_manifest(f"{b64(claimed)}.{payload}.{signature}", owner_did(owner))


def test_signing_for_someone_else_is_refused(owner) -> None:
    with pytest.raises(ManifestInvalid, match="not the DID of the signing key"):
        sign_manifest(manifest_of(owner, owner="did:key:z6Mkother"), owner)


def test_wrong_product_and_bad_tokens(owner) -> None:
    signed = sign_manifest(manifest_of(owner), owner)
    with pytest.raises(ManifestInvalid, match="not 0x"):
        verify_manifest(signed.jws, owner_did(owner), "0x" + "00" * 32)
    tokens: list[str | bytes] = ["", "a.b", "x.y.z", signed.jws + ".more", b"\xff\xfe.x.y"]
    for token in tokens:
        with pytest.raises(ManifestInvalid):  # a stored file that is not text too: no 500
            verify_manifest(token, owner_did(owner))
    assert verify_manifest(signed.jws.encode(), owner_did(owner)) == signed.manifest
    _, payload, signature = parts(signed.jws)
    for bad_header in ({"alg": "none", "typ": "kraken-share-manifest+jws"}, {"alg": "HS256"}):
        with pytest.raises(ManifestInvalid, match="alg 'Ed25519'"):
            verify_manifest(f"{b64(bad_header)}.{payload}.{signature}", owner_did(owner))


def test_check_share_file(owner) -> None:
    manifest = manifest_of(owner)
    assert check_share_file(manifest, 1, FILES[1], "1" * 64).node_index == 1
    with pytest.raises(ManifestMismatch, match="does not match the manifest"):
        check_share_file(manifest, 1, FILES[1] + b"!", "1" * 64)
    with pytest.raises(ManifestMismatch, match="does not match the manifest"):
        check_share_file(manifest, 1, FILES[2], "1" * 64)  # swapped between nodes
    with pytest.raises(ManifestMismatch, match="encrypted to another key"):
        check_share_file(manifest, 1, FILES[1], "2" * 64)
    with pytest.raises(ManifestInvalid, match="no share file for node 3"):
        check_share_file(manifest, 3, FILES[1])


def test_incomplete_file_lists_are_refused(owner) -> None:
    manifest = manifest_of(owner)
    bad = manifest_of(owner, files=manifest.files[:2])
    with pytest.raises(ManifestInvalid, match="one share file per node"):
        verify_manifest(sign_manifest(bad, owner).jws, owner_did(owner))
