"""Decentralized identifiers: ``did:key`` (Ed25519) and ``did:web``.

``did:key`` follows the did:key Method specification (W3C CCG, v0.7): the
method-specific id is the multibase base58btc (``z``) encoding of the
multicodec ``ed25519-pub`` (0xed) prefix followed by the 32-byte public key; it
resolves with no network. ``did:web`` follows the did:web Method
specification: ``did:web:example.com:user:alice`` is fetched from
``https://example.com/user/alice/did.json`` (``/.well-known/did.json`` when
there is no path); ``%3A`` in the host encodes a port. Resolved did:web
documents are cached for ``cache_seconds``.

Only Ed25519 verification methods are accepted (``Ed25519VerificationKey2020``
/ ``Multikey`` with ``publicKeyMultibase``, or ``JsonWebKey2020`` with an OKP
``publicKeyJwk``): the marketplace signs and verifies nothing else.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx2 as httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from multiformats import multibase, multicodec

from kraken_market import jsondepth
from kraken_market.identity.errors import DidUnavailable, InvalidDid

# W3C DID Core 1.0, section 3.1 (method names lowercase; idchar incl. pct-encoding).
_DID = re.compile(
    r"^did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}|:)*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})$"
)
MAX_DID_LENGTH = 2048
_ED25519_PUB = "ed25519-pub"
_DOCUMENT_MAX_BYTES = 100_000


def check_did(did: str) -> str:
    """``did`` unchanged if it is a syntactically valid DID (DID Core 1.0 §3.1), else
    :class:`InvalidDid`."""
    if not isinstance(did, str) or len(did) > MAX_DID_LENGTH or not _DID.fullmatch(did):
        shown = did[:80] if isinstance(did, str) else repr(did)[:80]
        raise InvalidDid(
            "not a DID: expected 'did:<method>:<id>' (e.g. did:key:z6Mk...)",
            details={"did": shown},
        )
    return did


def did_key(public_key: Ed25519PublicKey | bytes) -> str:
    """The ``did:key`` of an Ed25519 public key."""
    raw = public_key if isinstance(public_key, bytes) else _raw(public_key)
    if len(raw) != 32:
        raise InvalidDid("an Ed25519 public key is 32 bytes")
    return "did:key:" + multibase.encode(multicodec.wrap(_ED25519_PUB, raw), "base58btc")


def _raw(public_key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _multikey(value: str, did: str) -> bytes:
    try:
        codec, raw = multicodec.unwrap(multibase.decode(value))
    except Exception as exc:  # multiformats raises several unrelated types
        raise InvalidDid(f"{did}: the key is not valid multibase/multicodec") from exc
    if codec.name != _ED25519_PUB or len(raw) != 32:
        raise InvalidDid(f"{did}: only Ed25519 keys are supported (found {codec.name})")
    return raw


def key_of_did_key(did: str) -> bytes:
    """The raw Ed25519 public key a ``did:key`` encodes (no network)."""
    check_did(did)
    if not did.startswith("did:key:z"):
        raise InvalidDid(
            "a did:key is 'did:key:z' + base58btc multicodec key", details={"did": did}
        )
    return _multikey(did.removeprefix("did:key:"), did)


def did_web_url(did: str) -> str:
    """The HTTPS URL of a ``did:web`` document (did:web spec, "Read (Resolve)")."""
    check_did(did)
    if not did.startswith("did:web:"):
        raise InvalidDid("not a did:web", details={"did": did})
    host, *path = did.removeprefix("did:web:").split(":")
    host = unquote(host)
    if not host or "/" in host:
        raise InvalidDid("a did:web needs a host name", details={"did": did})
    suffix = "/".join(unquote(p) for p in path) + "/did.json" if path else ".well-known/did.json"
    return f"https://{host}/{suffix}"


@dataclass(frozen=True)
class VerificationKey:
    """One Ed25519 key a DID controls; ``id`` is its DID URL (``did#fragment``)."""

    id: str
    did: str
    public_key: bytes


def _keys_of_document(did: str, document: Any) -> list[VerificationKey]:
    if not isinstance(document, dict) or document.get("id") != did:
        raise InvalidDid(f"{did}: the DID document's id does not match the DID")
    keys = []
    for method in document.get("verificationMethod") or []:
        if not isinstance(method, dict) or not isinstance(method.get("id"), str):
            continue
        key_id = method["id"] if method["id"].startswith("did:") else did + method["id"]
        if "publicKeyMultibase" in method:
            keys.append(VerificationKey(key_id, did, _multikey(method["publicKeyMultibase"], did)))
        elif isinstance(jwk := method.get("publicKeyJwk"), dict) and jwk.get("crv") == "Ed25519":
            keys.append(VerificationKey(key_id, did, multibase.decode("u" + str(jwk.get("x")))))
    return keys


Fetch = Callable[[str], bytes]


def https_fetch(timeout: float = 5.0, max_bytes: int = _DOCUMENT_MAX_BYTES) -> Fetch:
    """The default fetcher (did:web documents, remote status lists): an HTTPS GET with a
    timeout, no redirects, and a size limit enforced while reading."""

    def fetch(url: str) -> bytes:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/did+json"}) as response,
        ):
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise ValueError(f"more than {max_bytes} bytes")
            return bytes(body)

    return fetch


class DidResolver:
    """Resolves a DID to its Ed25519 verification keys.

    ``fetch`` (an injected ``url -> bytes``) serves did:web, so tests pass a local
    server's client and deployments the HTTPS default; ``url_of`` maps a did:web
    to its URL (tests map it to ``http://127.0.0.1``).
    """

    def __init__(
        self,
        fetch: Fetch | None = None,
        *,
        cache_seconds: float = 300.0,
        url_of: Callable[[str], str] = did_web_url,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch or https_fetch()
        self._url_of = url_of
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._web: dict[str, tuple[float, list[VerificationKey]]] = {}
        self._key_cache: dict[str, list[VerificationKey]] = {}

    def keys(self, did: str) -> list[VerificationKey]:
        if did.startswith("did:key:"):
            cached = self._key_cache.get(did)
            if cached is None:
                raw = key_of_did_key(did)
                cached = [VerificationKey(f"{did}#{did.removeprefix('did:key:')}", did, raw)]
                if len(self._key_cache) > 100_000:
                    self._key_cache.clear()
                self._key_cache[did] = cached
            return cached
        if did.startswith("did:web:"):
            return self._web_keys(did)
        check_did(did)
        raise InvalidDid("only did:key and did:web are supported", details={"did": did})

    def key(self, kid: str) -> VerificationKey:
        """The key a JOSE ``kid`` (a DID URL, or a bare DID with one key) names."""
        did, _, fragment = kid.partition("#")
        keys = self.keys(did)
        if not fragment:
            if len(keys) != 1:
                raise InvalidDid(f"{did} has {len(keys)} keys: name one with '#fragment'")
            return keys[0]
        for key in keys:
            if key.id == kid:
                return key
        raise InvalidDid(f"{did} has no verification method {kid!r}", details={"kid": kid})

    def _web_keys(self, did: str) -> list[VerificationKey]:
        now = self._clock()
        cached = self._web.get(did)
        if cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        url = self._url_of(did)
        try:
            document = jsondepth.loads(self._fetch(url))
        except Exception as exc:
            raise DidUnavailable(
                f"could not resolve {did}: GET {url} failed ({type(exc).__name__}); "
                "check that the company's web server serves its DID document",
                details={"did": did, "url": url},
            ) from exc
        keys = _keys_of_document(did, document)
        self._web[did] = (now, keys)
        return keys
