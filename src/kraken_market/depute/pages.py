"""Server-rendered pages of the Depute tool: plain HTML forms over the same services
as the JSON API (no JavaScript). The session is a cookie (HttpOnly, SameSite=Strict);
a form posted with another ``Origin`` is refused as well."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import URL

from kraken_market.depute.authorisations import Authorisations
from kraken_market.depute.deps import (
    COOKIE,
    DeputeDep,
    SessionDep,
    representative_of,
    set_session_cookie,
)
from kraken_market.depute.errors import CrossSiteRequest
from kraken_market.depute.invitations import Invitations, qr_svg
from kraken_market.depute.models import WebSession
from kraken_market.depute.routes import grant_of
from kraken_market.depute.schemas import AuthoriseBody, GrantBody, InvitationBody
from kraken_market.depute.sessions import Sessions
from kraken_market.depute.views import authorisation_public, invitation_public
from kraken_market.errors import KrakenError, ValidationFailed

G = TypeVar("G", bound=GrantBody)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def same_origin(request: Request, depute: DeputeDep) -> None:
    """Refuse a form posted from another site (beside the SameSite cookie)."""
    origin = request.headers.get("Origin")
    ours = URL(depute.config.audience)
    if origin is not None and origin != f"{ours.scheme}://{ours.netloc}":
        raise CrossSiteRequest("this form must be posted from the Depute tool's own pages")


router = APIRouter(include_in_schema=False)
forms = APIRouter(include_in_schema=False, dependencies=[Depends(same_origin)])
ScopeField = Annotated[list[str], Form()]


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, error: KrakenError) -> HTMLResponse:
    return page(request, "error.html", error.status, error=error.to_dict())


def _validated(model: type[G], data: dict[str, Any]) -> G:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"loc": list(e["loc"]), "type": e["type"], "message": e["msg"]} for e in exc.errors()
        ]
        where = ".".join(str(p) for p in problems[0]["loc"])
        raise ValidationFailed(f"{where}: {problems[0]['message']}", details=problems) from exc


def _grant_fields(scope: list[str], roles: str, valid_days: int, name: str) -> dict[str, Any]:
    return {
        "scope": scope,
        "roles": [r.strip() for r in roles.split(",") if r.strip()],
        "valid_days": valid_days,
        "name": name.strip() or None,
    }


def _home() -> RedirectResponse:
    return RedirectResponse("/", status_code=303)


def _signed_in(request: Request, depute: DeputeDep) -> WebSession | None:
    try:
        return representative_of(request, depute)
    except KrakenError:
        return None


SignedIn = Annotated[WebSession | None, Depends(_signed_in)]


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, depute: DeputeDep, session: SessionDep, me: SignedIn) -> Response:
    if me is None:
        return RedirectResponse("/login", status_code=303)
    now = depute.now()
    authorisations = Authorisations(depute, session).list()
    invitations = Invitations(depute, session).list()
    return page(
        request,
        "dashboard.html",
        me=me,
        company=depute.company,
        publication=depute.publisher.current(),
        authorisations=[authorisation_public(row, now) for row in authorisations],
        invitations=[invitation_public(row, now) for row in invitations],
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, depute: DeputeDep, session: SessionDep) -> Response:
    challenge = Sessions(depute, session).login_challenge()
    return page(request, "login.html", company=depute.company, challenge=challenge)


@forms.post("/login")
def login(
    presentation: Annotated[str, Form(max_length=65_536)],
    depute: DeputeDep,
    session: SessionDep,
) -> Response:
    opened = Sessions(depute, session).login(presentation)
    response = _home()
    set_session_cookie(response, depute, opened.token)
    return response


@forms.post("/logout")
def logout(request: Request, depute: DeputeDep, session: SessionDep, me: SignedIn) -> Response:
    if me is not None:
        Sessions(depute, session).logout(session.merge(me))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@forms.post("/authorise")
def authorise(
    depute: DeputeDep,
    session: SessionDep,
    me: SignedIn,
    employee_did: Annotated[str, Form(max_length=2048)],
    scope: ScopeField,
    roles: Annotated[str, Form(max_length=1100)] = "",
    valid_days: Annotated[int, Form()] = 365,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if me is None:
        return RedirectResponse("/login", status_code=303)
    fields = _grant_fields(scope, roles, valid_days, name)
    body = _validated(AuthoriseBody, {**fields, "employee_did": employee_did.strip()})
    Authorisations(depute, session).issue(body.employee_did, grant_of(body), by=me.did, via="did")
    return _home()


@forms.post("/invite", response_class=HTMLResponse)
def invite(
    request: Request,
    depute: DeputeDep,
    session: SessionDep,
    me: SignedIn,
    scope: ScopeField,
    roles: Annotated[str, Form(max_length=1100)] = "",
    valid_days: Annotated[int, Form()] = 365,
    name: Annotated[str, Form(max_length=200)] = "",
    employee_did: Annotated[str, Form(max_length=2048)] = "",
    expires_in_hours: Annotated[int, Form()] = 72,
) -> Response:
    if me is None:
        return RedirectResponse("/login", status_code=303)
    fields = _grant_fields(scope, roles, valid_days, name)
    fields |= {"employee_did": employee_did.strip() or None, "expires_in_hours": expires_in_hours}
    body = _validated(InvitationBody, fields)
    invitations = Invitations(depute, session)
    row, secret = invitations.create(
        grant_of(body),
        by=me.did,
        employee=body.employee_did,
        expires_in=timedelta(hours=expires_in_hours),
    )
    url = invitations.url_of(secret)
    return page(request, "invitation.html", invitation=row, url=url, qr=qr_svg(url))


@forms.post("/authorisations/{authorisation_id}/revoke")
def revoke(authorisation_id: str, depute: DeputeDep, session: SessionDep, me: SignedIn) -> Response:
    if me is None:
        return RedirectResponse("/login", status_code=303)
    Authorisations(depute, session).revoke(authorisation_id, by=me.did)
    return _home()


@forms.post("/publish")
def publish(depute: DeputeDep, me: SignedIn) -> Response:
    if me is None:
        return RedirectResponse("/login", status_code=303)
    depute.publisher.publish(force=True)
    return _home()


@router.get("/invitations/{secret}", response_class=HTMLResponse)
def offer(request: Request, secret: str, depute: DeputeDep, session: SessionDep) -> Response:
    """The page an invitation link opens: what it offers and how a wallet accepts it."""
    invitations = Invitations(depute, session)
    row = invitations.open(secret[:64])
    url = invitations.url_of(secret)
    return page(request, "offer.html", company=depute.company, invitation=row, url=url)
