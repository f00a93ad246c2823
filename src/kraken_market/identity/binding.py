"""The binding of a DID to a ledger account, signed by both keys.

The DID key signs a ``kraken-binding+jwt`` naming the account (so the account
cannot be claimed by someone else's DID), and the account signs that same JWS
with an EIP-191 ``personal_sign`` message (so the DID cannot claim someone
else's account). The marketplace records the pair; the verifier's grants and
the ledger client use the bound account.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from eth_utils.address import is_checksum_address, to_checksum_address
from sqlalchemy.orm import Session

from kraken_market import jsondepth
from kraken_market.db.base import utcnow
from kraken_market.errors import Conflict, InvalidRequest
from kraken_market.identity import jose
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import (
    HolderMismatch,
    InvalidSignature,
    PresentationExpired,
    WrongAudience,
)
from kraken_market.identity.keys import DidKey
from kraken_market.identity.models import DidBinding

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

BINDING_TYP = "kraken-binding+jwt"


class BindingReplayed(Conflict):
    code = "binding_replayed"


MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class Binding:
    did: str
    account: str
    jws: str
    account_signature: str
    service: str | None = None
    """Where the DID's holder takes requests, signed with the binding (a company's
    Depute tool, which publishes the company's products from this account)."""
    issued_at: int = 0
    """Its ``iat``: a binding older than the one recorded is a replay."""


def bind(
    did_key: DidKey,
    account: LocalAccount,
    *,
    audience: str,
    now: datetime,
    service: str | None = None,
) -> Binding:
    # eth-account is imported when used: importing it raises the process's recursion
    # limit (py_ecc), which the API's JSON depth guard relies on (tests/test_jsondepth.py).
    from eth_account.messages import encode_defunct

    payload = {
        "did": did_key.did,
        "account": account.address,
        "aud": audience,
        "iat": int(now.timestamp()),
    }
    if service is not None:
        payload["service"] = service
    token = jose.sign(did_key, payload, BINDING_TYP)
    signature = account.sign_message(encode_defunct(text=token)).signature
    return Binding(did_key.did, account.address, token, "0x" + bytes(signature).hex(), service)


def verify(
    jws: str, account_signature: str, resolver: DidResolver, *, audience: str, now: datetime
) -> Binding:
    checked = jose.verify(jws, resolver, BINDING_TYP, 4096)
    payload = checked.payload
    account = payload.get("account")
    if payload.get("did") != checked.key.did or not isinstance(account, str):
        raise InvalidSignature("the binding must be signed by the DID it names")
    if not is_checksum_address(account):
        raise InvalidRequest("the account must be a checksummed Ethereum address")
    if payload.get("aud") != audience:
        raise WrongAudience(f"this binding is for {payload.get('aud')!r}, not {audience!r}")
    issued = payload.get("iat")
    if not isinstance(issued, int) or abs(now.timestamp() - issued) > MAX_AGE_SECONDS:
        raise PresentationExpired(f"a binding must be signed within {MAX_AGE_SECONDS} s of sending")
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        recovered = Account.recover_message(encode_defunct(text=jws), signature=account_signature)
    except Exception as exc:  # eth-account raises several types for malformed signatures
        raise InvalidSignature("the account signature is malformed") from exc
    if to_checksum_address(recovered) != account:
        raise InvalidSignature("the account signature was not made by the account named")
    service = payload.get("service")
    if service is not None and (
        not isinstance(service, str)
        or len(service) > 300
        or not service.startswith(("https://", "http://"))
    ):
        raise InvalidRequest("the binding's service must be an http(s) URL")
    return Binding(checked.key.did, account, jws, account_signature, service, issued)


def issued_at(jws: str) -> int:
    """The ``iat`` of a binding this marketplace verified and stored (0 if unreadable)."""
    part = jws.split(".")[1] if jws.count(".") == 2 else ""
    try:
        payload = jsondepth.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, UnicodeDecodeError):
        return 0
    value = payload.get("iat") if isinstance(payload, dict) else None
    return value if isinstance(value, int) else 0


def record(session: Session, binding: Binding, caller: str, *, commit: bool = True) -> DidBinding:
    """Store ``binding`` (replacing an older one of the same DID); only its own DID may."""
    if binding.did != caller:
        raise HolderMismatch("you can only bind your own DID", details={"did": binding.did})
    row = session.get(DidBinding, binding.did)
    if row is None:
        row = DidBinding(did=binding.did)
        session.add(row)
    elif binding.issued_at and binding.issued_at < issued_at(row.binding):
        raise BindingReplayed(
            "this binding is older than the one recorded (a replay?): sign a new one",
            details={"did": binding.did},
        )
    row.account = binding.account
    row.binding = binding.jws
    row.account_signature = binding.account_signature
    row.created_at = utcnow()
    if commit:
        session.commit()
    return row
