"""The representative signs in to the Depute tool with a wallet (OpenID4VP 1.0), the
tool being a verifier of its own (``identity.signin``: its own did:key, its own table
of requests, presentations bound to its client_id, so none can be relayed to the
marketplace). Runs in the Depute tool's process.

Pages without script: ``/login/wallet`` shows the request as a QR code and a
same-device link, and reloads itself (``/login/wait``) every two seconds until the
wallet has answered; a same-device wallet sends the browser to
``/login/complete?response_code=…``. Which request this browser started is kept in
an HttpOnly cookie (``depute_signin``, SameSite=Lax so that it comes along when the
wallet brings the browser back; it opens nothing by itself: same-device results need
the wallet's response code). KCIT then says whether the person is the company's
representative, as for the form login.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from kraken_market.depute.core import SIGNIN_REQUESTS_PATH, Depute
from kraken_market.depute.deps import DeputeDep, SessionDep, set_session_cookie
from kraken_market.depute.invitations import qr_svg
from kraken_market.depute.models import SigninRequest
from kraken_market.depute.pages import page
from kraken_market.depute.sessions import Sessions
from kraken_market.identity.openid4vp import REQUEST_MEDIA_TYPE, Flow, wallet_url
from kraken_market.identity.signin import Created, SigninService
from kraken_market.identity.signin_routes import authorization_response
from kraken_market.identity.signin_schemas import AuthorizationResponse, SigninAnswered

router = APIRouter(include_in_schema=False)
TRANSACTION_COOKIE = "depute_signin"
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,43}$")]


def signin(depute: Depute, session: Session) -> SigninService:
    return SigninService(session, depute.signin, depute.verifier(), SigninRequest)


def _remember(response: Response, depute: Depute, created: Created) -> None:
    response.set_cookie(
        TRANSACTION_COOKIE,
        f"{created.request_id}.{created.transaction_id}",
        max_age=int(depute.config.challenge_lifetime.total_seconds()),
        path="/login",
        httponly=True,
        samesite="lax",
        secure=depute.config.audience.startswith("https://"),
    )


def _waiting(request: Request, depute: Depute, request_id: str, expires_at: object) -> Response:
    url = wallet_url(depute.signin.client_id, depute.signin.request_uri(request_id))
    return page(
        request,
        "signin.html",
        company=depute.company,
        wallet_url=url,
        qr=qr_svg(url, "sign-in request"),
        expires_at=expires_at,
    )


@router.get("/login/wallet", response_class=HTMLResponse)
def wallet_login(request: Request, depute: DeputeDep, session: SessionDep) -> Response:
    created = signin(depute, session).create(Flow.CROSS_DEVICE, None)
    response = _waiting(request, depute, created.request_id, created.expires_at)
    _remember(response, depute, created)
    return response


@router.get("/login/same-device")
def same_device(depute: DeputeDep, session: SessionDep) -> Response:
    """To the marketplace's web wallet, which answers and sends the browser back."""
    created = signin(depute, session).create(Flow.SAME_DEVICE, None)
    query = urlsplit(created.wallet_url).query
    target = f"{depute.config.marketplace_url.rstrip('/')}/wallet/request?{query}"
    response = RedirectResponse(target, status_code=303)
    _remember(response, depute, created)
    return response


def _outcome(
    request: Request, depute: Depute, session: Session, response_code: str | None
) -> Response:
    remembered = request.cookies.get(TRANSACTION_COOKIE, "")
    request_id, _, transaction_id = remembered.partition(".")
    if not transaction_id:
        return RedirectResponse("/login", status_code=303)
    outcome = signin(depute, session).result(transaction_id, response_code)
    if outcome.status == "pending":
        row = session.get(SigninRequest, request_id)
        expires = row.expires_at if row is not None else None
        return _waiting(request, depute, request_id, expires)
    if outcome.identity is None:
        error = outcome.refusal or {"code": "request_expired", "message": "start again"}
        shown = page(request, "error.html", 401, error={**error, "details": None})
        shown.delete_cookie(TRANSACTION_COOKIE, path="/login")
        return shown
    identity = outcome.identity
    opened = Sessions(depute, session).open_representative(identity["did"], identity["name"])
    # A page, not a redirect: after a wallet's cross-site navigation the browser sends
    # SameSite=Strict cookies only on a navigation this site starts.
    response = page(request, "signed_in.html")
    set_session_cookie(response, depute, opened.token)
    response.delete_cookie(TRANSACTION_COOKIE, path="/login")
    return response


@router.get("/login/wait", response_class=HTMLResponse)
def wait(request: Request, depute: DeputeDep, session: SessionDep) -> Response:
    return _outcome(request, depute, session, None)


@router.get("/login/complete", response_class=HTMLResponse)
def complete(
    request: Request,
    depute: DeputeDep,
    session: SessionDep,
    response_code: Annotated[str, Query(max_length=64)],
) -> Response:
    return _outcome(request, depute, session, response_code)


@router.get(SIGNIN_REQUESTS_PATH + "{request_id}")
def request_object(request_id: RequestId, depute: DeputeDep, session: SessionDep) -> Response:
    token = signin(depute, session).request_object(request_id)
    return Response(token, media_type=REQUEST_MEDIA_TYPE, headers={"Cache-Control": "no-store"})


@router.post(SIGNIN_REQUESTS_PATH + "{request_id}/response")
def answer(
    request_id: RequestId,
    body: Annotated[AuthorizationResponse, Depends(authorization_response)],
    depute: DeputeDep,
    session: SessionDep,
) -> Response:
    """The wallet's direct_post answer; refusals as JSON ``{code, message, details}``."""
    redirect = signin(depute, session).answer(
        request_id, state=body.state, vp_token=body.vp_token, error=body.error
    )
    answered = SigninAnswered(redirect_uri=redirect)
    return JSONResponse(answered.model_dump(exclude_none=True))
