"""The owner's signed manifest of a share set: what each node must fetch and accept.

The manifest commits to every encrypted share file (storage name, SHA-256,
size), the node keys they are encrypted to (SHA-256 fingerprints of the X25519
public keys), m, t, the row count and the schema. The owner signs it as a
compact JWS (RFC 7515) with Ed25519 (RFC 8032; JOSE ``alg`` ``Ed25519`` per
RFC 9864), header ``{"alg": "Ed25519", "typ": "kraken-share-manifest+jws",
"kid": <owner did:key URL>}``. The JWS signs the exact payload bytes, so no
canonicalisation is needed to verify; we still write the payload as sorted,
compact JSON (RFC 8785-style for the integers and strings it holds) so that
the same manifest always gives the same bytes.

A node calls :func:`verify_manifest` with the owner's DID from the product
registry, then :func:`check_share_file` on the bytes it fetched, before
decrypting anything.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from kraken_market import jsondepth
from kraken_market.identity.dids import did_key, key_of_did_key
from kraken_market.smpc.columns import ShareColumn
from kraken_market.smpc.errors import ManifestInvalid, ManifestMismatch
from kraken_market.smpc.ids import normalise
from kraken_market.smpc.share_format import VERSION as SHARE_FORMAT_VERSION

TYP: Final = "kraken-share-manifest+jws"
ALG: Final = "Ed25519"
MAX_BYTES: Final = 4_000_000
MAX_NODES: Final = 64


@dataclass(frozen=True)
class ShareFileEntry:
    """One node's encrypted share file as the manifest commits to it."""

    node_index: int
    name: str
    sha256: str
    size: int
    node_key: str  # SHA-256 fingerprint of the node's X25519 public key, hex


