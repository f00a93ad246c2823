"""Ledger failures in the marketplace's one error tree.

A contract reverts with a short, stable reason (``"not_owner"``,
``"no_grant"``...; see the contracts). The client translates each into a
:class:`Reverted` subclass that fits the error tree (a missing permission is
``Forbidden``, an unknown product ``NotFound``...), keeps the raw reason in
``reason`` and ``details``, and gives a message that says what to do::

    LedgerError                502 ledger_error
    ├── ChainUnavailable       503 chain_unavailable (no answer from the node)
    ├── TransactionTimeout     504 chain_timeout (sent, no receipt in time)
    ├── TransactionReplaced    409 chain_replaced (dropped; its nonce was taken by another)
    ├── LogRangeRefused        502 log_range_refused (the node refuses even one block's logs)
    ├── NotDeployed            503 not_deployed (no deployment file / no code)
    ├── TokenChanged           409 token_changed (the deployment uses another token)
    ├── ChainReorganised       503 chain_reorganised (indexed blocks left the chain)
    ├── EventConflict          503 event_conflict (two logs at one place, or stored twice)
    ├── InvalidAmount          422 invalid_amount (not an amount of the token: ledger.amounts)
    ├── InvalidDuration        422 invalid_duration (not a duration: ledger.durations)
    ├── InvalidAddress         422 invalid_address (not an account address, or the zero one)
    ├── AdminTransferRefused   409 admin_transfer_refused (would not hand the admin over safely)
    ├── NotConfirmed           409 not_confirmed (the person did not confirm: nothing sent)
    ├── RoleUnchanged          409 role_unchanged (already holds, or does not hold, the role)
    ├── DatabaseOfAnotherChain 409 database_of_another_chain (set up with another chain)
    └── Reverted               409 reverted (a contract refused the transaction)
        ├── NotPermitted       403 chain_forbidden
        ├── GrantRequired      403 grant_required
        ├── NotOnChain         404 chain_not_found
        ├── MarketPaused       409 market_paused
        ├── InsufficientFunds  409 insufficient_funds (tokens, allowance or gas)
        ├── ChainConflict      409 chain_conflict (the state does not allow it now)
        └── InvalidTransaction 422 chain_invalid (the arguments are wrong)
"""

from __future__ import annotations

from typing import Any

from kraken_market.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    KrakenError,
    NotFound,
    ServiceUnavailable,
)


class LedgerError(KrakenError):
    code = "ledger_error"
    status = 502


class ChainUnavailable(LedgerError, ServiceUnavailable):
    code = "chain_unavailable"
    status = 503


class TransactionTimeout(LedgerError, ServiceUnavailable):
    code = "chain_timeout"
    status = 504


class TransactionReplaced(LedgerError, Conflict):
    """A sent transaction left the node's pool and another transaction of the same
    account was mined with its nonce: it can never be mined. Nothing is sent again
    on the client's own: the person decides whether it still needs doing."""

    code = "chain_replaced"
    status = 409


class LogRangeRefused(LedgerError):
    """The node refused the logs of a single block: no smaller range to ask for."""

    code = "log_range_refused"
    status = 502


class NotDeployed(LedgerError, ServiceUnavailable):
    code = "not_deployed"
    status = 503


class DeploymentNotOnChain(LedgerError, Conflict):
    """The deployment file names contracts this (external) chain does not have: most
    likely the wrong chain URL. Deploying anew would spend real gas and overwrite the
    only record of the old addresses, so it is refused; ``chain deploy --force`` does
    it on purpose (and keeps a copy of the old file)."""

    code = "deployment_not_on_chain"


class TokenChanged(LedgerError, Conflict):
    """The existing deployment counts in another token than the one configured now
    (``KRAKEN_CHAIN_TOKEN_ADDRESS`` set, changed or unset since): reusing it would keep
    the old token without a word, so it is refused; deploying anew is ``--force``."""

    code = "token_changed"
    status = 409


class ChainReorganised(LedgerError, ServiceUnavailable):
    """A block the indexer stored is no longer on the chain, and neither is any block
    whose hash it kept to find the fork point by (a reorganisation deeper than its
    checkpoints, or a chain made anew): stored events may be from the lost branch.
    Shallower reorganisations never raise it: the indexer rewinds through them."""

    code = "chain_reorganised"
    status = 503


class EventConflict(LedgerError, ServiceUnavailable):
    """The indexer met two different logs at one location (chain, block, log index),
    or a log already stored after its cursor: storing it would merge or lose an event,
    so the batch is refused and the cursor stays."""

    code = "event_conflict"
    status = 503


class InvalidAmount(LedgerError, InvalidRequest):
    """Text that is not an amount the token can hold: not decimal digits, negative,
    finer than the token's decimals, or above 2^256-1 base units."""

    code = "invalid_amount"
    status = 422


class InvalidDuration(LedgerError, InvalidRequest):
    """Text that is not a duration (``7d``, ``2h30m``, whole seconds)."""

    code = "invalid_duration"
    status = 422


