"""The wallet's side of signatures a page asks for (runs on the user's machine:
``kraken-market wallet answer``).

A signed-in page that needs a signature only the wallet can give sends a Request Object
in the shape of OpenID4VP 1.0 (``identity.wallet_requests``): signed by the
marketplace's verifier DID, ``response_type`` ``kraken_signature``, ``direct_post`` to
its ``response_uri``, and a ``signing_request`` claim saying what to sign:

- ``bind_account``: the binding of the wallet's DID to its Ethereum account
  (``identity.binding``: a ``kraken-binding+jwt`` signed by the DID key, and the
  account's EIP-191 signature of it), for the ``audience`` the request names;
- ``transaction``: an EIP-1559 transaction calling one of the marketplace's contracts
  from the wallet's account. The wallet reads the call from the call data itself,
  against the committed ABIs (``ledger.calls``), and the contract from the public
  deployment of ITS OWN marketplace (the configured API URL), never from the asker: a
  hostile verifier could serve a "deployment" whose ``market`` is its own address and
  have the wallet call it "the marketplace". So a transaction asked by any other origin
  is refused (``foreign_marketplace``); the words the wallet shows are its own, never a
  description sent with the request. It signs only a call that decodes, to one of the
  deployment's contracts, on the deployment's chain; the marketplace broadcasts it;
- ``message``: an EIP-191 ``personal_sign`` of a text, shown verbatim.

The wallet signs only for itself: a request naming another DID or account is refused
before anything is unlocked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx2

from kraken_market.identity import binding
from kraken_market.identity.openid4vp_wallet import client_name, send
from kraken_market.identity.signin_errors import RequestObjectInvalid
from kraken_market.identity.wallet import WalletKeys
from kraken_market.identity.wallet_errors import ForeignMarketplace, SigningRequestInvalid

if TYPE_CHECKING:
    from kraken_market.ledger.amounts import Token
    from kraken_market.ledger.deployment import Deployment

RESPONSE_TYPE = "kraken_signature"
BIND_ACCOUNT, TRANSACTION, MESSAGE = "bind_account", "transaction", "message"
KINDS = {
    BIND_ACCOUNT: "link your DID to your ledger account (both keys sign the link)",
    TRANSACTION: "send a transaction from your ledger account",
    MESSAGE: "sign a message with your ledger account",
}
_TRANSACTION_FIELDS = {
    "account": str,
    "chain_id": int,
    "to": str,
    "data": str,
    "value": str,
    "nonce": int,
    "gas": int,
    "max_fee_per_gas": str,
    "max_priority_fee_per_gas": str,
}


@dataclass(frozen=True)
class SigningRequest:
    """A checked request for a signature (``openid4vp_wallet.verified_payload`` first)."""

    client_id: str
    client_name: str
    response_uri: str
    state: str
    kind: str
    did: str
    audience: str
    account: str | None = None
    """The ledger account asked to sign (``transaction``, ``message``)."""
    text: str | None = None
    """``message``: the text to sign, verbatim."""
    transaction: dict[str, Any] = field(default_factory=dict)
    """``transaction``: chain id, target, call data, value, nonce, gas, fees."""

    @property
    def origin(self) -> str:
        return origin_of(self.response_uri)

    @property
    def what(self) -> str:
        """What the wallet would sign, in words."""
        return KINDS[self.kind]


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """The web origin (RFC 6454 §4: scheme, host, port) of ``url``, serialised as §6.2
    does: lower-case scheme and host, the port only when it is not the scheme's default,
    so that two spellings of one origin compare equal."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = parts.port
    return f"{scheme}://{host}" + ("" if port in (None, _DEFAULT_PORTS.get(scheme)) else f":{port}")


def check_marketplace(request: SigningRequest, marketplace_url: str) -> None:
    """A transaction is signed only when the wallet's own marketplace (``marketplace_url``,
    the configured API URL) asks for it: the contracts are named from that marketplace's
    deployment, and an asker elsewhere could serve a forged one. Sign-in, bindings (which
    name their audience) and messages (shown verbatim) may come from any origin."""
    mine = origin_of(marketplace_url)
    if request.kind == TRANSACTION and request.origin != mine:
        raise ForeignMarketplace(
            f"{request.origin} asks this wallet to sign a transaction, and this wallet signs "
            f"transactions only for its own marketplace, {mine}: not signed (to answer "
            f"another marketplace, set KRAKEN_API_URL to it)",
            details={"asked_by": request.origin, "marketplace": mine},
        )


def is_signing_request(payload: dict[str, Any]) -> bool:
    return payload.get("response_type") == RESPONSE_TYPE


