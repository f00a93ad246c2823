"""Our credential types and their JSON Schemas (JSON Schema 2020-12, validated in Rust
by jsonschema-rs: a login validates several credentials, so it must be cheap).

Each type's schema is the VC 2.0 envelope (``schemas/VerifiableCredential.json``)
with ``credentialSubject`` replaced by the type's own subject schema
(``schemas/<Type>.json``); the composed schema is what ``credentialSchema``
points at and what the API publishes.
"""

from __future__ import annotations

import copy
import json
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs

from kraken_market.identity.errors import CredentialInvalid

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
SCHEMA_BASE = "https://kraken.market/schemas/credentials/"


class CredentialType(StrEnum):
    PERSON = "PersonCredential"
    ORGANISATION = "OrganisationCredential"
    ATTORNEY = "AttorneyCredential"
    PLATFORM_ROLE = "PlatformRoleCredential"
    BUYER_CATEGORY = "BuyerCategoryCredential"
    STATUS_LIST = "BitstringStatusListCredential"


_TYPES = frozenset(t.value for t in CredentialType)


def _load(name: str) -> dict[str, Any]:
    text = resources.files("kraken_market.identity").joinpath(f"schemas/{name}.json").read_text()
    value: dict[str, Any] = json.loads(text)
    return value


@cache
def schema_of(type_: CredentialType) -> dict[str, Any]:
    """The complete JSON Schema of a credential of ``type_``."""
    schema = copy.deepcopy(_load("VerifiableCredential"))
    subject = _load(type_.value)
    schema["$id"] = f"{SCHEMA_BASE}{type_.value}.json"
    schema["title"] = subject.pop("title")
    schema["properties"]["credentialSubject"] = subject
    return schema


@cache
def _validator(type_: CredentialType) -> Any:
    return jsonschema_rs.validator_for(schema_of(type_), validate_formats=True)


def type_of(credential: dict[str, Any]) -> CredentialType:
    """The one Kraken Market type among a credential's ``type`` values."""
    types = credential.get("type")
    ours = (
        [t for t in types if t in CredentialType.__members__.values()]
        if isinstance(types, list)
        else []
    )
    if len(ours) != 1:
        raise CredentialInvalid(
            "a credential must have exactly one of the types "
            + ", ".join(t.value for t in CredentialType),
            details={"type": types if isinstance(types, list) else None},
        )
    return CredentialType(ours[0])


def validate(credential: dict[str, Any]) -> CredentialType:
    """Validate ``credential`` against its type's schema; every problem in ``details``."""
    type_ = type_of(credential)
    validator = _validator(type_)
    if not validator.is_valid(credential):
        problems = [
            {"path": "/".join(str(p) for p in error.instance_path), "message": error.message}
            for error in list(validator.iter_errors(credential))[:10]
        ]
        raise CredentialInvalid(
            f"the {type_.value} does not match its schema", details={"problems": problems}
        )
    return type_
