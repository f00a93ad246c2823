"""HTTP routes of login (``/auth``), the status-list registry, credential schemas and
DID-account bindings. Thin: parse, call ``identity.service``/``registry``, shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from sqlalchemy.orm import Session

from kraken_market.api.cookies import (
    CSRF_HEADER,
    REFRESH_COOKIE,
    SESSION_COOKIE,
    clear_session_cookies,
    set_session_cookies,
)
from kraken_market.api.deps import (
    AddressLimited,
    BearerCredentials,
    FreshPrincipal,
    SessionDep,
    get_principal,
)
from kraken_market.api.responses import errors
from kraken_market.db.base import utcnow
from kraken_market.errors import NotFound, Unauthenticated
from kraken_market.identity import binding as bindings
from kraken_market.identity.credential_types import CredentialType, schema_of
from kraken_market.identity.errors import CsrfHeaderMissing, SessionInvalid
from kraken_market.identity.models import AuthSession, DidBinding, HostedStatusList
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.principal import Principal
from kraken_market.identity.registry import STATUS_PATH
from kraken_market.identity.schemas import (
    BindingPublic,
    BindingRequest,
    ChallengePublic,
    LoginRequest,
    MePublic,
    RefreshRequest,
    SessionPublic,
    StatusListPublic,
    StatusListUpdate,
    TrustedIssuersPublic,
)
from kraken_market.identity.service import Opened
from kraken_market.identity.signin_routes import session_info
from kraken_market.identity.signin_schemas import SessionInfo

router = APIRouter(tags=["identity"])
DidPath = Annotated[str, Path(pattern=r"^did:[a-z0-9]+:\S+$", max_length=2048)]
ListId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}-[a-z0-9][a-z0-9-]{0,40}$")]
AUTH_ERRORS = errors(400, 401, 403, 413, 422, 429, 503)


def _platform(request: Request) -> IdentityPlatform:
    platform: IdentityPlatform = request.app.state.identity
    return platform


def _bound_account(session: Session, did: str) -> str | None:
    """The ledger account bound to ``did`` ('wallet bind'), if any."""
    row = session.get(DidBinding, did)
    return None if row is None else row.account


def _session_public(opened: Opened, session: Session) -> SessionPublic:
    row: AuthSession = opened.session
    return SessionPublic(
        session_token=opened.session_token,
        refresh_token=opened.refresh_token,
        expires_at=row.expires_at,
        refresh_expires_at=row.refresh_expires_at,
        did=row.did,
        acting_as=row.company or row.did,
        account=_bound_account(session, row.did),
        company=row.company,
        roles=row.roles,
        buyer_categories=row.buyer_categories,
    )


@router.post("/auth/challenge", responses=errors(413, 429), dependencies=[AddressLimited])
def challenge(request: Request, session: SessionDep) -> ChallengePublic:
    """A one-time nonce and the audience to sign a login presentation for."""
    issued = _platform(request).auth(session).challenge()
    return ChallengePublic(
        nonce=issued.nonce, audience=issued.audience, expires_at=issued.expires_at
    )


@router.post("/auth/login", responses=AUTH_ERRORS, dependencies=[AddressLimited])
def login(body: LoginRequest, request: Request, session: SessionDep) -> SessionPublic:
    """Open a session with a verifiable presentation (PersonCredential required;
    AttorneyCredential to act for a company; PlatformRoleCredential for admin/arbiter).
    A worker verifies at most ``max_concurrent_logins`` at once (then 503 ``overloaded``
    with Retry-After: the SDK waits and sends again)."""
    with request.app.state.logins.enter():
        auth = _platform(request).auth(session)
        return _session_public(auth.login(body.presentation, body.act_for), session)


@router.post(
    "/auth/refresh",
    response_model=SessionPublic | SessionInfo,
    responses=AUTH_ERRORS,
    dependencies=[AddressLimited],
)
def refresh(
    request: Request, response: Response, session: SessionDep, body: RefreshRequest | None = None
) -> SessionPublic | SessionInfo:
    """A new session token and refresh token; the credentials are re-checked. With
    ``{"refresh_token"}`` the tokens come back in the answer; without a body the
    ``kraken_refresh`` cookie is used (with ``X-Kraken-CSRF: 1``) and both cookies are
    replaced (the answer then holds no token)."""
    auth = _platform(request).auth(session)
    if body is not None:
        return _session_public(auth.refresh(body.refresh_token), session)
    token = request.cookies.get(REFRESH_COOKIE)
    if token is None:
        raise SessionInvalid("send {'refresh_token': …} or the refresh cookie")
    if request.headers.get(CSRF_HEADER) != "1":
        raise CsrfHeaderMissing(f"a refresh with the cookie needs the header '{CSRF_HEADER}: 1'")
    opened = auth.refresh(token)
    set_session_cookies(request, response, opened)
    return session_info(opened, session, tokens=False)


@router.post(
    "/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 403, 429)
)
def logout(request: Request, session: SessionDep, credentials: BearerCredentials) -> Response:
    """End the session (Bearer or cookie) and clear the browser's session cookies; with
    the cookie alone, an expired session still clears them."""
    by_cookie = credentials is None and SESSION_COOKIE in request.cookies
    try:
        principal: Principal | None = get_principal(request, credentials)
    except Unauthenticated:
        if not by_cookie:
            raise
        principal = None
    if principal is not None and principal.session is not None:
        _platform(request).auth(session).end(principal.session)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if by_cookie:
        clear_session_cookies(request, response)
    return response


@router.get("/auth/me", responses=errors(401))
def me(principal: FreshPrincipal, session: SessionDep) -> MePublic:
    """Who the session token belongs to (``did``), whom it acts as (``acting_as``), the
    ledger account bound to the DID (``account``), roles and what it may do (``scope``).
    Its credentials are checked again (revocation, KCIT) on each call: the marketplace's
    pages ask this first, so a withdrawn credential ends the session at the page's next
    visit, which then says why (``401 credential_revoked``, then ``session_ended``)."""
    return MePublic(
        did=principal.did,
        name=principal.name,
        acting_as=principal.account,
        account=_bound_account(session, principal.did),
        company=principal.company,
        roles=sorted(principal.roles),
        scope=principal.allowed(),
    )


@router.get("/identity/issuers")
def trusted_issuers(request: Request) -> TrustedIssuersPublic:
    """Which issuer DIDs this marketplace trusts, per credential type."""
    trust = _platform(request).trust
    return TrustedIssuersPublic(
        issuers={
            t.value: sorted(trust.issuers_of(t)) for t in CredentialType if trust.issuers_of(t)
        }
    )


@router.get("/identity/schemas/{name}.json", responses=errors(404))
def credential_schema(name: CredentialType) -> dict[str, Any]:
    """The JSON Schema a credential type is validated with."""
    return schema_of(name)


def _list_public(request: Request, row: HostedStatusList) -> StatusListPublic:
    return StatusListPublic(
        id=row.id,
        url=_platform(request).base_url + STATUS_PATH + row.id,
        issuer=row.issuer,
        purpose=row.purpose,
        version=row.version,
        revoked_count=row.revoked_count,
        updated_at=row.updated_at,
    )


@router.get("/status-lists/{list_id}", responses=errors(404))
def status_list(list_id: ListId, request: Request, session: SessionDep) -> Response:
    """The BitstringStatusListCredential (``application/vc+jwt``) at its stable URL."""
    row = _platform(request).registry(session).get(list_id)
    return Response(
        row.credential, media_type="application/vc+jwt", headers={"Cache-Control": "no-cache"}
    )


@router.put(
    "/status-lists/{list_id}",
    responses=errors(400, 401, 403, 404, 409, 413, 422, 429),
    dependencies=[AddressLimited],
)
def publish_status_list(
    list_id: ListId, body: StatusListUpdate, request: Request, session: SessionDep
) -> StatusListPublic:
    """Create or update a list; the body is signed by the list's issuer, which is the
    authorisation (no session needed). Set bits can never be cleared."""
    row = _platform(request).registry(session).publish(list_id, body.credential, utcnow())
    return _list_public(request, row)


@router.post(
    "/identity/bindings", status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 413, 422)
)
def bind(
    body: BindingRequest, request: Request, session: SessionDep, principal: FreshPrincipal
) -> BindingPublic:
    """Record your DID's ledger account ('kraken-market wallet bind')."""
    checked = _platform(request).verify_binding(body.binding, body.account_signature)
    row = bindings.record(session, checked, principal.did)
    return BindingPublic(did=row.did, account=row.account, created_at=row.created_at)


@router.get("/identity/bindings/{did}", responses=errors(404))
def binding_of(did: DidPath, session: SessionDep) -> BindingPublic:
    row = session.get(DidBinding, did)
    if row is None:
        raise NotFound(f"{did} has bound no ledger account", details={"did": did})
    return BindingPublic(did=row.did, account=row.account, created_at=row.created_at)