def signing_request(payload: dict[str, Any]) -> SigningRequest:
    """The ``signing_request`` claim of a verified Request Object, checked."""
    if not is_signing_request(payload):
        raise RequestObjectInvalid(f"unsupported response type {payload.get('response_type')!r}")
    asked = payload.get("signing_request")
    if not isinstance(asked, dict):
        raise RequestObjectInvalid("the request does not say what to sign")
    kind, did = asked.get("kind"), asked.get("did")
    if kind not in KINDS:
        raise SigningRequestInvalid(f"this wallet does not sign {kind!r} requests")
    if not isinstance(did, str) or not did:
        raise SigningRequestInvalid("the signing request names no DID")
    common = (payload["client_id"], client_name(payload), payload["response_uri"])
    if kind == BIND_ACCOUNT:
        audience = asked.get("audience")
        if not isinstance(audience, str) or urlsplit(audience).scheme not in ("http", "https"):
            raise SigningRequestInvalid("the signing request's audience is not a web address")
        return SigningRequest(*common, payload["state"], kind, did, audience)
    account = asked.get("account")
    if not isinstance(account, str) or not account:
        raise SigningRequestInvalid("the signing request names no account")
    if kind == MESSAGE:
        text = asked.get("text")
        if not isinstance(text, str) or not text:
            raise SigningRequestInvalid("the message to sign is missing")
        return SigningRequest(*common, payload["state"], kind, did, "", account, text=text)
    fields = {name: asked.get(name) for name in _TRANSACTION_FIELDS}
    for name, kind_of in _TRANSACTION_FIELDS.items():
        if not isinstance(fields[name], kind_of) or isinstance(fields[name], bool):
            raise SigningRequestInvalid(f"the transaction's {name} is missing or malformed")
    return SigningRequest(*common, payload["state"], kind, did, "", account, transaction=fields)


def check_holder(request: SigningRequest, did: str, account: str | None = None) -> None:
    """Before unlocking: the request must be for this wallet's DID and, for a transaction
    or message, its account (a page of someone else's session cannot have this wallet
    sign for it)."""
    if request.did != did:
        raise SigningRequestInvalid(
            f"this request is for {request.did}, not for this wallet's DID {did}: "
            "answer it with the wallet you signed in with"
        )
    if request.account is not None and account is not None and request.account != account:
        raise SigningRequestInvalid(
            f"this request is for the account {request.account}, not for this wallet's "
            f"account {account}: link this wallet's account first"
        )


@dataclass(frozen=True)
class ReadCall:
    """A transaction as the wallet reads it itself: the contract, the action in words."""

    contract: str
    address: str
    function: str
    action: str
    max_fee: str
    """The most the transaction can cost in gas, in the chain's own currency."""


def read_transaction(request: SigningRequest, deployment: Deployment, token: Token) -> ReadCall:
    """The call the transaction makes, decoded from its call data against the committed
    ABI of the deployment's contract at its target; refused when the chain is not the
    deployment's, the target is none of its contracts or the data does not decode."""
    from kraken_market.ledger.calls import CallInvalid, decode, ether, words

    fields = request.transaction
    if fields["chain_id"] != deployment.chain_id:
        raise SigningRequestInvalid(
            f"the transaction is for chain {fields['chain_id']}, and the marketplace's "
            f"contracts are on chain {deployment.chain_id}: not signed"
        )
    if int(fields["value"]) != 0:
        raise SigningRequestInvalid("the transaction would send ether along: not signed")
    try:
        call = decode(deployment, fields["to"], fields["data"])
    except CallInvalid as exc:
        raise SigningRequestInvalid(f"{exc.message}: not signed") from exc
    max_fee = ether(fields["gas"] * int(fields["max_fee_per_gas"]))
    action = words(call, token, deployment, request.account)
    return ReadCall(call.contract, call.address, call.function, action, max_fee)


def sign(keys: WalletKeys, request: SigningRequest, now: datetime) -> dict[str, str]:
    """The answer's fields: the binding and the account's signature of it; the signed
    raw transaction; or the message's signature."""
    check_holder(request, keys.did_key.did, keys.account.address)
    if request.kind == TRANSACTION:
        fields = request.transaction
        signed = keys.account.sign_transaction(
            {
                "type": 2,
                "chainId": fields["chain_id"],
                "nonce": fields["nonce"],
                "to": fields["to"],
                "data": fields["data"],
                "value": int(fields["value"]),
                "gas": fields["gas"],
                "maxFeePerGas": int(fields["max_fee_per_gas"]),
                "maxPriorityFeePerGas": int(fields["max_priority_fee_per_gas"]),
            }
        )
        return {"transaction": "0x" + bytes(signed.raw_transaction).hex()}
    if request.kind == MESSAGE:
        from eth_account.messages import encode_defunct

        message = encode_defunct(text=request.text or "")
        return {"signature": "0x" + bytes(keys.account.sign_message(message).signature).hex()}
    made = binding.bind(keys.did_key, keys.account, audience=request.audience, now=now)
    return {"binding": made.jws, "account_signature": made.account_signature}


def marketplace_contracts(http: httpx2.Client, marketplace_url: str) -> tuple[Deployment, Token]:
    """The deployment and token the wallet's own marketplace publishes (public facts any
    one can check on chain): which contract each address is, and the DATA decimals.
    ``marketplace_url`` is the configured API URL, never the asker's origin
    (``check_marketplace``)."""
    from kraken_market.ledger.amounts import Token
    from kraken_market.ledger.deployment import Deployment

    base = marketplace_url.rstrip("/")
    deployment = send(http, "GET", f"{base}/api/v1/ledger/deployment").json()
    token = send(http, "GET", f"{base}/api/v1/ledger/token").json()
    return Deployment.model_validate(deployment), Token.from_json(token)


def post_signature(
    http: httpx2.Client, request: SigningRequest, fields: dict[str, str]
) -> dict[str, Any]:
    """The direct_post answer (form-encoded, with the request's ``state``)."""
    response = send(http, "POST", request.response_uri, data={**fields, "state": request.state})
    reply = response.json() if response.content else {}
    return reply if isinstance(reply, dict) else {}
