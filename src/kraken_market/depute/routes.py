"""The Depute tool's JSON API: representative login, authorisations, revocations.
Thin: parse, call the services, shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from kraken_market.api.errors import ErrorBody
from kraken_market.api.responses import errors
from kraken_market.depute.authorisations import Authorisations, Grant, Status
from kraken_market.depute.deps import DeputeDep, Representative, SessionDep
from kraken_market.depute.errors import PublicationPending
from kraken_market.depute.schemas import (
    AuthorisationPublic,
    AuthoriseBody,
    ChallengePublic,
    CompanyPublic,
    GrantBody,
    IssuedPublic,
    PresentationBody,
    PublicationPublic,
    RevokedPublic,
    SessionPublic,
)
from kraken_market.depute.sessions import Issued, Sessions
from kraken_market.depute.views import authorisation_public, publication_public
from kraken_market.errors import KrakenError

router = APIRouter(prefix="/api", tags=["depute"])
AuthorisationId = Annotated[str, Path(max_length=64)]
SIGNED_IN = errors(401, 403, 404, 422)
UNPUBLISHED: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorBody, "description": "the registry is unreachable; still pending"}
}


def grant_of(body: GrantBody) -> Grant:
    return Grant(list(body.scope), list(body.roles), body.valid_days, body.name)


def challenge_public(issued: Issued) -> ChallengePublic:
    return ChallengePublic(
        nonce=issued.nonce, audience=issued.audience, expires_at=issued.expires_at
    )


@router.get("/health")
def health(depute: DeputeDep) -> dict[str, str]:
    return {"status": "ok", "company": depute.company}


@router.post("/auth/challenge")
def login_challenge(depute: DeputeDep, session: SessionDep) -> ChallengePublic:
    """A one-time nonce (the marketplace's) and the two audiences to sign a login for."""
    return challenge_public(Sessions(depute, session).login_challenge())


@router.post("/auth/login", responses=errors(401, 403, 413, 422))
def login(body: PresentationBody, depute: DeputeDep, session: SessionDep) -> SessionPublic:
    """Open a session: the company's representative in KCIT, with a PersonCredential."""
    opened = Sessions(depute, session).login(body.presentation)
    row = opened.session
    return SessionPublic(
        session_token=opened.token,
        expires_at=row.expires_at,
        did=row.did,
        name=row.name,
        company=depute.company,
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401))
def logout(depute: DeputeDep, session: SessionDep, me: Representative) -> Response:
    Sessions(depute, session).logout(session.merge(me))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/company", responses=errors(401))
def company(depute: DeputeDep, me: Representative) -> CompanyPublic:
    """The company, its KCIT status now, and where its revocation list stands."""
    try:
        kcit: str | None = depute.marketplace.company_status(depute.company)
    except KrakenError:
        kcit = None
    return CompanyPublic(
        company=depute.company,
        status=kcit,
        audience=depute.config.audience,
        marketplace=depute.marketplace.url,
        publication=publication_public(depute.publisher.current()),
    )


@router.get("/authorisations", responses=errors(401, 422))
def list_authorisations(
    depute: DeputeDep,
    session: SessionDep,
    me: Representative,
    status: Annotated[Status | None, Query(description="active, revoked or expired")] = None,
    employee_did: Annotated[str | None, Query(max_length=2048)] = None,
) -> list[AuthorisationPublic]:
    """The company's authorisations, newest first."""
    now = depute.now()
    rows = Authorisations(depute, session).list(status, employee_did)
    return [authorisation_public(row, now) for row in rows]


@router.post("/authorisations", status_code=status.HTTP_201_CREATED, responses=SIGNED_IN)
def authorise(
    body: AuthoriseBody, depute: DeputeDep, session: SessionDep, me: Representative
) -> IssuedPublic:
    """Authorise an employee by DID: issue their AttorneyCredential. It is returned here
    and the employee can download it (POST /api/credentials)."""
    row = Authorisations(depute, session).issue(
        body.employee_did, grant_of(body), by=me.did, via="did"
    )
    return IssuedPublic(
        authorisation=authorisation_public(row, depute.now()), credential=row.credential
    )


@router.get("/authorisations/{authorisation_id}", responses=errors(401, 404))
def read_authorisation(
    authorisation_id: AuthorisationId, depute: DeputeDep, session: SessionDep, me: Representative
) -> AuthorisationPublic:
    row = Authorisations(depute, session).get(authorisation_id)
    return authorisation_public(row, depute.now())


@router.post(
    "/authorisations/{authorisation_id}/revoke",
    responses={**errors(401, 404), 202: {"model": RevokedPublic}},
)
def revoke(
    authorisation_id: AuthorisationId,
    depute: DeputeDep,
    session: SessionDep,
    me: Representative,
    response: Response,
) -> RevokedPublic:
    """Revoke: the status bit is flipped and the list PUT to the registry now, so the
    marketplace refuses the credential at its next request. 202 with publication
    ``pending`` if the registry cannot be reached (recorded, retried)."""
    row, publication = Authorisations(depute, session).revoke(authorisation_id, by=me.did)
    if publication.status == "pending":
        response.status_code = status.HTTP_202_ACCEPTED
    return RevokedPublic(
        authorisation=authorisation_public(row, depute.now()),
        publication=publication_public(publication),
    )


@router.post("/revocations/publish", responses=errors(401) | UNPUBLISHED)
def publish(depute: DeputeDep, me: Representative) -> PublicationPublic:
    """Publish the revocation list now (what every action retries when it is pending)."""
    publication = publication_public(depute.publisher.publish(force=True))
    if publication.status == "pending":
        raise PublicationPending(publication.message, details=publication.model_dump(mode="json"))
    return publication
