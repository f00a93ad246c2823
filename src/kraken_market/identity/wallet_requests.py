"""Signatures asked of a signed-in person's wallet (runs in the API).

Pages never hold a key: to bind the person's DID to their ledger account
(``bind_account``), to send a transaction from that bound account (``transaction``) or
to sign a text with it (``message``, EIP-191 ``personal_sign``), a page asks their
wallet, in the same shape as sign-in (``identity.signin``, OpenID4VP 1.0
§13.3): the page creates a request and keeps its ``transaction_id``; a QR code or
link carries the public ``request_uri``; the wallet fetches the Request Object,
signed by the marketplace's verifier key, whose ``response_type`` is
``kraken_signature`` and whose ``signing_request`` claim says what to sign; the wallet
shows it in words, signs, and posts the signatures to the ``response_uri``
(``direct_post``); the page polls the outcome with its transaction id.

Only the person who asked can be answered for: a binding must name the DID of the
session that created the request; a transaction or a message must be signed by the
account bound to that DID. What is signed is self-authenticating (both keys sign the
binding; the account's key signs a transaction or message), so the transaction id
guards only who learns the outcome.

A ``transaction`` is built here from a contract, a function and its arguments, checked
against the committed ABI and refused if it would revert (``ledger.calls``,
``ledger.broadcast``); the Request Object carries every field the wallet signs (chain
id, target, call data, nonce, gas limit, EIP-1559 fees), and the wallet decodes the
call data itself to show it. The answer is the signed raw transaction: it must be
exactly the call asked for, from the bound account, on this chain, with this nonce
(so a transaction signed for an earlier request cannot be replayed into this one) and
no more gas or fees than asked. The API broadcasts it through its own chain connection,
and the page's poll learns its hash and, once mined, whether it succeeded. When the
connection fails while sending, the transaction may have reached the node: the request
is ``done`` with the locally computed hash, marked unconfirmed, and the poll looks its
receipt up as for any other (it stays ``sent`` if the node never had it). Any other
failure settles the request as refused (``answer_failed``): none is left claimed.
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from kraken_market.db.base import utcnow
from kraken_market.errors import InvalidRequest, KrakenError
from kraken_market.identity import binding as bindings
from kraken_market.identity import jose, openid4vp
from kraken_market.identity.errors import InvalidSignature
from kraken_market.identity.models import DidBinding, WalletRequest
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.service import digest
from kraken_market.identity.signin import Created
from kraken_market.identity.signin_errors import (
    RequestAnswered,
    RequestClosed,
    RequestExpired,
    RequestUnknown,
    StateMismatch,
    TransactionUnknown,
)
from kraken_market.identity.wallet_request_errors import (
    AccountNotBound,
    AnswerFailed,
    MessageInvalid,
    TransactionMismatch,
    WrongAccount,
    WrongChain,
)
from kraken_market.ledger.errors import ChainUnavailable, NotDeployed

if TYPE_CHECKING:
    # web3 and eth-account are imported when a transaction or message is first asked
    # for: importing them raises the recursion limit the API's JSON guard relies on.
    from kraken_market.ledger.broadcast import WalletChain
    from kraken_market.ledger.calls import SignedTransaction

RESPONSE_TYPE = "kraken_signature"
PATH = "/api/v1/wallet-requests/"
BIND_ACCOUNT, TRANSACTION, MESSAGE = "bind_account", "transaction", "message"
MAX_MESSAGE_CHARS = 2000
PENDING, DONE, REFUSED = "pending", "done", "refused"
_KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Call:
    """A contract call a page asks the wallet to send: ``contract.function(*arguments)``."""

    contract: str
    function: str
    arguments: tuple[Any, ...]


@dataclass(frozen=True)
class Outcome:
    status: str
    kind: str
    result: dict[str, Any] | None = None
    refusal: dict[str, str] | None = None


class WalletRequests:
    def __init__(
        self, session: Session, platform: IdentityPlatform, chain: WalletChain | None = None
    ) -> None:
        self.session = session
        self.platform = platform
        self.client = platform.signin_client()
        self.chain = chain

    def _uri(self, request_id: str) -> str:
        return f"{self.client.base_url}{PATH}{request_id}"

    def _bound(self, did: str) -> str:
        row = self.session.get(DidBinding, did)
        if row is None:
            raise AccountNotBound(
                "no ledger account is bound to your identity yet: link one first "
                "(a bind_account request, or 'kraken-market wallet bind')",
                details={"did": did},
            )
        return row.account

    def _transaction(self, did: str, call: Call) -> dict[str, Any]:
        """The fields of ``call`` from ``did``'s bound account, filled from the chain."""
        from kraken_market.ledger.calls import encode

        account = self._bound(did)
        if self.chain is None:
            raise NotDeployed("this marketplace has no chain to send transactions to")
        to, data = encode(self.chain.deployment(), call.contract, call.function, call.arguments)
        prepared = self.chain.prepare(account, to, data)
        return {
            "account": account,
            "chain_id": prepared.chain_id,
            "to": to,
            "data": data,
            "value": "0",
            "nonce": prepared.nonce,
            "gas": prepared.gas,
            "max_fee_per_gas": str(prepared.max_fee_per_gas),
            "max_priority_fee_per_gas": str(prepared.max_priority_fee_per_gas),
        }

    def _message(self, did: str, text: str) -> dict[str, Any]:
        if not text or len(text) > MAX_MESSAGE_CHARS:
            raise MessageInvalid(f"a message has 1 to {MAX_MESSAGE_CHARS} characters")
        # Control and format characters (Unicode Cc, Cf: bidirectional overrides,
        # zero-width joiners) would make the text the wallet shows differ from what it
        # signs, or reorder it on screen.
        if any(c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf") for c in text):
            raise MessageInvalid(
                "a message may not hold control or invisible formatting characters: "
                "the wallet shows it verbatim"
            )
        return {"account": self._bound(did), "text": text}

    def create(
        self,
        did: str,
        kind: str,
        now: datetime | None = None,
        *,
        call: Call | None = None,
        text: str | None = None,
    ) -> Created:
        """A request for ``did``'s wallet to sign ``kind``: the binding, the transaction
        ``call`` from the bound account, or the message ``text``. Checked before anything
        is stored: a call that would revert, or no bound account, is refused here."""
        now = now or utcnow()
        asked: dict[str, Any] | None = None
        if kind == TRANSACTION:
            if call is None:
                raise InvalidRequest("a transaction request names a contract call")
            asked = self._transaction(did, call)
        elif kind == MESSAGE:
            asked = self._message(did, text or "")
        self.session.execute(delete(WalletRequest).where(WalletRequest.expires_at < now - _KEEP))
        transaction_id = secrets.token_urlsafe(32)
        row = WalletRequest(
            id=secrets.token_urlsafe(24),
            transaction_digest=digest(transaction_id),
            did=did,
            kind=kind,
            nonce=secrets.token_urlsafe(24),
            state=secrets.token_urlsafe(24),
            created_at=now,
            expires_at=now + self.client.lifetime,
            outcome=PENDING,
            asked=asked,
        )
        self.session.add(row)
        self.session.commit()
        uri = self._uri(row.id)
        return Created(
            transaction_id,
            row.id,
            uri,
            openid4vp.wallet_url(self.client.client_id, uri),
            row.expires_at,
        )

    def _row(self, request_id: str) -> WalletRequest:
        row = self.session.get(WalletRequest, request_id) if len(request_id) <= 43 else None
        if row is None:
            raise RequestUnknown("no such wallet request", details={"request_id": request_id})
        return row

    def request_object(self, request_id: str, now: datetime | None = None) -> str:
        """The signed Request Object (RFC 9101) of an open request."""
        now = now or utcnow()
        row = self._row(request_id)
        if row.answered_at is not None or row.expires_at <= now:
            reason = "answered" if row.answered_at is not None else "expired"
            raise RequestClosed(
                f"this request was {reason}; ask again from the marketplace's page",
                details={"reason": reason},
            )
        payload = {
            "iss": self.client.client_id,
            "aud": openid4vp.STATIC_AUDIENCE,
            "client_id": self.client.client_id,
            "response_type": RESPONSE_TYPE,
            "response_mode": "direct_post",
            "response_uri": self._uri(row.id) + "/response",
            "nonce": row.nonce,
            "state": row.state,
            "client_metadata": openid4vp.client_metadata(self.client.name),
            "signing_request": self._signing_request(row),
            "iat": int(now.timestamp()),
            "exp": int(row.expires_at.timestamp()),
        }
        return jose.sign(self.client.key, payload, openid4vp.REQUEST_TYP)

    def _signing_request(self, row: WalletRequest) -> dict[str, Any]:
        """What to sign: the kind, the DID of the person asked, and the kind's fields."""
        if row.kind == BIND_ACCOUNT:
            return {"kind": row.kind, "did": row.did, "audience": self.platform.base_url}
        return {"kind": row.kind, "did": row.did, **(row.asked or {})}

    def answer(
        self,
        request_id: str,
        *,
        state: str | None,
        fields: dict[str, str],
        now: datetime | None = None,
    ) -> None:
        """Check the wallet's answer and carry it out (record the binding); a refusal is
        kept for the page and raised."""
        now = now or utcnow()
        row = self._row(request_id)
        did, expected_state = row.did, row.state
        if state is None or not hmac.compare_digest(state.encode(), expected_state.encode()):
            raise StateMismatch("the state does not match this request")
        if row.answered_at is not None:
            raise RequestAnswered("this request was answered already")
        if row.expires_at <= now:
            raise RequestExpired("this request has expired; ask again from the page")
        self._claim(row.id, now)
        if "error" in fields:
            self._settle(
                row.id,
                REFUSED,
                refusal={
                    "code": "wallet_declined",
                    "message": f"the wallet declined ({fields['error'][:100]})",
                },
            )
            return
        kind, asked = row.kind, dict(row.asked or {})
        try:
            if kind == TRANSACTION:
                result = self._send(asked, fields.get("transaction", ""))
            elif kind == MESSAGE:
                result = self._verify_message(asked, fields.get("signature", ""))
            else:
                checked = self.platform.verify_binding(
                    fields.get("binding", ""), fields.get("account_signature", "")
                )
                recorded = bindings.record(self.session, checked, did)
                result = {"did": recorded.did, "account": recorded.account}
        except KrakenError as exc:
            self.session.rollback()
            self._settle(row.id, REFUSED, refusal={"code": exc.code, "message": exc.message})
            raise
        except Exception as exc:  # the request is claimed: settle it whatever went wrong
            self.session.rollback()
            failed = AnswerFailed(
                f"the marketplace failed to carry out the answer ({type(exc).__name__}); "
                "nothing was recorded: ask again from the page"
            )
            self._settle(row.id, REFUSED, refusal={"code": failed.code, "message": failed.message})
            raise failed from exc
        self._settle(row.id, DONE, result=result)

    def _send(self, asked: dict[str, Any], raw: str) -> dict[str, Any]:
        """Check the signed transaction is exactly the one asked for, then broadcast it."""
        from kraken_market.ledger.calls import read_signed

        signed = read_signed(raw)
        check_transaction(asked, signed)
        if self.chain is None:  # pragma: no cover - a transaction was prepared on it
            raise NotDeployed("this marketplace has no chain to send transactions to")
        try:
            tx_hash = self.chain.broadcast(signed.raw)
        except ChainUnavailable:
            # The connection failed during eth_sendRawTransaction: the node may have taken
            # the transaction before it dropped. Record its hash (the keccak of the signed
            # envelope, EIP-2718, known without the node) so the poll finds its receipt if
            # it was mined; refusing it would tell the page "nothing was sent" untruly.
            return {"account": signed.sender, "transaction_hash": signed.hash, "unconfirmed": True}
        return {"account": signed.sender, "transaction_hash": tx_hash}

    def _verify_message(self, asked: dict[str, Any], signature: str) -> dict[str, Any]:
        """EIP-191 ``personal_sign`` (version 0x45) of the text, by the bound account."""
        from eth_account import Account
        from eth_account.messages import encode_defunct

        try:
            signer = Account.recover_message(
                encode_defunct(text=asked["text"]), signature=signature
            )
        except Exception as exc:  # malformed hex, wrong length, invalid point
            raise InvalidSignature("the message's signature cannot be read") from exc
        if signer.lower() != str(asked["account"]).lower():
            raise WrongAccount(
                f"the message was signed by {signer}, not by your bound account {asked['account']}",
                details={"signer": signer},
            )
        return {"account": asked["account"], "signature": signature}

    def _claim(self, request_id: str, now: datetime) -> None:
        """Mark the request answered, atomically: of two answers racing, one wins."""
        claimed = self.session.execute(
            update(WalletRequest)
            .where(WalletRequest.id == request_id, WalletRequest.answered_at.is_(None))
            .values(answered_at=now)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            self.session.rollback()
            raise RequestAnswered("this request was answered already")
        self.session.commit()

    def _settle(
        self,
        request_id: str,
        outcome: str,
        *,
        result: dict[str, Any] | None = None,
        refusal: dict[str, str] | None = None,
    ) -> None:
        row = self._row(request_id)
        row.outcome, row.result, row.refusal = outcome, result, refusal
        self.session.commit()

    def outcome(self, transaction_id: str, now: datetime | None = None) -> Outcome:
        """What became of the request, for the page holding ``transaction_id``."""
        now = now or utcnow()
        row = (
            self.session.query(WalletRequest)
            .filter_by(transaction_digest=digest(transaction_id))
            .one_or_none()
        )
        if row is None:
            raise TransactionUnknown("no wallet request has this transaction id")
        if row.outcome == PENDING and row.expires_at <= now:
            return Outcome("expired", row.kind)
        result = row.result
        if (
            row.kind == TRANSACTION
            and result is not None
            and "succeeded" not in result
            and self.chain is not None
        ):
            mined = self.chain.receipt_status(result["transaction_hash"])
            if mined is not None:
                row.result = result = {**result, "succeeded": mined}
                self.session.commit()
        return Outcome(row.outcome, row.kind, result, row.refusal)


def check_transaction(asked: dict[str, Any], signed: SignedTransaction) -> None:
    """``signed`` is the transaction asked for: this chain, the bound account, the same
    target, call data, value and nonce, and no more gas or fees than the wallet showed."""
    if signed.chain_id != asked["chain_id"]:
        raise WrongChain(
            f"the transaction is signed for chain {signed.chain_id}, not {asked['chain_id']}",
            details={"chain_id": signed.chain_id},
        )
    if signed.sender.lower() != str(asked["account"]).lower():
        raise WrongAccount(
            f"the transaction was signed by {signed.sender}, not by your bound account "
            f"{asked['account']}",
            details={"signer": signed.sender},
        )
    differences = {
        "to": (signed.to or "").lower() != str(asked["to"]).lower(),
        "data": signed.data.lower() != str(asked["data"]).lower(),
        "value": signed.value != int(asked["value"]),
        "nonce": signed.nonce != asked["nonce"],
        "gas": signed.gas > asked["gas"],
        "max_fee_per_gas": signed.max_fee_per_gas > int(asked["max_fee_per_gas"]),
        "max_priority_fee_per_gas": signed.max_priority_fee_per_gas
        > int(asked["max_priority_fee_per_gas"]),
    }
    for field, differs in differences.items():
        if differs:
            raise TransactionMismatch(
                f"the signed transaction is not the one asked for: its {field} differs",
                details={"field": field},
            )
