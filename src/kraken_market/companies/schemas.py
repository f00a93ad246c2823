"""API shapes of KCIT (``CompanyCreate/CompanyUpdate → CompanyPublic``).

Shapes bound sizes and types only. DIDs, LEIs and country codes are checked by
the service (:mod:`.identifiers`, ``identity.dids.check_did``), so that each
wrong value gets its own stable code (``invalid_did``, ``invalid_lei``,
``invalid_country``) whoever calls the service: the API, the CLI or the verifier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from kraken_market.catalog.fields import NoNul, ShortText
from kraken_market.companies.vocabulary import AuditAction, CompanyStatus, LevelOfAssurance

Strict = ConfigDict(extra="forbid")

Did = Annotated[
    str,
    Field(max_length=2048, description="a DID, e.g. did:key:z6Mk… or did:web:example.com"),
]
LegalName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=300, pattern=r"^\S(.*\S)?$"),
    NoNul,
    Field(description="the name in the commercial register"),
]
RegistrationNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$"),
    NoNul,
    Field(description="number in the national commercial register, e.g. HRB 12345"),
]
Lei = Annotated[
    str,
    Field(
        max_length=64,
        description="ISO 17442 Legal Entity Identifier: 20 characters, the last two "
        "ISO 7064 MOD 97-10 check digits",
        examples=["529900T8BM49AURSDO55"],
    ),
]
Country = Annotated[
    str,
    Field(max_length=64, description="ISO 3166-1 alpha-2 code", examples=["DE"]),
]


class CompanyCreate(BaseModel):
    """A company to enter in the register.

    Without the admin role this is a self-registration: ``representative_did``
    must be the caller's own DID (the default) and the company starts ``pending``.
    """

    model_config = Strict

    did: Did
    legal_name: LegalName
    registration_number: RegistrationNumber | None = None
    lei: Lei | None = None
    country: Country
    representative_did: Did | None = Field(
        default=None, description="the person acting for the company; default: you"
    )
    status: CompanyStatus | None = Field(
        default=None,
        description="admins only (default identified); a self-registration is pending",
    )
    level_of_assurance: LevelOfAssurance = LevelOfAssurance.SELF_REGISTRATION


class CompanyUpdate(BaseModel):
    """A partial update by an admin. The DID is the company's key and never changes;
    status changes through approve and suspend. ``null`` clears the registration
    number or the LEI (one of them must remain)."""

    model_config = Strict

    legal_name: LegalName | SkipJsonSchema[None] = None
    registration_number: RegistrationNumber | None = None
    lei: Lei | None = None
    country: Country | SkipJsonSchema[None] = None
    representative_did: Did | SkipJsonSchema[None] = None
    level_of_assurance: LevelOfAssurance | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        clearable = {"registration_number", "lei"}
        nulls = sorted(
            name for name in self.model_fields_set - clearable if getattr(self, name) is None
        )
        if nulls:
            raise PydanticCustomError(
                "null_not_allowed",
                "leave out what should not change; null is not a value for {fields}",
                {"fields": ", ".join(nulls)},
            )
        return self


class StatusChange(BaseModel):
    model_config = Strict

    reason: ShortText | None = Field(default=None, description="kept in the audit log")


class CompanyPublic(BaseModel):
    did: str
    legal_name: str
    registration_number: str | None
    lei: str | None
    country: str
    representative_did: str | None = Field(
        description="shown to admins and to the representative only (a person's DID)"
    )
    status: CompanyStatus
    level_of_assurance: LevelOfAssurance
    account: str | None = Field(
        default=None,
        description="the company's own ledger account (bound by the company): its products "
        "are owned on chain by it and their revenue goes to it",
    )
    depute_url: str | None = Field(
        default=None,
        description="the company's Depute tool, where employees ask for chain actions "
        "(publishing, prices, availability) on the company's products",
    )
    version: int
    created_at: datetime
    updated_at: datetime


class CompanyPage(BaseModel):
    items: list[CompanyPublic]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next page; null at the end"
    )


class RepresentativeQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        min_length=1,
        max_length=8192,
        description="a kraken-question+jwt signed by the company's DID: "
        "{company, representative, aud, iat}",
    )


class IdentifiedAnswer(BaseModel):
    """Whether a DID is an identified company: what a relying party asks before it
    accepts a credential issued by that DID."""

    did: str
    identified: bool
    status: CompanyStatus | None = Field(description="null: no company has this DID")
    representative: bool | None = Field(
        default=None, description="whether ?representative= is the company's representative"
    )


class FieldChange(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    before: object = Field(alias="from")
    after: object = Field(alias="to")


class AuditEntry(BaseModel):
    did: str
    action: AuditAction
    actor: str = Field(description="DID of who made the change")
    at: datetime
    version: int = Field(description="the company's version after the change")
    changes: dict[str, FieldChange]
    reason: str | None