class InvalidAddress(LedgerError, InvalidRequest):
    """Text that is not an account address (0x and 40 hex digits, a valid checksum if
    mixed-case), or the zero address where an account is meant."""

    code = "invalid_address"
    status = 422


class AdminTransferRefused(LedgerError, Conflict):
    """A step of the two-step admin transfer that would not leave the platform with an
    admin who can sign: offering the role to an account that has it, accepting it with
    an account that was not offered it, or removing the signer's own role."""

    code = "admin_transfer_refused"
    status = 409


class NotConfirmed(LedgerError, Conflict):
    """The person answered no to a confirmation (or none could be asked): nothing sent."""

    code = "not_confirmed"
    status = 409


class RoleUnchanged(LedgerError, Conflict):
    """A grant to an account that holds the role, or a revocation from one that does
    not: refused before sending (the contract would spend gas to change nothing)."""

    code = "role_unchanged"
    status = 409


class DatabaseOfAnotherChain(LedgerError, Conflict):
    """The marketplace database was set up with another chain or deployment (a reused
    database with a fresh data directory, a chain made anew): its products, sessions
    and indexed events describe a chain that is not this one. Nothing is started or
    indexed; the message says which database and data directory belong together."""

    code = "database_of_another_chain"
    status = 409


class Reverted(LedgerError):
    """A contract refused the transaction; nothing changed on chain."""

    code = "reverted"
    status = 409

    def __init__(self, message: str, *, reason: str, details: Any = None) -> None:
        super().__init__(message, details={"reason": reason, **(details or {})})
        self.reason = reason


class NotPermitted(Reverted, Forbidden):
    code = "chain_forbidden"
    status = 403


class GrantRequired(Reverted, Forbidden):
    code = "grant_required"
    status = 403


class NotOnChain(Reverted, NotFound):
    code = "chain_not_found"
    status = 404


class MarketPaused(Reverted, Conflict):
    code = "market_paused"
    status = 409


class InsufficientFunds(Reverted, Conflict):
    code = "insufficient_funds"
    status = 409


class ChainConflict(Reverted, Conflict):
    code = "chain_conflict"
    status = 409


class InvalidTransaction(Reverted, InvalidRequest):
    code = "chain_invalid"
    status = 422


