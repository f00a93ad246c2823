"""Refusals of signatures asked of a wallet (``identity.wallet_requests``), beyond those
shared with sign-in (``identity.signin_errors``: state, expiry, replay)::

    KrakenError
    ├── InvalidRequest
    │   ├── MessageInvalid            422 message_invalid (empty, too long, control
    │   │                                                  characters: not shown verbatim)
    │   ├── WrongChain                400 wrong_chain (signed for another chain id)
    │   └── TransactionMismatch       400 transaction_mismatch (another target, call,
    │                                                  value, nonce, or more gas or fees
    │                                                  than asked; details.field)
    ├── Unauthenticated
    │   └── WrongAccount              401 wrong_account (signed by another account than
    │                                                  the one bound to the person's DID)
    ├── Conflict
    │   └── AccountNotBound           409 account_not_bound (no account bound to the DID
    │                                                     yet: bind_account first)
    └── ServiceUnavailable
        └── AnswerFailed              503 answer_failed (the marketplace failed to carry
                                                         out the answer; it is settled
                                                         refused: ask again)

The chain's own refusals keep the ledger's codes: ``call_invalid`` and
``transaction_unreadable`` (``ledger.calls``), ``transaction_rejected``
(``ledger.broadcast``), and the contract's revert codes (``insufficient_funds``…).
"""

from __future__ import annotations

from kraken_market.errors import Conflict, InvalidRequest, ServiceUnavailable, Unauthenticated


class MessageInvalid(InvalidRequest):
    code = "message_invalid"


class WrongChain(InvalidRequest):
    code = "wrong_chain"
    status = 400


class TransactionMismatch(InvalidRequest):
    code = "transaction_mismatch"
    status = 400


class WrongAccount(Unauthenticated):
    code = "wrong_account"


class AccountNotBound(Conflict):
    code = "account_not_bound"


class AnswerFailed(ServiceUnavailable):
    """An unexpected failure while carrying out a wallet's answer: the request is settled
    as refused with this code (never left claimed and pending until it expires)."""

    code = "answer_failed"
