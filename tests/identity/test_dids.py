"""did:key against the did:key specification's test vectors; did:web against a local server."""

from __future__ import annotations

import json

import pytest
from multiformats import multibase
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from kraken_market.identity.dids import DidResolver, check_did, did_web_url, key_of_did_key
from kraken_market.identity.errors import DidUnavailable, InvalidDid
from kraken_market.identity.keys import DidKey
from tests import served
from tests.conftest import serving

# w3c-ccg/did-method-key, test-vectors/ed25519-x25519.json: seed -> DID, publicKeyBase58.
VECTORS = [
    ("00" * 32, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
     "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"),
    ("00" * 31 + "01", "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
     "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt"),
    ("00" * 31 + "02", "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf",
     "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH"),
    ("00" * 31 + "03", "did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ",
     "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2"),
    ("00" * 31 + "04", "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL",
     "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x"),
]  # fmt: skip


@pytest.mark.parametrize(("seed", "did", "public_base58"), VECTORS)
def test_did_key_matches_the_specification_vectors(seed: str, did: str, public_base58: str) -> None:
    key = DidKey.from_seed(bytes.fromhex(seed))
    assert key.did == did
    assert key.kid == f"{did}#{did.removeprefix('did:key:')}"
    raw = key_of_did_key(did)
    assert raw == key.public_bytes
    assert multibase.encode(raw, "base58btc") == "z" + public_base58
    assert DidResolver().key(key.kid).public_key == raw


@pytest.mark.parametrize(
    "did",
    [
        "",
        "did:",
        "did:key",
        "did:key:",
        "DID:key:z6Mk",
        "did:KEY:z6Mk",
        "did:key:z6Mk ",
        "did:key:z6Mk/path",
        "did:key:z6Mk%zz",
        "did:key:z6Mk:",
        "not a did",
        "did:key:" + "z" * 3000,
    ],
)
def test_malformed_dids_are_refused(did: str) -> None:
    with pytest.raises(InvalidDid) as refused:
        check_did(did)
    assert refused.value.code == "invalid_did"


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mD",  # truncated key
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",  # secp256k1, not Ed25519
        "did:key:6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",  # no multibase prefix
        "did:key:z0OIl",  # not base58
    ],
)
def test_did_keys_that_are_not_ed25519_keys_are_refused(did: str) -> None:
    with pytest.raises(InvalidDid):
        DidResolver().keys(did)


def test_unsupported_methods_are_named() -> None:
    with pytest.raises(InvalidDid, match="did:key and did:web"):
        DidResolver().keys("did:example:123")


@pytest.mark.parametrize(
    ("did", "url"),
    [  # did:web Method Specification, "Read (Resolve)" examples
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ],
)
def test_did_web_urls_follow_the_specification(did: str, url: str) -> None:
    assert did_web_url(did) == url


def _document(did: str, key: DidKey) -> dict[str, object]:
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.did.removeprefix("did:key:"),
            }
        ],
    }


def test_did_web_is_resolved_over_http_and_cached() -> None:
    key = DidKey.generate()
    did = "did:web:hospital.example:kraken"
    fetched: list[str] = []

    async def document(request: object) -> JSONResponse:
        fetched.append("x")
        return JSONResponse(_document(did, key))

    app = Starlette(routes=[Route("/kraken/did.json", document)])
    with serving(app) as base:

        def fetch(url: str) -> bytes:
            return served.get(url).raise_for_status().content

        resolver = DidResolver(
            fetch, url_of=lambda d: did_web_url(d).replace("https://hospital.example", base)
        )
        assert resolver.key(f"{did}#key-1").public_key == key.public_bytes
        assert resolver.key(did).public_key == key.public_bytes  # the only key
        assert len(fetched) == 1  # cached
        with pytest.raises(InvalidDid, match="no verification method"):
            resolver.key(f"{did}#key-2")


def test_an_unreachable_did_web_fails_closed() -> None:
    def fetch(url: str) -> bytes:
        raise ConnectionError("refused")

    with pytest.raises(DidUnavailable) as failed:
        DidResolver(fetch).keys("did:web:nowhere.example")
    assert failed.value.status == 503


def test_a_did_web_document_for_another_did_is_refused() -> None:
    key = DidKey.generate()

    def fetch(url: str) -> bytes:
        return json.dumps(_document("did:web:other.example", key)).encode()

    with pytest.raises(InvalidDid, match="does not match"):
        DidResolver(fetch).keys("did:web:hospital.example")


def test_an_oversized_did_document_is_cut_off_while_reading() -> None:
    from starlette.responses import Response

    from kraken_market.identity.dids import https_fetch

    async def huge(request: object) -> Response:
        return Response(b" " * 5_000_000, media_type="application/json")

    with serving(Starlette(routes=[Route("/did.json", huge)])) as base:
        resolver = DidResolver(https_fetch(max_bytes=100_000), url_of=lambda d: f"{base}/did.json")
        with pytest.raises(DidUnavailable):
            resolver.keys("did:web:big.example")