REASONS: dict[str, tuple[type[Reverted], str]] = {
    # permissions
    "not_admin": (NotPermitted, "only a platform admin may do this"),
    "not_authorised": (NotPermitted, "this account lacks the role (arbiter or verifier) needed"),
    "not_owner": (NotPermitted, "only the product's owner may do this"),
    "not_pending_owner": (NotPermitted, "only the account the product is being transferred to"),
    "not_buyer": (NotPermitted, "only the buyer of this purchase may do this"),
    "not_node": (NotPermitted, "only a registered compute node may attest or refuse"),
    "not_member_owner": (NotPermitted, "the proposer must own at least one member product"),
    "consent_not_expected": (NotPermitted, "this account owns no member awaiting consent"),
    "not_market": (NotPermitted, "only the Market contract may delist"),
    "not_registry": (NotPermitted, "only the Registry contract may lock stakes"),
    "not_purchased": (NotPermitted, "this purchase did not include that product"),
    "no_grant": (GrantRequired, "no valid grant: ask the verifier (the marketplace API) first"),
    # unknown things
    "unknown_product": (NotOnChain, "no such product or union on chain"),
    "unknown_parent": (NotOnChain, "a parent product is not on chain: publish it first"),
    "unknown_purchase": (NotOnChain, "no such purchase"),
    "unknown_request": (NotOnChain, "no such computation request"),
    "unknown_node": (NotOnChain, "no such compute node"),
    "unknown_grant": (NotOnChain, "no such grant"),
    "no_open_claim": (NotOnChain, "this purchase has no open claim"),
    # state
    "paused": (MarketPaused, "the marketplace is paused by its admin; try again later"),
    "product_exists": (ChainConflict, "a product or union with this id is already on chain"),
    "union_exists": (ChainConflict, "this union was already proposed"),
    "union_not_pending": (ChainConflict, "this union is not awaiting consent"),
    "request_exists": (ChainConflict, "a computation request with this id exists"),
    "product_closed": (ChainConflict, "the product is retired or delisted"),
    "not_listed": (ChainConflict, "the product is not listed (paused, retired or delisted)"),
    "unchanged": (ChainConflict, "the product already has that availability"),
    "price_changed": (
        ChainConflict,
        "the price rose above what you were quoted; check the new price and buy again",
    ),
    "bond_changed": (ChainConflict, "the claim bond changed; check it and file again"),
    "free_purchase": (ChainConflict, "a free purchase cannot release a stake"),
    "below_floor": (
        ChainConflict,
        "this purchase paid less than the price the product was published at: it cannot "
        "approve the product",
    ),
    "own_product": (ChainConflict, "a product's owner cannot approve its own product"),
    "not_approved": (ChainConflict, "no buyer has approved this product yet"),
    "release_not_due": (
        ChainConflict,
        "the stake is released one claim window after the first approval; try again then",
    ),
    "already_consented": (ChainConflict, "this account already consented to the union"),
    "already_approved": (ChainConflict, "this purchase already approved the product"),
    "already_claimed": (ChainConflict, "this purchase already has a claim"),
    "already_attested": (ChainConflict, "this node already attested this computation"),
    "claim_open": (ChainConflict, "a claim on this product is open; wait for the ruling"),
    "claim_window_closed": (ChainConflict, "the claim window of this purchase has closed"),
    "stake_not_locked": (ChainConflict, "the product's stake was already released or slashed"),
    "computation_not_held": (
        ChainConflict,
        "the payment is not held: it was paid out, reclaimed or refunded already",
    ),
    "delivery_attested": (
        ChainConflict,
        "a compute node attested delivery of this computation: it can no longer be refused",
    ),
    "deadline_not_passed": (ChainConflict, "the computation deadline has not passed yet"),
    "not_delivered": (
        ChainConflict,
        "the computation was not delivered and paid out (its payment is reclaimed after the "
        "deadline, or was refunded if the nodes refused it)",
    ),
    "market_already_set": (ChainConflict, "the registry is already wired to a market"),
    "market_not_set": (ChainConflict, "the registry is not wired to a market: redeploy"),
    "already_paused": (ChainConflict, "the marketplace is already paused"),
    "not_paused": (ChainConflict, "the marketplace is not paused"),
    "too_many_nodes": (ChainConflict, "the node registry is full (64)"),
    # arguments
    "bad_product_id": (InvalidTransaction, "the product id must not be zero"),
    "bad_mode": (InvalidTransaction, "the access mode must be batch, stream or analytics"),
    "bad_prices": (InvalidTransaction, "only the prices of the product's access mode may be set"),
    "bad_availability": (InvalidTransaction, "availability must be listed, paused or retired"),
    "bad_weight": (InvalidTransaction, "union member weights must be between 1 and 1,000,000"),
    "bad_request_id": (InvalidTransaction, "the request id must not be zero"),
    "bad_result_key": (InvalidTransaction, "the hash of the result key must not be zero"),
    "bad_commitment": (InvalidTransaction, "the result commitment must not be zero"),
    "bad_refusal_reason": (InvalidTransaction, "a refusal must give its reason (an error code)"),
    "bad_node_key": (InvalidTransaction, "the node's HPKE public key must not be zero"),
    "bad_node_endpoint": (InvalidTransaction, "the node's endpoint must not be empty"),
    "bad_window": (InvalidTransaction, "windows and deadlines must be positive"),
    "bad_threshold": (InvalidTransaction, "at least one attestation must be required"),
    "fee_too_high": (InvalidTransaction, "the platform fee may not exceed 20%"),
    "stake_too_low": (InvalidTransaction, "the stake is below the marketplace's minimum"),
    "too_few_members": (InvalidTransaction, "a union needs at least two members"),
    "weights_mismatch": (InvalidTransaction, "give one weight per member"),
    "members_not_sorted": (InvalidTransaction, "members must be distinct (sorted ascending)"),
    "mixed_modes": (InvalidTransaction, "union members must share one access mode"),
    "wrong_access_mode": (InvalidTransaction, "the product is sold in another access mode"),
    "subscription_too_short": (InvalidTransaction, "below the product's shortest subscription"),
    "duplicate_item": (InvalidTransaction, "a product appears twice in the request"),
    "no_items": (InvalidTransaction, "a computation needs at least one product"),
    "grant_expired": (InvalidTransaction, "the grant's expiry must be in the future"),
    "zero_address": (InvalidTransaction, "the zero address is not allowed"),
    "drip_out_of_range": (InvalidTransaction, "the faucet gives between 1 and its maximum"),
    # tokens (snekmate's ERC-20 reasons)
    "erc20: insufficient allowance": (
        InsufficientFunds,
        "the contract may not spend that much DATA for you: approve it first",
    ),
    "erc20: transfer amount exceeds balance": (InsufficientFunds, "not enough DATA"),
    "erc20: transfer to the zero address": (
        InvalidTransaction,
        "DATA cannot be sent to the zero address",
    ),
    "erc20: approve to the zero address": (
        InvalidTransaction,
        "the zero address cannot be allowed to spend DATA",
    ),
    "transfer_failed": (InsufficientFunds, "a DATA transfer failed"),
    # roles (snekmate's access control, behind Authority.grantRole / revokeRole)
    "access_control: account is missing role": (
        NotPermitted,
        "only a platform admin may grant or revoke roles",
    ),
    "access_control: can only renounce roles for itself": (
        NotPermitted,
        "an account may renounce only its own roles",
    ),
    "insufficient_gas_funds": (InsufficientFunds, "not enough ether to pay for gas"),
}


def reverted(reason: str, action: str) -> Reverted:
    """The error for a revert ``reason`` raised while doing ``action``."""
    kind, message = REASONS.get(reason, (Reverted, f"the contract refused: {reason}"))
    return kind(f"{action}: {message}", reason=reason)
