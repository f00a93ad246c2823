"""HTTP routes of KCIT: parse, call :class:`CompanyService`, shape the answer.

A DID in a path keeps its ':' as they are (``/companies/did:key:z6Mk…``); a
``%`` inside a DID (did:web ports, ``%3A``) is sent as ``%25``. Reads are
public; a bearer token, if sent, must be valid and lets admins and a company's
representative see more.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from kraken_market.api.cookies import SESSION_COOKIE
from kraken_market.api.deps import (
    AddressLimited,
    CurrentPrincipal,
    FreshPrincipal,
    SessionDep,
    SettingsDep,
    get_principal,
)
from kraken_market.api.responses import WRITE, errors, json_body
from kraken_market.companies import questions
from kraken_market.companies.audit import entry
from kraken_market.companies.errors import RepresentativePrivate
from kraken_market.companies.schemas import (
    AuditEntry,
    CompanyCreate,
    CompanyPage,
    CompanyPublic,
    CompanyUpdate,
    IdentifiedAnswer,
    RepresentativeQuestion,
    StatusChange,
)
from kraken_market.companies.service import CompanyService
from kraken_market.companies.views import public
from kraken_market.companies.vocabulary import CompanyStatus
from kraken_market.db.base import utcnow
from kraken_market.identity.principal import Principal
from kraken_market.identity.schemas import BindingRequest

router = APIRouter(prefix="/companies", tags=["companies"])


def optional_principal(request: Request) -> Principal | None:
    """No ``Authorization`` header and no session cookie (the web apps'): an anonymous
    reader. A token that is sent must be valid (401 if not), so a mistyped token never
    silently shows less."""
    header = request.headers.get("Authorization")
    if header is None:
        if SESSION_COOKIE not in request.cookies:
            return None
        return get_principal(request, None)
    scheme, _, token = header.partition(" ")
    credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
    return get_principal(request, credentials)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
DidPath = Annotated[
    str,
    Path(
        max_length=2048,
        description="the company's DID",
        examples=["did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"],
    ),
]
PUBLIC_READ = errors(400, 401, 404, 422)
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}, {"HTTPBearer": []}]}
"""In OpenAPI, an empty requirement beside the bearer one: the token is optional."""


@router.post("", status_code=status.HTTP_201_CREATED, responses=WRITE)
def create_company(
    body: CompanyCreate, session: SessionDep, principal: FreshPrincipal
) -> CompanyPublic:
    """Enter a company. Admins enter any company (status default ``identified``); anyone
    else self-registers a company they represent, which stays ``pending`` until approved."""
    return public(CompanyService(session).create(principal, body), principal)


@router.get(
    "",
    response_model=CompanyPage,
    responses=errors(400, 401, 403, 422),
    openapi_extra=OPTIONAL_AUTH,
)
def list_companies(
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalPrincipal,
    status: Annotated[
        list[CompanyStatus], Query(description="repeat; other than identified: admins only")
    ] = [CompanyStatus.IDENTIFIED],  # noqa: B006
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """Identified companies, newest first; follow ``next_cursor`` for more."""
    statuses = tuple(dict.fromkeys(status))
    companies, next_cursor = CompanyService(session).list(
        viewer, statuses, limit or settings.page_size_default, cursor
    )
    page = CompanyPage(items=[public(c, viewer) for c in companies], next_cursor=next_cursor)
    return json_body(page)


@router.get(
    "/{did}", response_model=CompanyPublic, responses=PUBLIC_READ, openapi_extra=OPTIONAL_AUTH
)
def read_company(did: DidPath, session: SessionDep, viewer: OptionalPrincipal) -> Response:
    """An identified company; a pending or suspended one only for admins and its
    representative (404 for anyone else)."""
    service = CompanyService(session)
    company = service.read(viewer, did)
    return json_body(public(company, viewer, service.account(company.did)))


@router.put(
    "/{did}/account",
    responses=errors(400, 401, 404, 409, 413, 422, 429),
    dependencies=[AddressLimited],
)
def bind_company_account(
    did: DidPath, body: BindingRequest, request: Request, session: SessionDep
) -> CompanyPublic:
    """The company binds its own ledger account (and names its Depute tool as the
    binding's ``service``): a binding signed by the company's DID key and by the
    account, which is the authorisation (no session: only the company holds its DID
    key). Its products are then owned on chain by this account."""
    checked = request.app.state.identity.verify_binding(body.binding, body.account_signature)
    service = CompanyService(session)
    company = service.bind_account(did, checked)
    return public(company, None, service.account(company.did))


@router.get("/{did}/identified", responses=errors(403, 422))
def is_identified(
    did: DidPath,
    session: SessionDep,
    viewer: OptionalPrincipal,
    representative: Annotated[
        str | None,
        Query(
            max_length=2048,
            description="also answer whether this DID is the company's representative: "
            "only to that person's own session (the company asks with a signed question, "
            "POST /companies/{did}/representative)",
        ),
    ] = None,
) -> IdentifiedAnswer:
    """Whether this DID is an identified company (ask before trusting what it issues)."""
    service = CompanyService(session)
    if representative is not None and (viewer is None or viewer.did != representative):
        raise RepresentativePrivate(
            "who represents a company is told only to that person (with their session) and "
            "to the company itself (a signed question: POST /companies/{did}/representative)",
            details={"did": did},
        )
    company_status = service.identified(did)
    return IdentifiedAnswer(
        did=did,
        identified=company_status is CompanyStatus.IDENTIFIED,
        status=company_status,
        representative=None
        if representative is None
        else service.is_representative(did, representative),
    )


@router.post(
    "/{did}/representative",
    responses=errors(400, 401, 413, 422, 429),
    dependencies=[AddressLimited],
)
def ask_representative(
    did: DidPath, body: RepresentativeQuestion, request: Request, session: SessionDep
) -> IdentifiedAnswer:
    """The company asks whether a DID is its representative (what its Depute tool asks
    when someone logs in there): a question signed by the company's own DID key, so
    nobody else learns who represents it (the representative is a natural person)."""
    platform = request.app.state.identity
    asked = questions.verify(body.question, platform.resolver, did, platform.base_url, utcnow())
    service = CompanyService(session)
    company_status = service.identified(did)
    return IdentifiedAnswer(
        did=did,
        identified=company_status is CompanyStatus.IDENTIFIED,
        status=company_status,
        representative=service.is_representative(did, asked),
    )


@router.patch("/{did}", responses=WRITE)
def update_company(
    did: DidPath, body: CompanyUpdate, session: SessionDep, principal: FreshPrincipal
) -> CompanyPublic:
    """Correct a company's entry (admins). Only the fields given change."""
    return public(CompanyService(session).update(principal, did, body), principal)


@router.post("/{did}/approve", responses=WRITE)
def approve_company(
    did: DidPath,
    session: SessionDep,
    principal: FreshPrincipal,
    body: StatusChange | None = None,
) -> CompanyPublic:
    """Identify a pending or suspended company (admins)."""
    reason = body.reason if body else None
    return public(CompanyService(session).approve(principal, did, reason), principal)


@router.post("/{did}/suspend", responses=WRITE)
def suspend_company(
    did: DidPath,
    session: SessionDep,
    principal: FreshPrincipal,
    body: StatusChange | None = None,
) -> CompanyPublic:
    """Suspend an identified company (admins): its DID is no longer trusted as a company."""
    reason = body.reason if body else None
    return public(CompanyService(session).suspend(principal, did, reason), principal)


@router.delete("/{did}", status_code=status.HTTP_204_NO_CONTENT, responses=WRITE)
def delete_company(
    did: DidPath,
    session: SessionDep,
    principal: FreshPrincipal,
    reason: Annotated[
        str | None,
        Query(max_length=1000, pattern=r"^[^\x00]*$", description="kept in the audit log"),
    ] = None,
) -> Response:
    """Remove a company from the register (admins); its audit log stays readable."""
    CompanyService(session).delete(principal, did, reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{did}/audit", responses=errors(401, 403, 404, 422))
def company_audit(
    did: DidPath, session: SessionDep, principal: CurrentPrincipal
) -> list[AuditEntry]:
    """Every change to the company, oldest first: who, when, each field before/after (admins)."""
    return [entry(row) for row in CompanyService(session).audit(principal, did)]
