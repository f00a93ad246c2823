"""HTTP route of the demo issuer for the wallet app (``identity.demo_issuance``):
``POST /demo-issuer/credentials``. Thin: parse, issue, shape."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kraken_market.api.deps import AddressLimited, SessionDep
from kraken_market.api.responses import errors
from kraken_market.identity import demo_issuance
from kraken_market.identity.platform import IdentityPlatform

router = APIRouter(tags=["identity"])
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]


class PersonClaims(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    email: Email | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


class CategoryClaims(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Literal["individual", "company", "research-institution", "public-body"]
    organisation: Text | None = None


class PersonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: Literal["person"]
    claims: PersonClaims
    proof: str = Field(max_length=8192, description="openid4vci-proof+jwt by the holder's DID")


class CategoryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: Literal["buyer_category"]
    claims: CategoryClaims
    proof: str = Field(max_length=8192, description="openid4vci-proof+jwt by the holder's DID")


class IssuedPublic(BaseModel):
    id: str
    type: str
    subject: str = Field(description="the holder's DID: the proof's signer")
    credential: str = Field(description="the credential, vc+jwt")


@router.post(
    "/demo-issuer/credentials",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 413, 422, 429),
    dependencies=[AddressLimited],
)
def issue_credential(
    body: Annotated[PersonRequest | CategoryRequest, Field(discriminator="credential")],
    request: Request,
    session: SessionDep,
) -> IssuedPublic:
    """A demo PersonCredential or BuyerCategoryCredential for the DID that signed
    ``proof`` (development only: 403 ``demo_issuer_disabled`` in production). The proof
    is an ``openid4vci-proof+jwt`` signed by the DID key, ``aud`` this marketplace's URL,
    ``nonce`` from ``POST /auth/challenge``, ``iat`` now (OpenID4VCI 1.0 §8.2.1)."""
    platform: IdentityPlatform = request.app.state.identity
    claims = body.claims.model_dump(exclude_none=True)
    issued = demo_issuance.issue(
        platform, platform.auth(session), body.credential, claims, body.proof
    )
    return IssuedPublic(**vars(issued))
