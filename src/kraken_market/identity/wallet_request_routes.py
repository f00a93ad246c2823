"""HTTP routes of signatures asked of a wallet (``identity.wallet_requests``).
Thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from kraken_market.api.deps import AddressLimited, CurrentPrincipal, SessionDep
from kraken_market.api.responses import errors
from kraken_market.identity.openid4vp import REQUEST_MEDIA_TYPE
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.signin_errors import ResponseMediaType, VpTokenInvalid
from kraken_market.identity.wallet_requests import (
    MAX_MESSAGE_CHARS,
    MESSAGE,
    TRANSACTION,
    Call,
    WalletRequests,
)

router = APIRouter(tags=["sign-in"])
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,43}$")]
_FORM = "application/x-www-form-urlencoded"
_FIELDS = (
    "state",
    "binding",
    "account_signature",
    "transaction",
    "signature",
    "error",
    "error_description",
)
_FORM_SCHEMA = {
    "type": "object",
    "required": ["state"],
    "properties": {name: {"type": "string", "maxLength": 8192} for name in _FIELDS},
}


class BindAccountAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["bind_account"] = Field(description="the DID-account binding")


class TransactionAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["transaction"] = Field(description="a contract call from your bound account")
    contract: Literal["DataToken", "Market", "Registry", "Authority", "Faucet"] = Field(
        description="one of this marketplace's contracts (GET /ledger/deployment)"
    )
    function: str = Field(
        min_length=1, max_length=64, description="a state-changing function of its ABI"
    )
    arguments: list[Any] = Field(
        default_factory=list,
        max_length=16,
        description="in the ABI's order; integers as decimal strings (amounts in base "
        "units), addresses and bytes as 0x hex",
    )


class MessageAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["message"] = Field(description="an EIP-191 personal_sign of a text")
    text: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        description="shown to the person verbatim, signed as UTF-8",
    )


WalletRequestCreate = Annotated[
    BindAccountAsk | TransactionAsk | MessageAsk, Field(discriminator="kind")
]


class WalletRequestCreated(BaseModel):
    transaction_id: str = Field(description="secret: keep it in the page, poll with it")
    request_id: str
    request_uri: str
    wallet_url: str = Field(description="the QR code's text (openid4vp://…)")
    expires_at: str


UNCONFIRMED = (
    "the connection to the chain node dropped while the transaction was sent: it may not "
    "have reached the chain; poll on (it stays sent if it never did)"
)


class WalletRequestResult(BaseModel):
    transaction_id: str = Field(max_length=64)


class WalletRequestOutcome(BaseModel):
    status: Literal["pending", "done", "refused", "expired"]
    kind: str
    account: str | None = Field(
        default=None, description="the bound account (that signed, for the other kinds)"
    )
    transaction_hash: str | None = Field(default=None, description="transaction: once sent")
    transaction_status: Literal["sent", "succeeded", "failed"] | None = Field(
        default=None, description="transaction: sent, then succeeded or failed once mined"
    )
    signature: str | None = Field(
        default=None, description="message: the EIP-191 signature, verified"
    )
    code: str | None = None
    message: str | None = None


def _service(request: Request, session: SessionDep) -> WalletRequests:
    platform: IdentityPlatform = request.app.state.identity
    return WalletRequests(session, platform, request.app.state.wallet_chain)


Service = Annotated[WalletRequests, Depends(_service)]


@router.post(
    "/wallet-requests",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 404, 409, 413, 422, 503),
)
def create(
    body: WalletRequestCreate, service: Service, principal: CurrentPrincipal
) -> WalletRequestCreated:
    """Ask your wallet to sign: ``bind_account`` (link your DID to your ledger account),
    ``transaction`` (a call of one of the marketplace's contracts from your bound
    account; refused now if it would revert) or ``message`` (a text). Show
    ``wallet_url`` as a QR code or open it as a link, keep ``transaction_id`` and poll
    ``POST /wallet-requests/result`` with it."""
    call = (
        Call(body.contract, body.function, tuple(body.arguments))
        if isinstance(body, TransactionAsk)
        else None
    )
    text = body.text if isinstance(body, MessageAsk) else None
    created = service.create(principal.did, body.kind, call=call, text=text)
    return WalletRequestCreated(
        transaction_id=created.transaction_id,
        request_id=created.request_id,
        request_uri=created.request_uri,
        wallet_url=created.wallet_url,
        expires_at=created.expires_at.isoformat(),
    )


@router.get(
    "/wallet-requests/{request_id}",
    response_class=Response,
    responses={
        200: {
            "description": "The Request Object: a JWS signed by the marketplace's DID key.",
            "content": {REQUEST_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **errors(404, 410),
    },
)
def request_object(request_id: RequestId, service: Service) -> Response:
    """The signed Request Object; its ``signing_request`` says what to sign."""
    return Response(
        service.request_object(request_id),
        media_type=REQUEST_MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
    )


async def _fields(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        raise ResponseMediaType(f"send the answer as {_FORM}")
    try:
        parsed = parse_qs((await request.body()).decode(), max_num_fields=8)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VpTokenInvalid("the answer's body cannot be read") from exc
    return {name: values[0] for name, values in parsed.items() if name in _FIELDS}


@router.post(
    "/wallet-requests/{request_id}/response",
    responses=errors(400, 401, 404, 409, 413, 415, 422, 429, 503),
    dependencies=[AddressLimited],
    openapi_extra={"requestBody": {"required": True, "content": {_FORM: {"schema": _FORM_SCHEMA}}}},
)
def answer(
    request_id: RequestId,
    fields: Annotated[dict[str, str], Depends(_fields)],
    service: Service,
) -> dict[str, str]:
    """The wallet's answer (``direct_post``): ``state`` and, for ``bind_account``,
    ``binding`` (the kraken-binding+jwt) and ``account_signature``; for ``transaction``,
    ``transaction`` (the signed raw EIP-1559 transaction, which the marketplace
    broadcasts); for ``message``, ``signature``; or ``error`` when the person declined."""
    service.answer(request_id, state=fields.get("state"), fields=fields)
    return {}


@router.post(
    "/wallet-requests/result",
    responses={
        202: {"model": WalletRequestOutcome, "description": "Not answered yet: poll again."},
        **errors(400, 404, 413, 422, 429),
    },
    dependencies=[AddressLimited],
)
def result(body: WalletRequestResult, service: Service, response: Response) -> WalletRequestOutcome:
    """What became of your request: ``pending`` (202), ``done``, ``refused`` (with the
    code and message) or ``expired``. A transaction is ``done`` once sent: poll on until
    its ``transaction_status`` is no longer ``sent``."""
    outcome = service.outcome(body.transaction_id)
    if outcome.status == "pending":
        response.status_code = status.HTTP_202_ACCEPTED
    result = outcome.result or {}
    mined = result.get("succeeded")
    return WalletRequestOutcome(
        status=outcome.status,
        kind=outcome.kind,
        account=result.get("account"),
        transaction_hash=result.get("transaction_hash") if outcome.kind == TRANSACTION else None,
        transaction_status=(
            None
            if outcome.kind != TRANSACTION or "transaction_hash" not in result
            else "sent"
            if mined is None
            else "succeeded"
            if mined
            else "failed"
        ),
        signature=result.get("signature") if outcome.kind == MESSAGE else None,
        code=(outcome.refusal or {}).get("code"),
        message=(outcome.refusal or {}).get("message")
        or (UNCONFIRMED if result.get("unconfirmed") and mined is None else None),
    )
