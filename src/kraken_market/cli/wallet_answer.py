"""``kraken-market wallet answer URL``: sign in on a page by answering its request with
the CLI wallet (OpenID for Verifiable Presentations 1.0; ``identity.openid4vp_wallet``),
or sign what a signed-in page asks the wallet for (``kraken_signature``:
``identity.signing_wallet``; linking the DID to the ledger account).

Runs on the user's machine. The request is checked before anything is shown (signed
by the DID its ``client_id`` names, not expired); the person sees who asks (the name
the request gives and the origin its answer goes to: the name alone is the asker's
claim, the origin is what the network proves) and which credentials would be shared,
and confirms. Only then is the wallet unlocked and the presentations signed, each
for this verifier (``aud`` = its client_id) and this request (its ``nonce``).
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx2
import typer

from kraken_market.cli.common import JsonOption, err, fails_cleanly, out, print_json, settings
from kraken_market.cli.wallet import WalletOption, passphrase, wallet_path
from kraken_market.db.base import utcnow
from kraken_market.errors import KrakenError
from kraken_market.identity import openid4vp_wallet as openid4vp
from kraken_market.identity import signing_wallet as signing
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.wallet import StoredCredential, Wallet
from kraken_market.settings import Settings

_SHOWN_CLAIMS = ("name", "company", "scope", "role", "category", "country")


class Declined(KrakenError):
    code = "declined"


def _describe(credential: StoredCredential) -> str:
    claims = []
    for claim in _SHOWN_CLAIMS:
        value = credential.subject.get(claim)
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if value is not None:
            claims.append(f"{claim} {value}")
    return f"{credential.type} ({'; '.join(claims) or credential.id})"


def _shown(
    request: openid4vp.AuthorizationRequest, chosen: list[openid4vp.Selection]
) -> dict[str, Any]:
    return {
        "verifier": request.client_name,
        "origin": request.origin,
        "client_id": request.client_id,
        "shared": [
            {"query": s.query_id, "type": c.type, "id": c.id, "about": _describe(c)}
            for s in chosen
            for c in s.credentials
        ],
    }


def _confirm(shown: dict[str, Any], yes: bool) -> bool:
    err.print(f"{shown['verifier']} at {shown['origin']} asks you to sign in.", markup=False)
    err.print("Your wallet would share:", markup=False)
    for item in shown["shared"]:
        err.print(f"  - {item['about']}", markup=False)
    return yes or typer.confirm("Share these credentials and sign in?", err=True)


@fails_cleanly
def answer(
    url: Annotated[
        str,
        typer.Argument(
            help="The QR code's openid4vp://… text, a …/wallet/request?… link or a request_uri"
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Share without asking (scripts)")] = False,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a sign-in request (QR code or link) with your wallet's credentials."""
    config = settings()
    held = Wallet.open(wallet_path(wallet, config))
    link = openid4vp.parse_link(url)
    with httpx2.Client(timeout=30.0) as http:
        payload = openid4vp.verified_payload(
            openid4vp.fetch_request(http, link), link, DidResolver(), utcnow()
        )
        if signing.is_signing_request(payload):
            _sign(http, held, signing.signing_request(payload), yes, as_json, config)
            return
        request = openid4vp.authorization_request(payload)
        chosen = openid4vp.select(request, held.credentials(), utcnow())
        shown = _shown(request, chosen)
        if not _confirm(shown, yes):
            openid4vp.post_decline(http, request.response_uri, request.state)
            raise Declined("you declined: nothing was shared, and the page was told")
        held.unlock(passphrase(config))
        token = openid4vp.vp_token(held.keys.did_key, request, chosen, utcnow())
        reply = openid4vp.post_answer(http, request, token)
    redirect = reply.get("redirect_uri")
    if as_json:
        print_json({**shown, "answered": True, "redirect_uri": redirect})
        return
    out.print(
        f"answered: {shown['verifier']} at {shown['origin']} has your credentials", markup=False
    )
    if redirect:
        out.print(f"continue in your browser: {redirect}", markup=False, soft_wrap=True)
    else:
        out.print("the page that showed the QR code signs you in now", markup=False)


def _sign(
    http: httpx2.Client,
    held: Wallet,
    request: signing.SigningRequest,
    yes: bool,
    as_json: bool,
    config: Settings,
) -> None:
    """A ``kraken_signature`` request: show what would be signed, for whom, then sign."""
    signing.check_holder(request, held.did, held.address)
    signing.check_marketplace(request, config.resolved_api_url)
    shown: dict[str, Any] = {
        "verifier": request.client_name,
        "origin": request.origin,
        "client_id": request.client_id,
        "kind": request.kind,
        "did": request.did,
    }
    err.print(f"{request.client_name} at {request.origin} asks you to sign:", markup=False)
    if request.kind == signing.TRANSACTION:
        deployment, token = signing.marketplace_contracts(http, config.resolved_api_url)
        call = signing.read_transaction(request, deployment, token)
        shown |= {
            "account": request.account,
            "chain_id": request.transaction["chain_id"],
            "contract": call.contract,
            "to": call.address,
            "function": call.function,
            "action": call.action,
            "max_fee": call.max_fee,
        }
        err.print(f"  {call.action}", markup=False)
        err.print(f"  contract: {call.contract} at {call.address}", markup=False)
        err.print(
            f"  from your account {request.account} on chain {shown['chain_id']}", markup=False
        )
        err.print(f"  network fee: at most {call.max_fee} ether", markup=False)
    elif request.kind == signing.MESSAGE:
        shown |= {"account": request.account, "text": request.text}
        err.print(f"  the message below, with your account {request.account}:", markup=False)
        for line in (request.text or "").splitlines() or [""]:
            err.print(f"  | {line}", markup=False, soft_wrap=True)
    else:
        shown["audience"] = request.audience
        err.print(f"  {request.what}, for {request.audience}", markup=False)
    if not (yes or typer.confirm("Sign this?", err=True)):
        openid4vp.post_decline(http, request.response_uri, request.state)
        raise Declined("you declined: nothing was signed, and the page was told")
    held.unlock(passphrase(config))
    fields = signing.sign(held.keys, request, utcnow())
    signing.post_signature(http, request, fields)
    if "transaction" in fields:
        from eth_utils.crypto import keccak

        shown["transaction_hash"] = "0x" + keccak(hexstr=fields["transaction"]).hex()
    if "signature" in fields:
        shown["signature"] = fields["signature"]
    if as_json:
        print_json({**shown, "answered": True, "account": held.keys.account.address})
        return
    out.print(f"signed: {request.what}; the page that asked shows the result now", markup=False)
    if "transaction_hash" in shown:
        out.print(f"transaction {shown['transaction_hash']} sent by {request.origin}", markup=False)
