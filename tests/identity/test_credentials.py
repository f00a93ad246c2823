"""vc+jwt credentials and vp+jwt presentations: every way a token can be bad has its code."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jws
from joserfc.jwk import OctKey, OKPKey

from kraken_market.errors import KrakenError
from kraken_market.identity import credentials, presentations
from kraken_market.identity.credential_types import CredentialType, schema_of
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.keys import DidKey
from kraken_market.identity.status_list import StatusEntry

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ISSUER = DidKey.from_seed(b"\x01" * 32)
ALICE = DidKey.from_seed(b"\x02" * 32)
RESOLVER = DidResolver()


def person(subject: DidKey = ALICE, **changes: object) -> str:
    fields: dict[str, object] = {
        "valid_from": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=1),
        "status": StatusEntry("https://registry.example/api/v1/status-lists/x", 7),
    }
    fields.update(changes)
    return credentials.issue(
        ISSUER,
        CredentialType.PERSON,
        {"id": subject.did, "name": "Alice"},
        **fields,  # type: ignore[arg-type]
    )


def _open(token: str, typ: str) -> object:
    if typ == "vc+jwt":
        return credentials.verify(token, RESOLVER, NOW)
    return presentations.open_presentation(
        token, RESOLVER, audience="https://market.example", now=NOW, max_bytes=32768
    )


def code_of(token: str, typ: str = "vc+jwt") -> str:
    with pytest.raises(KrakenError) as refused:
        _open(token, typ)
    return refused.value.code


def _b64(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_a_credential_round_trips() -> None:
    checked = credentials.verify(person(), RESOLVER, NOW)
    assert checked.type is CredentialType.PERSON
    assert (checked.issuer, checked.subject_id) == (ISSUER.did, ALICE.did)
    assert checked.subject["name"] == "Alice"
    assert checked.status == StatusEntry("https://registry.example/api/v1/status-lists/x", 7)


def test_a_forged_signature_is_refused() -> None:
    header, payload, signature = person().split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert code_of(f"{header}.{payload}.{flipped}") == "invalid_signature"
    # Changed claims under the issuer's original signature:
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["credentialSubject"]["name"] = "Mallory"
    assert code_of(f"{header}.{_b64(claims)}.{signature}") == "invalid_signature"


def test_a_credential_signed_by_someone_else_in_the_issuers_name_is_refused() -> None:
    mallory = DidKey.generate()
    token = credentials.issue(
        mallory,
        CredentialType.PERSON,
        {"id": ALICE.did, "name": "Alice"},
        valid_from=NOW,
    )
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["issuer"] = ISSUER.did  # claims the platform issued it, signed by mallory
    forged = jws.serialize_compact(
        {"alg": "Ed25519", "typ": "vc+jwt", "kid": mallory.kid},
        json.dumps(claims).encode(),
        OKPKey.import_key(mallory.private_key),
        algorithms=["Ed25519"],
    )
    assert code_of(forged) == "invalid_signature"


def test_alg_none_and_hmac_with_the_public_key_are_refused() -> None:
    payload = person().split(".")[1]
    unsigned = _b64({"alg": "none", "typ": "vc+jwt", "kid": ISSUER.kid}) + "." + payload + "."
    assert code_of(unsigned) == "unsupported_algorithm"
    # The classic confusion: HMAC keyed with the issuer's *public* key.
    secret = OctKey.import_key(ISSUER.public_bytes)
    hmac = jws.serialize_compact(
        {"alg": "HS256", "typ": "vc+jwt", "kid": ISSUER.kid},
        base64.urlsafe_b64decode(payload + "=="),
        secret,
        algorithms=["HS256"],
    )
    assert code_of(hmac) == "unsupported_algorithm"
    rs = _b64({"alg": "RS256", "typ": "vc+jwt", "kid": ISSUER.kid}) + "." + payload + ".AAAA"
    assert code_of(rs) == "unsupported_algorithm"


def test_expired_and_not_yet_valid_credentials_are_refused() -> None:
    assert code_of(person(valid_until=NOW - timedelta(hours=1))) == "credential_expired"
    assert code_of(person(valid_from=NOW + timedelta(hours=1))) == "credential_not_yet_valid"
    # Within the 60 s clock skew both still pass.
    credentials.verify(person(valid_until=NOW - timedelta(seconds=30)), RESOLVER, NOW)
    credentials.verify(person(valid_from=NOW + timedelta(seconds=30)), RESOLVER, NOW)


def test_malformed_tokens_are_refused() -> None:
    for token in ("", "abc", "a.b", "a.b.c.d", "!!.??.xx", _b64({"alg": "Ed25519"}) + ".e30.AA"):
        assert code_of(token) in {"malformed_token", "invalid_signature"}, token
    wrong_type = presentations.present(ALICE, [person()], audience="a", nonce="n")
    assert code_of(wrong_type) == "malformed_token"  # a vp+jwt is not a credential
    no_kid = _b64({"alg": "Ed25519", "typ": "vc+jwt"}) + "." + person().split(".")[1] + ".AA"
    assert code_of(no_kid) == "malformed_token"


def test_a_malformed_did_in_the_key_id_is_refused() -> None:
    header = _b64({"alg": "Ed25519", "typ": "vc+jwt", "kid": "did:key:zNotAKey#x"})
    assert code_of(header + "." + person().split(".")[1] + ".AA") == "invalid_did"


def test_an_oversized_token_is_refused_before_parsing() -> None:
    with pytest.raises(KrakenError) as refused:
        credentials.verify("a" * 20_000, RESOLVER, NOW, max_bytes=16_384)
    assert refused.value.code == "token_too_large"


def test_credentials_are_validated_against_their_schema() -> None:
    with pytest.raises(KrakenError) as refused:  # the issuer cannot even sign it
        credentials.issue(ISSUER, CredentialType.PERSON, {"id": ALICE.did}, valid_from=NOW)
    assert refused.value.code == "credential_invalid"
    claims = json.loads(base64.urlsafe_b64decode(person().split(".")[1] + "=="))
    claims["credentialSubject"]["role"] = "admin"  # not a PersonCredential field
    signed = jws.serialize_compact(
        {"alg": "Ed25519", "typ": "vc+jwt", "kid": ISSUER.kid},
        json.dumps(claims).encode(),
        OKPKey.import_key(ISSUER.private_key),
        algorithms=["Ed25519"],
    )
    assert code_of(signed) == "credential_invalid"
    for type_ in CredentialType:
        assert schema_of(type_)["$id"].endswith(f"{type_.value}.json")


def test_a_presentation_round_trips_and_binds_audience_and_lifetime() -> None:
    credential = person()
    vp = presentations.present(
        ALICE, [credential], audience="https://market.example", nonce="n1", now=NOW
    )
    opened = presentations.open_presentation(
        vp, RESOLVER, audience="https://market.example", now=NOW, max_bytes=32768
    )
    assert (opened.holder, opened.nonce, opened.credentials) == (ALICE.did, "n1", [credential])
    other = presentations.present(
        ALICE, [person()], audience="https://evil.example", nonce="n", now=NOW
    )
    assert code_of(other, "vp") == "wrong_audience"
    old = presentations.present(
        ALICE,
        [person()],
        audience="https://market.example",
        nonce="n",
        now=NOW - timedelta(minutes=10),
    )
    assert code_of(old, "vp") == "presentation_expired"
    long = presentations.present(
        ALICE,
        [person()],
        audience="https://market.example",
        nonce="n",
        now=NOW,
        lifetime=timedelta(hours=1),
    )
    assert code_of(long, "vp") == "presentation_expired"


@pytest.mark.parametrize(
    ("valid_from", "ok"),
    [("2026-11-23t10:00:00z", True), ("2026-06-30T23:59:60Z", False), ("yesterday", False)],
)
def test_odd_but_signed_times_are_refused_cleanly(valid_from: str, ok: bool) -> None:
    claims = json.loads(base64.urlsafe_b64decode(person().split(".")[1] + "=="))
    claims["validFrom"] = valid_from
    token = jws.serialize_compact(
        {"alg": "Ed25519", "typ": "vc+jwt", "kid": ISSUER.kid},
        json.dumps(claims).encode(),
        OKPKey.import_key(ISSUER.private_key),
        algorithms=["Ed25519"],
    )
    if ok:
        assert credentials.verify(token, RESOLVER, NOW).valid_from.tzinfo is not None
    else:
        assert code_of(token) == "credential_invalid"
