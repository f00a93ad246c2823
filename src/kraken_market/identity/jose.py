"""Compact JWS with Ed25519 (RFC 7515, RFC 8037, alg ``Ed25519`` per RFC 9864).

Every token the marketplace accepts is checked here first, with a fixed
allow-list of algorithms: a header saying ``none``, an HMAC algorithm (the
classic "sign with the public key as HMAC secret" confusion) or anything but
Ed25519 is refused before any key is looked at. The ``kid`` header must be a
DID URL; the key comes from resolving that DID, never from the token.
Signing and verifying go through joserfc.
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import OKPKey

from kraken_market import jsondepth
from kraken_market.identity.dids import DidResolver, VerificationKey
from kraken_market.identity.errors import (
    InvalidSignature,
    MalformedToken,
    TokenTooLarge,
    UnsupportedAlgorithm,
)
from kraken_market.identity.keys import DidKey

ALGORITHMS = ("Ed25519", "EdDSA")  # EdDSA: the pre-RFC 9864 name other wallets still send
SIGNING_ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class Verified:
    header: dict[str, Any]
    payload: dict[str, Any]
    key: VerificationKey


class _KeyCache:
    """joserfc key objects by raw public key: importing one costs as much as a verify."""

    def __init__(self, size: int = 10_000) -> None:
        self._keys: OrderedDict[bytes, OKPKey] = OrderedDict()
        self._size = size

    def get(self, raw: bytes) -> OKPKey:
        key = self._keys.get(raw)
        if key is None:
            x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            key = OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": x})
            self._keys[raw] = key
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
        return key


_keys = _KeyCache()
_signing_keys: dict[bytes, OKPKey] = {}


def _b64json(part: str, what: str) -> dict[str, Any]:
    try:
        value = jsondepth.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedToken(f"the {what} is not base64url-encoded JSON") from exc
    if not isinstance(value, dict):
        raise MalformedToken(f"the {what} is not a JSON object")
    return value


def sign(key: DidKey, payload: dict[str, Any], typ: str) -> str:
    """A compact JWS of ``payload`` with header ``{alg: Ed25519, typ, kid}``."""
    okp = _signing_keys.get(key.seed)
    if okp is None:
        okp = OKPKey.import_key(key.private_key)
        _signing_keys[key.seed] = okp
    header = {"alg": SIGNING_ALGORITHM, "typ": typ, "kid": key.kid}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return jws.serialize_compact(header, body, okp, algorithms=[SIGNING_ALGORITHM])


def verify(token: str, resolver: DidResolver, typ: str, max_bytes: int) -> Verified:
    """Check ``token``'s shape, algorithm, type and signature; return header and payload.

    Raises ``TokenTooLarge``, ``MalformedToken``, ``UnsupportedAlgorithm``,
    ``InvalidDid`` (bad ``kid``) or ``InvalidSignature``; validity times and
    claims are the caller's to check.
    """
    if not isinstance(token, str):
        raise MalformedToken("a token is a string")
    if len(token) > max_bytes:
        raise TokenTooLarge(
            f"tokens are limited to {max_bytes} bytes; this one has {len(token)}",
            details={"limit": max_bytes},
        )
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise MalformedToken("expected a compact JWS: header.payload.signature")
    header = _b64json(parts[0], "JOSE header")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise UnsupportedAlgorithm(
            f"algorithm {alg!r} is not accepted; sign with Ed25519",
            details={"alg": alg if isinstance(alg, str) else None},
        )
    if header.get("typ") != typ:
        raise MalformedToken(f"expected a {typ} token, got typ {header.get('typ')!r}")
    if "crit" in header:
        raise MalformedToken("no critical header extensions are understood")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid.startswith("did:"):
        raise MalformedToken("the JOSE header needs a kid naming the signer's DID URL")
    key = resolver.key(kid)
    try:
        result = jws.deserialize_compact(token, _keys.get(key.public_key), algorithms=[alg])
    except BadSignatureError as exc:
        raise InvalidSignature(f"the signature does not verify with {kid}") from exc
    except JoseError as exc:
        raise MalformedToken(f"not a valid JWS ({exc.error})") from exc
    try:
        payload = jsondepth.loads(result.payload)
    except ValueError as exc:
        raise MalformedToken("the payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedToken("the payload is not a JSON object")
    return Verified(header, payload, key)
