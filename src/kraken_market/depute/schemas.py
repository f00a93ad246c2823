"""API shapes of the Depute tool (``/api/...``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Strict = ConfigDict(extra="forbid")
Scope = Literal["publish", "buy", "manage"]
Role = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]
Did = Annotated[str, Field(max_length=2048, description="a DID, e.g. did:key:z6Mk…")]


class ChallengePublic(BaseModel):
    nonce: str = Field(description="Put it in the presentation's 'nonce' claim; usable once.")
    audience: str = Field(
        description="Put it in the presentation's 'aud' claim: this tool's own URL."
    )
    expires_at: datetime


class PresentationBody(BaseModel):
    model_config = Strict

    presentation: str = Field(min_length=1, max_length=65_536, description="a vp+jwt")


class SessionPublic(BaseModel):
    session_token: str = Field(description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime
    did: str
    name: str
    company: str


class GrantBody(BaseModel):
    """What to authorise: the AttorneyCredential's scope, roles and validity."""

    model_config = Strict

    scope: list[Scope] = Field(min_length=1, max_length=3, examples=[["publish"]])
    roles: list[Role] = Field(default_factory=list, max_length=16)
    valid_days: int = Field(default=365, ge=1, le=3650)
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="a label for the list (kept here, not in the credential)"
    )

    @field_validator("scope", "roles")
    @classmethod
    def _unique(cls, values: list[Any]) -> list[Any]:
        return list(dict.fromkeys(values))  # the credential's schema wants unique items


class AuthoriseBody(GrantBody):
    employee_did: Did


class InvitationBody(GrantBody):
    employee_did: Did | None = Field(
        default=None, description="only this DID may accept (default: whoever opens the link)"
    )
    expires_in_hours: int | None = Field(default=None, ge=1, le=720)


class PublicationPublic(BaseModel):
    status: Literal["published", "pending"]
    message: str
    list_url: str
    published_at: datetime | None
    pending_since: datetime | None
    last_attempt_at: datetime | None
    last_error: dict[str, Any] | None


class AuthorisationPublic(BaseModel):
    id: str
    employee_did: str
    name: str | None
    scope: list[str]
    roles: list[str]
    status: Literal["active", "revoked", "expired"]
    valid_from: datetime
    valid_until: datetime
    via: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revocation: Literal["published", "pending"] | None = Field(
        description="for a revoked authorisation: has the registry received it?"
    )


class IssuedPublic(BaseModel):
    authorisation: AuthorisationPublic
    credential: str = Field(description="the AttorneyCredential (vc+jwt) for the wallet")


class RevokedPublic(BaseModel):
    authorisation: AuthorisationPublic
    publication: PublicationPublic


class InvitationPublic(BaseModel):
    id: str
    employee_did: str | None
    name: str | None
    scope: list[str]
    roles: list[str]
    valid_days: int
    state: Literal["open", "used", "expired"]
    expires_at: datetime
    used_by: str | None
    authorisation_id: str | None


class InvitationCreated(BaseModel):
    invitation: InvitationPublic
    url: str = Field(description="the one-time link; shown once ('kraken-market wallet accept')")
    qr_svg_url: str


class InvitationOffer(BaseModel):
    """What an invitation offers, and how to accept it."""

    company: str
    legal_name: str | None
    scope: list[str]
    roles: list[str]
    valid_days: int
    employee_did: str | None
    expires_at: datetime
    audience: str
    nonce: str = Field(description="sign the acceptance presentation with this nonce")
    accept_url: str


class EmployeeCredential(BaseModel):
    id: str
    status: Literal["active", "revoked", "expired"]
    scope: list[str]
    valid_until: datetime
    credential: str


class CompanyPublic(BaseModel):
    company: str
    status: str | None = Field(description="KCIT status, null if unknown or unreachable")
    audience: str
    marketplace: str
    publication: PublicationPublic
