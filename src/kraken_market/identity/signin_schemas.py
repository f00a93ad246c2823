"""API shapes of sign-in with OpenID for Verifiable Presentations (``identity.signin``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from kraken_market.identity.openid4vp import Flow

_Strict = ConfigDict(extra="forbid")
MAX_VP_TOKEN = 65_536
"""Characters of a form's vp_token: ten presentations of one credential each fit with
room to spare, and its percent-encoding stays within the API's 1 MiB bodies."""
DID_PATTERN = r"^did:[a-z0-9]+:\S+$"


class SigninRequestCreate(BaseModel):
    model_config = _Strict

    flow: Flow = Field(
        description="cross_device: the page shows wallet_url as a QR code and polls; "
        "same_device: the page opens the wallet by a link, and the wallet brings the "
        "browser back to /signin/complete#response_code=…"
    )
    act_for: str | None = Field(
        default=None,
        max_length=2048,
        pattern=DID_PATTERN,
        description="A company's DID: the request then asks for its AttorneyCredential.",
    )


class SigninRequestCreated(BaseModel):
    transaction_id: str = Field(
        description="Secret: only the creating page knows it (never put it in the QR "
        "code); it redeems the result at POST /auth/requests/result."
    )
    request_id: str
    request_uri: str = Field(description="Where wallets fetch the signed Request Object.")
    wallet_url: str = Field(
        description="openid4vp://?client_id=…&request_uri=…: the QR code's text; the "
        "same query string at /wallet/request opens the web wallet (same device)."
    )
    expires_at: datetime


class AuthorizationResponse(BaseModel):
    """The wallet's answer (OpenID4VP §8.2 direct_post): form-encoded, or JSON."""

    vp_token: Annotated[str, Field(max_length=MAX_VP_TOKEN)] | dict[str, list[str]] | None = Field(
        default=None,
        description="JSON object: DCQL credential query id -> array of vp+jwt (a JSON "
        "text in a form).",
    )
    state: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=200, description="The wallet declined.")
    error_description: str | None = Field(default=None, max_length=1000)


class SigninAnswered(BaseModel):
    redirect_uri: str | None = Field(
        default=None,
        description="Same-device only: where the wallet sends the browser next "
        "(/signin/complete#response_code=…). Absent for cross-device.",
    )


class SigninResultRequest(BaseModel):
    model_config = _Strict

    transaction_id: str = Field(min_length=1, max_length=64)
    response_code: str | None = Field(
        default=None,
        max_length=64,
        description="Same-device: the response_code from /signin/complete's fragment.",
    )
    deliver: Literal["cookie", "body"] = Field(
        default="cookie",
        description="cookie: the session is set as HttpOnly cookies and no token is in "
        "the answer (pages); body: the tokens are in the answer (CLI, SDK, tests).",
    )


class SessionInfo(BaseModel):
    """A session: as SessionPublic, with the tokens null when they went into cookies."""

    session_token: str | None = Field(description="null when delivered as cookies.")
    refresh_token: str | None = Field(description="null when delivered as cookies.")
    expires_at: datetime
    refresh_expires_at: datetime
    did: str
    acting_as: str
    account: str | None
    company: str | None
    roles: list[str]
    buyer_categories: list[str]


class SigninResult(BaseModel):
    status: Literal["pending", "expired", "refused", "signed_in"] = Field(
        description="pending (HTTP 202): poll again; expired: start a new sign-in; "
        "refused: code and message say why; signed_in: the session, handed out once."
    )
    code: str | None = Field(default=None, description="refused: the refusal's stable code.")
    message: str | None = Field(default=None, description="refused: why, in words.")
    session: SessionInfo | None = None
