"""Golden vectors of identity: did:key, compact JWS, credentials and presentations
(see tests/web/golden.py)."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from kraken_market.errors import KrakenError
from kraken_market.identity import credentials as vc
from kraken_market.identity import jose
from kraken_market.identity import presentations as vp
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver, key_of_did_key
from kraken_market.identity.keys import DidKey
from kraken_market.identity.status_list import StatusEntry

Seed = Callable[[str], bytes]
Keys = Callable[[str], DidKey]
AUDIENCE = "https://market.example"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _part(value: Any) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _forged(key: DidKey, header: dict[str, Any], payload: Any) -> str:
    """A token signed with ``key`` whatever its header says (for the refusal cases)."""
    signing_input = f"{_part(header)}.{_part(payload)}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"


def _outcome(call: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"result": call()}
    except KrakenError as exc:
        return {"error": exc.code}


def _key_hex(did: str) -> str:
    return key_of_did_key(did).hex()


def _verified(token: str, resolver: DidResolver) -> dict[str, Any]:
    return jose.verify(token, resolver, "example+jwt", 2048).payload


def dids(seed: Seed) -> dict[str, Any]:
    keys = [DidKey.from_seed(bytes(32)), *(DidKey.from_seed(seed(n)) for n in ("alice", "bob"))]
    refused = [
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",  # secp256k1-pub
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2do",  # one character short
        "did:key:6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",  # no multibase prefix
        "did:web:example.com",
        "did:key:",
        "not a did",
    ]
    return {
        "keys": [
            {"seed": k.seed.hex(), "public_key": k.public_bytes.hex(), "did": k.did, "kid": k.kid}
            for k in keys
        ],
        "refused": [{"did": did, **_outcome(partial(_key_hex, did))} for did in refused],
    }


def _credential(issuer: DidKey, subject: DidKey, now: datetime) -> str:
    return vc.issue(
        issuer,
        CredentialType.BUYER_CATEGORY,
        {"id": subject.did, "category": "research-institution", "organisation": "Institut Pasteur"},
        valid_from=now - timedelta(days=2),
        valid_until=now + timedelta(days=30),
        status=StatusEntry("https://market.example/api/v1/status/1", 42),
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000002",
    )


def jose_tokens(did_key: Keys, now: datetime) -> dict[str, Any]:
    alice, issuer = did_key("alice"), did_key("issuer")
    payloads: list[dict[str, Any]] = [
        {"sub": "product-1", "n": 1},
        {"name": "Zoë ✓ 日本 🦑", "quote": '"\\/\n\t\u0001\u007f', "list": [1, True, None, "x"]},
        {"nested": {"b": [{"c": -9007199254740991}], "a": {}}, "empty": [], "s": ""},
    ]
    signed: list[dict[str, Any]] = [
        {
            "seed": alice.seed.hex(),
            "typ": "example+jwt",
            "payload": p,
            "token": jose.sign(alice, p, "example+jwt"),
        }
        for p in payloads
    ]
    kid, payload = alice.kid, {"sub": "x"}
    good = signed[0]["token"]
    head, body, signature = good.split(".")
    forged = {
        "valid": good,
        "alg EdDSA": _forged(alice, {"alg": "EdDSA", "typ": "example+jwt", "kid": kid}, payload),
        "alg none": f"{_part({'alg': 'none', 'typ': 'example+jwt', 'kid': kid})}.{_part(payload)}.",
        "alg HS256": _forged(alice, {"alg": "HS256", "typ": "example+jwt", "kid": kid}, payload),
        "wrong typ": _forged(alice, {"alg": "Ed25519", "typ": "vc+jwt", "kid": kid}, payload),
        "no kid": _forged(alice, {"alg": "Ed25519", "typ": "example+jwt"}, payload),
        "crit": _forged(
            alice, {"alg": "Ed25519", "typ": "example+jwt", "kid": kid, "crit": ["x"]}, payload
        ),
        "payload not an object": _forged(
            alice, {"alg": "Ed25519", "typ": "example+jwt", "kid": kid}, [1]
        ),
        "tampered payload": f"{head}.{_part({'sub': 'product-2', 'n': 1})}.{signature}",
        "signed by another key": _forged(
            issuer, {"alg": "Ed25519", "typ": "example+jwt", "kid": kid}, payload
        ),
        "two parts": f"{head}.{body}",
        "header not base64 JSON": f"{_b64(b'{not json')}.{body}.{signature}",
        "too large": good + "A" * 3000,
    }
    resolver = DidResolver()
    checks = []
    for name, token in forged.items():
        with warnings.catch_warnings():  # joserfc warns that the name EdDSA is deprecated
            warnings.filterwarnings("ignore", "EdDSA is deprecated")
            outcome = _outcome(partial(_verified, token, resolver))
        checks.append(
            {"name": name, "token": token, "typ": "example+jwt", "max_bytes": 2048, **outcome}
        )
    credential = _credential(issuer, alice, now)
    checked = vc.verify(credential, resolver, now)
    shown = {
        "id": checked.id,
        "type": checked.type.value,
        "issuer": checked.issuer,
        "valid_until": vc.timestamp(checked.valid_until) if checked.valid_until else None,
        "subject": {k: v for k, v in checked.subject.items() if k != "id"},
        "token": credential,
    }
    return {"signed": signed, "verify": checks, "credentials": [shown]}


def presentations(did_key: Keys, now: datetime) -> dict[str, Any]:
    alice, issuer = did_key("alice"), did_key("issuer")
    credential = _credential(issuer, alice, now)
    cases = []
    for nonce, lifetime, tokens in [
        ("n-0001", timedelta(minutes=2), [credential]),
        ("a nonce ✓", timedelta(minutes=10), [credential, credential]),
    ]:
        token = vp.present(
            alice, tokens, audience=AUDIENCE, nonce=nonce, now=now, lifetime=lifetime
        )
        opened = vp.open_presentation(
            token, DidResolver(), audience=AUDIENCE, now=now, max_bytes=65_536
        )
        assert opened.credentials == tokens
        cases.append(
            {
                "holder_seed": alice.seed.hex(),
                "credentials": tokens,
                "audience": AUDIENCE,
                "nonce": nonce,
                "now": int(now.timestamp()),
                "lifetime_seconds": int(lifetime.total_seconds()),
                "token": token,
            }
        )
    return {"cases": cases}
