"""Verifiable credentials: W3C VC Data Model 2.0, secured with JOSE as ``vc+jwt``
(W3C "Securing Verifiable Credentials using JOSE and COSE", §3.1.1): the JWS
payload *is* the credential; validity comes from ``validFrom``/``validUntil``;
the issuer is the DID whose key signed it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kraken_market.identity import credential_types, jose
from kraken_market.identity.credential_types import SCHEMA_BASE, VC_CONTEXT, CredentialType
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import (
    CredentialExpired,
    CredentialInvalid,
    CredentialNotYetValid,
    InvalidSignature,
)
from kraken_market.identity.keys import DidKey
from kraken_market.identity.status_list import StatusEntry

VC_TYP = "vc+jwt"
CLOCK_SKEW_SECONDS = 60
KRAKEN_CONTEXT = "https://kraken.market/ns/credentials/v1"


def timestamp(moment: datetime) -> str:
    """An XML Schema dateTimeStamp in UTC with second precision, as VC 2.0 uses."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    """An RFC 3339 date-time (``T``/``Z`` in either case); anything Python cannot
    represent, such as a leap second, is refused as ``credential_invalid``."""
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise CredentialInvalid(f"time {value[:40]!r} is not a usable RFC 3339 date-time") from exc
    if moment.tzinfo is None:
        raise CredentialInvalid(f"time {value!r} has no time zone")
    return moment


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential whose signature, schema and validity period have been checked.

    Trust in the issuer and revocation status are checked separately
    (``identity.verifier``), because they depend on who asks and when.
    """

    id: str
    type: CredentialType
    issuer: str
    subject_id: str
    subject: dict[str, Any]
    valid_from: datetime
    valid_until: datetime | None
    status: StatusEntry | None
    token: str


def issue(
    issuer: DidKey,
    type_: CredentialType,
    subject: dict[str, Any],
    *,
    valid_from: datetime,
    valid_until: datetime | None = None,
    status: StatusEntry | None = None,
    credential_id: str | None = None,
) -> str:
    """Sign a credential of ``type_`` about ``subject`` (which carries the subject's ``id``)."""
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, KRAKEN_CONTEXT],
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", type_.value],
        "issuer": issuer.did,
        "validFrom": timestamp(valid_from),
        "credentialSchema": {"id": f"{SCHEMA_BASE}{type_.value}.json", "type": "JsonSchema"},
        "credentialSubject": subject,
    }
    if valid_until is not None:
        credential["validUntil"] = timestamp(valid_until)
    if status is not None:
        credential["credentialStatus"] = status.to_json()
    credential_types.validate(credential)
    return jose.sign(issuer, credential, VC_TYP)


def verify(
    token: str, resolver: DidResolver, now: datetime, max_bytes: int = 16_384
) -> VerifiedCredential:
    """Check a ``vc+jwt``: algorithm, signature by the issuer's DID, schema, validity period."""
    checked = jose.verify(token, resolver, VC_TYP, max_bytes)
    credential = checked.payload
    type_ = credential_types.validate(credential)
    issuer = credential["issuer"]
    issuer_did = issuer if isinstance(issuer, str) else issuer["id"]
    if issuer_did != checked.key.did:
        raise InvalidSignature(
            "the credential was not signed by its issuer",
            details={"issuer": issuer_did, "signer": checked.key.did},
        )
    valid_from = parse_time(credential["validFrom"])
    valid_until = parse_time(credential["validUntil"]) if "validUntil" in credential else None
    skew = CLOCK_SKEW_SECONDS
    if (valid_from - now).total_seconds() > skew:
        raise CredentialNotYetValid(
            f"the {type_.value} is valid from {credential['validFrom']}",
            details={"validFrom": credential["validFrom"]},
        )
    if valid_until is not None and (now - valid_until).total_seconds() > skew:
        raise CredentialExpired(
            f"the {type_.value} expired at {credential['validUntil']}",
            details={"validUntil": credential["validUntil"]},
        )
    status = credential.get("credentialStatus")
    subject = credential["credentialSubject"]
    return VerifiedCredential(
        id=str(credential.get("id", "")),
        type=type_,
        issuer=issuer_did,
        subject_id=subject["id"],
        subject=subject,
        valid_from=valid_from,
        valid_until=valid_until,
        status=StatusEntry.from_json(status) if status else None,
        token=token,
    )