@dataclass(frozen=True)
class Manifest:
    product_id: str
    share_set: str
    owner: str
    m: int
    t: int
    rows: int
    schema: dict[str, Any]
    columns: tuple[ShareColumn, ...]
    files: tuple[ShareFileEntry, ...]
    issued_at: int
    format_version: int = SHARE_FORMAT_VERSION

    def file_for(self, node_index: int) -> ShareFileEntry:
        for entry in self.files:
            if entry.node_index == node_index:
                return entry
        raise ManifestInvalid(f"the manifest lists no share file for node {node_index}")

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": [column.to_json() for column in self.columns],
            "files": [entry.__dict__ for entry in self.files],
            "format_version": self.format_version,
            "issued_at": self.issued_at,
            "m": self.m,
            "owner": self.owner,
            "product_id": self.product_id,
            "rows": self.rows,
            "schema": self.schema,
            "share_set": self.share_set,
            "t": self.t,
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        try:
            manifest = cls(
                product_id=normalise(data["product_id"]),
                share_set=str(data["share_set"]),
                owner=str(data["owner"]),
                m=int(data["m"]),
                t=int(data["t"]),
                rows=int(data["rows"]),
                schema=dict(data["schema"]),
                columns=tuple(ShareColumn.from_json(c) for c in data["columns"]),
                files=tuple(ShareFileEntry(**entry) for entry in data["files"]),
                issued_at=int(data["issued_at"]),
                format_version=int(data["format_version"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ManifestInvalid(f"the manifest is malformed ({str(exc)[:200]})") from exc
        if not (1 <= manifest.m <= MAX_NODES and 0 <= manifest.t < manifest.m):
            raise ManifestInvalid(f"a manifest is for 1 to {MAX_NODES} nodes, with t < m")
        if not 0 <= manifest.rows < 2**48:
            raise ManifestInvalid("the manifest's row count is out of range")
        if manifest.format_version != SHARE_FORMAT_VERSION:
            raise ManifestInvalid(f"share format version {manifest.format_version} not supported")
        if sorted(e.node_index for e in manifest.files) != list(range(manifest.m)):
            raise ManifestInvalid("the manifest must list one share file per node 0..m-1")
        return manifest


@dataclass(frozen=True)
class SignedManifest:
    manifest: Manifest
    jws: str


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (RFC 8785 for JSON without floats)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def owner_did(owner_key: Ed25519PrivateKey) -> str:
    return did_key(owner_key.public_key())


def sign_manifest(manifest: Manifest, owner_key: Ed25519PrivateKey) -> SignedManifest:
    did = owner_did(owner_key)
    if manifest.owner != did:
        raise ManifestInvalid("the manifest's owner is not the DID of the signing key")
    kid = f"{did}#{did.removeprefix('did:key:')}"
    header = {"alg": ALG, "typ": TYP, "kid": kid}
    token = jws.serialize_compact(
        header, canonical_json(manifest.to_json()), OKPKey.import_key(owner_key), [ALG]
    )
    return SignedManifest(manifest, token)


class ManifestSigner(Protocol):
    """Who signs a manifest as the product's owner: a key the owner holds here
    (:class:`KeySigner`), or a company's Depute tool, which signs with the company's
    key for an employee it authorised (``depute.client.DeskSigner``)."""

    @property
    def owner(self) -> str:
        """The DID the manifest names as its owner."""
        ...

    def sign(self, manifest: Manifest) -> SignedManifest: ...


@dataclass(frozen=True)
class KeySigner:
    key: Ed25519PrivateKey

    @property
    def owner(self) -> str:
        return owner_did(self.key)

    def sign(self, manifest: Manifest) -> SignedManifest:
        return sign_manifest(manifest, self.key)


def verify_manifest(token: str | bytes, owner: str, product_id: str | None = None) -> Manifest:
    """The manifest in ``token`` if the product owner ``owner`` (a did:key) signed it
    (and it is for ``product_id``, if given); ``ManifestInvalid`` otherwise (also for
    a stored manifest that is not text at all)."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise ManifestInvalid("the stored manifest is not a compact JWS (not text)") from None
    if not isinstance(token, str) or len(token) > MAX_BYTES or token.count(".") != 2:
        raise ManifestInvalid("a signed manifest is a compact JWS (header.payload.signature)")
    header = _header(token)
    if header.get("alg") != ALG or header.get("typ") != TYP or "crit" in header:
        raise ManifestInvalid(f"a manifest JWS has alg {ALG!r} and typ {TYP!r}, no crit")
    kid = header.get("kid")
    if not isinstance(kid, str) or kid.partition("#")[0] != owner:
        raise ManifestInvalid(f"the manifest is not signed by the product owner {owner}")
    try:
        public = key_of_did_key(owner)
        x = base64.urlsafe_b64encode(public).rstrip(b"=").decode()
        key = OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": x})
        payload = jws.deserialize_compact(token, key, algorithms=[ALG]).payload
        manifest = Manifest.from_json(jsondepth.loads(payload))
    except (JoseError, ValueError) as exc:  # our InvalidDid and ManifestInvalid are ValueErrors
        if isinstance(exc, ManifestInvalid):
            raise
        raise ManifestInvalid(f"the manifest signature does not verify ({exc})") from exc
    if manifest.owner != owner:
        raise ManifestInvalid("the manifest names another owner than its signer")
    if product_id is not None and manifest.product_id != normalise(product_id):
        raise ManifestInvalid(
            f"the manifest is for product {manifest.product_id}, not {product_id}"
        )
    return manifest


def _header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    try:
        header = jsondepth.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ManifestInvalid("the JWS header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise ManifestInvalid("the JWS header is not a JSON object")
    return header


def check_share_file(
    manifest: Manifest, node_index: int, data: bytes, node_key_fingerprint: str | None = None
) -> ShareFileEntry:
    """The manifest's entry for this node if ``data`` is exactly the committed file
    (size and SHA-256) and, if given, was encrypted to this node's key."""
    entry = manifest.file_for(node_index)
    if node_key_fingerprint is not None and entry.node_key != node_key_fingerprint:
        raise ManifestMismatch(
            f"the share file for node {node_index} was encrypted to another key "
            f"({entry.node_key[:16]}…, this node's is {node_key_fingerprint[:16]}…)"
        )
    if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
        raise ManifestMismatch(
            f"{entry.name} does not match the manifest (size or SHA-256 differ): "
            "it was modified or replaced in storage"
        )
    return entry
