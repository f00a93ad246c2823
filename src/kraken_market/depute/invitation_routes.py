"""The employee's side of the JSON API: invitations (made by the representative,
accepted by a wallet) and downloading one's own attorney credentials."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from kraken_market.api.responses import errors
from kraken_market.depute.authorisations import Authorisations
from kraken_market.depute.config import INVITATION_PATH
from kraken_market.depute.deps import DeputeDep, Representative, SessionDep
from kraken_market.depute.invitations import Invitations, qr_svg
from kraken_market.depute.routes import challenge_public, grant_of
from kraken_market.depute.schemas import (
    ChallengePublic,
    EmployeeCredential,
    InvitationBody,
    InvitationCreated,
    InvitationOffer,
    InvitationPublic,
    IssuedPublic,
    PresentationBody,
)
from kraken_market.depute.sessions import Sessions
from kraken_market.depute.views import (
    authorisation_public,
    employee_credential,
    invitation_public,
)

router = APIRouter(prefix="/api", tags=["depute"])
Secret = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
OFFER_ERRORS = errors(404, 409, 422) | {410: {"description": "the invitation has expired"}}


@router.post("/invitations", status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 422))
def invite(
    body: InvitationBody, depute: DeputeDep, session: SessionDep, me: Representative
) -> InvitationCreated:
    """A one-time invitation link (and QR code) for an employee's wallet to accept."""
    expires_in = timedelta(hours=body.expires_in_hours) if body.expires_in_hours else None
    invitations = Invitations(depute, session)
    row, secret = invitations.create(
        grant_of(body), by=me.did, employee=body.employee_did, expires_in=expires_in
    )
    return InvitationCreated(
        invitation=invitation_public(row, depute.now()),
        url=invitations.url_of(secret),
        qr_svg_url=f"{depute.config.audience}/api{INVITATION_PATH}{secret}/qr.svg",
    )


@router.get("/invitations", responses=errors(401))
def list_invitations(
    depute: DeputeDep, session: SessionDep, me: Representative
) -> list[InvitationPublic]:
    now = depute.now()
    return [invitation_public(row, now) for row in Invitations(depute, session).list()]


@router.get("/invitations/{secret}", responses=OFFER_ERRORS)
def offer(secret: Secret, depute: DeputeDep, session: SessionDep) -> InvitationOffer:
    """What the invitation offers and how to accept it (the link is the credential)."""
    row = Invitations(depute, session).open(secret)
    return InvitationOffer(
        company=depute.company,
        legal_name=depute.marketplace.legal_name(depute.company),
        scope=row.scope,
        roles=row.roles,
        valid_days=row.valid_days,
        employee_did=row.employee_did,
        expires_at=row.expires_at,
        audience=depute.config.audience,
        nonce=secret,
        accept_url=f"{depute.config.audience}/api{INVITATION_PATH}{secret}/accept",
    )


@router.get("/invitations/{secret}/qr.svg", responses=errors(404))
def qr_code(secret: Secret, depute: DeputeDep, session: SessionDep) -> Response:
    invitations = Invitations(depute, session)
    invitations.find(secret)
    return Response(qr_svg(invitations.url_of(secret)), media_type="image/svg+xml")


@router.post(
    "/invitations/{secret}/accept",
    status_code=status.HTTP_201_CREATED,
    responses=OFFER_ERRORS | errors(401, 403),
)
def accept(
    secret: Secret, body: PresentationBody, depute: DeputeDep, session: SessionDep
) -> IssuedPublic:
    """Accept with a presentation of your PersonCredential, nonce = the invitation's,
    audience = this tool; the answer carries your AttorneyCredential."""
    row = Invitations(depute, session).accept(secret, body.presentation)
    return IssuedPublic(
        authorisation=authorisation_public(row, depute.now()), credential=row.credential
    )


@router.post("/credentials/challenge")
def credentials_challenge(depute: DeputeDep, session: SessionDep) -> ChallengePublic:
    """A nonce for an employee's presentation to this tool (to download credentials)."""
    return challenge_public(Sessions(depute, session).employee_challenge())


@router.post("/credentials", responses=errors(401, 413, 422))
def my_credentials(
    body: PresentationBody, depute: DeputeDep, session: SessionDep
) -> list[EmployeeCredential]:
    """Every AttorneyCredential this company issued to the presenter, newest first."""
    identity = Sessions(depute, session).identify_employee(body.presentation)
    now = depute.now()
    rows = Authorisations(depute, session).list(employee=identity.did)
    return [employee_credential(row, now) for row in rows]
