"""HTTP routes of sign-in with OpenID for Verifiable Presentations (``identity.signin``).
Thin: parse, call the service, shape; cookies per ``api.cookies``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import ValidationError
from sqlalchemy.orm import Session

from kraken_market import jsondepth
from kraken_market.api.cookies import set_session_cookies
from kraken_market.api.deps import AddressLimited, SessionDep
from kraken_market.api.responses import errors
from kraken_market.db.base import utcnow
from kraken_market.errors import ValidationFailed, validation_details
from kraken_market.identity.models import DidBinding
from kraken_market.identity.openid4vp import REQUEST_MEDIA_TYPE
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.service import Opened
from kraken_market.identity.signin_errors import ResponseMediaType, VpTokenInvalid
from kraken_market.identity.signin_schemas import (
    MAX_VP_TOKEN,
    AuthorizationResponse,
    SessionInfo,
    SigninAnswered,
    SigninRequestCreate,
    SigninRequestCreated,
    SigninResult,
    SigninResultRequest,
)

router = APIRouter(tags=["sign-in"])
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,43}$")]
_FORM = "application/x-www-form-urlencoded"
_FORM_SCHEMA = {
    "type": "object",
    "required": ["state"],
    "properties": {
        "vp_token": {"type": "string", "maxLength": MAX_VP_TOKEN},
        "state": {"type": "string", "maxLength": 64},
        "error": {"type": "string", "maxLength": 200},
        "error_description": {"type": "string", "maxLength": 1000},
    },
}


def _platform(request: Request) -> IdentityPlatform:
    platform: IdentityPlatform = request.app.state.identity
    return platform


def session_info(opened: Opened, session: Session, *, tokens: bool) -> SessionInfo:
    row = opened.session
    binding = session.get(DidBinding, row.did)
    return SessionInfo(
        session_token=opened.session_token if tokens else None,
        refresh_token=opened.refresh_token if tokens else None,
        expires_at=row.expires_at,
        refresh_expires_at=row.refresh_expires_at,
        did=row.did,
        acting_as=row.company or row.did,
        account=None if binding is None else binding.account,
        company=row.company,
        roles=row.roles,
        buyer_categories=row.buyer_categories,
    )


@router.post(
    "/auth/requests",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 413, 422, 429, 503),
    dependencies=[AddressLimited],
)
def create_request(
    body: SigninRequestCreate, request: Request, session: SessionDep
) -> SigninRequestCreated:
    """Start a sign-in (OpenID4VP 1.0): show ``wallet_url`` as a QR code (cross-device)
    or open it as a link (same-device), keep ``transaction_id`` to yourself and poll
    ``POST /auth/requests/result`` with it."""
    created = _platform(request).signin(session).create(body.flow, body.act_for)
    return SigninRequestCreated(
        transaction_id=created.transaction_id,
        request_id=created.request_id,
        request_uri=created.request_uri,
        wallet_url=created.wallet_url,
        expires_at=created.expires_at,
    )


@router.get(
    "/auth/requests/{request_id}",
    response_class=Response,
    responses={
        200: {
            "description": "The Request Object: a JWS signed by the marketplace's DID key.",
            "content": {REQUEST_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **errors(404, 410),
    },
)
def request_object(request_id: RequestId, request: Request, session: SessionDep) -> Response:
    """The signed Request Object (RFC 9101) wallets fetch from the ``request_uri``."""
    token = _platform(request).signin(session).request_object(request_id)
    return Response(token, media_type=REQUEST_MEDIA_TYPE, headers={"Cache-Control": "no-store"})


async def authorization_response(request: Request) -> AuthorizationResponse:
    """The wallet's form-encoded answer (OpenID4VP §8.2), or the same fields as JSON."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    fields: Any
    try:
        if media == _FORM:
            parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=8)
            fields = {k: v[0] for k, v in parsed.items()}
        elif media == "application/json":
            fields = jsondepth.loads(body)
        else:
            raise ResponseMediaType(f"send the answer as {_FORM} (or application/json)")
    except (ValueError, UnicodeDecodeError) as exc:
        raise VpTokenInvalid("the answer's body cannot be read") from exc
    if not isinstance(fields, dict):
        raise VpTokenInvalid("the answer is a set of fields: vp_token, state")
    try:
        return AuthorizationResponse.model_validate(fields)
    except ValidationError as exc:
        details = validation_details(exc.errors())
        raise ValidationFailed("the answer's fields are not valid", details=details) from exc


@router.post(
    "/auth/requests/{request_id}/response",
    response_model_exclude_none=True,
    responses=errors(400, 401, 403, 404, 413, 415, 422, 429, 503),
    dependencies=[AddressLimited],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {_FORM: {"schema": _FORM_SCHEMA}},
        }
    },
)
def answer(
    request_id: RequestId,
    body: Annotated[AuthorizationResponse, Depends(authorization_response)],
    request: Request,
    session: SessionDep,
) -> SigninAnswered:
    """The wallet's Authorization Response (``direct_post``): ``vp_token`` (a JSON object:
    credential query id -> array of vp+jwt, each with ``aud`` = the request's
    client_id and its ``nonce``) and ``state``. Answers ``{}`` (cross-device) or
    ``{"redirect_uri": …}`` (same-device: send the browser there)."""
    with request.app.state.logins.enter():
        redirect = (
            _platform(request)
            .signin(session)
            .answer(request_id, state=body.state, vp_token=body.vp_token, error=body.error)
        )
    return SigninAnswered(redirect_uri=redirect)


@router.post(
    "/auth/requests/result",
    responses={
        202: {"model": SigninResult, "description": "Not answered yet: poll again."},
        **errors(400, 404, 409, 413, 422, 429),
    },
    dependencies=[AddressLimited],
)
def result(
    body: SigninResultRequest, request: Request, response: Response, session: SessionDep
) -> SigninResult:
    """What became of your sign-in request. The session is handed out once: as HttpOnly
    cookies (``deliver: cookie``, pages; no token in the answer) or in the answer
    (``deliver: body``). Same-device needs the ``response_code`` the wallet sent."""
    platform = _platform(request)
    outcome = platform.signin(session).result(body.transaction_id, body.response_code)
    if outcome.identity is None:
        if outcome.status == "pending":
            response.status_code = status.HTTP_202_ACCEPTED
        refusal = outcome.refusal or {}
        return SigninResult.model_validate({"status": outcome.status, **refusal})
    opened = platform.auth(session).open(outcome.identity, utcnow())
    cookies = body.deliver == "cookie"
    if cookies:
        set_session_cookies(request, response, opened)
    info = session_info(opened, session, tokens=not cookies)
    return SigninResult(status="signed_in", session=info)
