"""API shapes of login, sessions, the status-list registry and DID bindings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

_Strict = ConfigDict(extra="forbid")


class ChallengePublic(BaseModel):
    nonce: str = Field(description="Put it in the presentation's 'nonce' claim; usable once.")
    audience: str = Field(description="Put it in the presentation's 'aud' claim.")
    expires_at: datetime


class LoginRequest(BaseModel):
    model_config = _Strict

    presentation: str = Field(
        min_length=1,
        max_length=65_536,
        description="A vp+jwt signed by your DID key: 'kraken-market wallet present'.",
    )
    act_for: str | None = Field(
        default=None,
        max_length=2048,
        description="Company DID to act for, when you present several AttorneyCredentials.",
    )


class RefreshRequest(BaseModel):
    model_config = _Strict

    refresh_token: str = Field(min_length=1, max_length=200)


class SessionPublic(BaseModel):
    session_token: str = Field(description="Send as 'Authorization: Bearer <token>'.")
    refresh_token: str = Field(description="Exchange at /auth/refresh; works once.")
    expires_at: datetime
    refresh_expires_at: datetime
    did: str = Field(description="Your DID: the person who logged in.")
    acting_as: str = Field(description="Whom you act as: the company's DID or your own.")
    account: str | None = Field(
        description="The ledger account (0x) bound to your DID ('kraken-market wallet bind'), "
        "or null: the account you pay from and are paid to."
    )
    company: str | None
    roles: list[str]
    buyer_categories: list[str]


class MePublic(BaseModel):
    did: str = Field(description="Your DID: the person the session belongs to.")
    name: str
    acting_as: str = Field(description="Whom you act as: the company's DID or your own.")
    account: str | None = Field(
        description="The ledger account (0x) bound to your DID, or null if none is bound."
    )
    company: str | None = Field(description="The company you act for, if any.")
    roles: list[str] = Field(description="Platform roles: admin, arbiter.")
    scope: list[str] = Field(
        description="What you may do as 'acting_as' (buy, manage, publish): all for "
        "yourself, the attorney credential's scope for a company."
    )


class StatusListPublic(BaseModel):
    id: str
    url: str
    issuer: str
    purpose: str
    version: int
    revoked_count: int
    updated_at: datetime


class StatusListUpdate(BaseModel):
    model_config = _Strict

    credential: str = Field(
        min_length=1,
        max_length=80_000,
        description="The new BitstringStatusListCredential (vc+jwt) signed by the list's issuer.",
    )


class BindingRequest(BaseModel):
    model_config = _Strict

    binding: str = Field(min_length=1, max_length=4096, description="kraken-binding+jwt")
    account_signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class BindingPublic(BaseModel):
    did: str
    account: str
    created_at: datetime


class TrustedIssuersPublic(BaseModel):
    issuers: dict[str, list[str]] = Field(
        description="Credential type -> trusted issuer DIDs. AttorneyCredentials: any "
        "company identified in KCIT."
    )
