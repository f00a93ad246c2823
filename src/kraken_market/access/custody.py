"""Key custody on a compute node: hold sealed key shares, release them to paying buyers.

This is the node's half of owner-offline fulfilment. The seller deposits one
HPKE-sealed share of a data key with each node; after a buyer pays on chain,
each node decides *by reading the chain itself* (never the marketplace API)
whether to re-seal its share to the buyer's ephemeral X25519 key.

Deposit (``POST /keys``) is accepted when the EIP-191 signature is the
depositor's, covers this share, the share opens with this node's key for the
item, key id and position named, and the depositor owns the product on chain
now. The same content again is a no-op; other content for the same item and
key id is ``key_exists``, unless the stored depositor no longer owns the
product (a transferred product's new owner deposits afresh).

Release (``POST /keys/release``) requires, in this order, each refusal with
its code: a valid signature by ``buyer`` (``signature_invalid``) issued within
300 s of the node's clock (``request_stale``; a replay inside the window only
gets the same share sealed to the same buyer key); a deposit
(``key_unknown``); its depositor still the product's owner
(``depositor_not_owner``); the purchase on chain (``purchase_unknown``), made
by the signer, of the right kind (access for a batch key, subscription for
``epoch-<n>``) and covering the product directly or through a Data Union
(``purchase_mismatch``); a valid grant now for the buyer, the covering item
and the purchase's purpose (``grant_missing``); for an epoch key, the
subscription paid past the epoch's ``not_before`` (``not_paid``). A refusal
changes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Protocol

from kraken_market.access.custody_store import CustodyStore
from kraken_market.access.errors import (
    DepositorNotOwner,
    GrantMissing,
    KeyExists,
    KeyShareInvalid,
    KeyUnknown,
    NotPaid,
    ProductUnknown,
    PurchaseMismatch,
    PurchaseUnknown,
    RequestStale,
    SignatureInvalid,
)
from kraken_market.access.keyshares import EPOCH_KEY_ID, open_share, seal_for_buyer
from kraken_market.access.wire import (
    DepositReceipt,
    KeyDeposit,
    KeyRelease,
    ReleasedShare,
    b64encode,
    check_signer,
    sha256_hex,
)
from kraken_market.errors import ValidationFailed
from kraken_market.ledger.model import PurchaseKind, PurchaseRecord
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey

MAX_SKEW = 300


class CustodyChain(Protocol):
    """The chain reads custody needs (``smpc.node.authorise.LedgerChain`` has them)."""

    def product_owner(self, item: bytes) -> str | None: ...

    def purchase(self, purchase_id: int) -> PurchaseRecord | None: ...

    def members(self, item: bytes) -> list[bytes] | None: ...

    def has_grant(self, buyer: str, item: bytes, purpose: int) -> bool: ...

    def paid_until(self, buyer: str, item: bytes) -> int: ...


class KeyCustody:
    def __init__(
        self,
        database: Path,
        key: NodeKeyPair,
        chain: CustodyChain,
        *,
        chain_lock: threading.Lock | None = None,
        clock: Callable[[], float] = time.time,
        max_skew: int = MAX_SKEW,
    ) -> None:
        self.store = CustodyStore(database)
        self.key, self.chain, self.clock, self.max_skew = key, chain, clock, max_skew
        self._chain_lock: AbstractContextManager[object] = chain_lock or nullcontext()
        self._lock = threading.Lock()  # one decision at a time per (item, key id) check+write

    def close(self) -> None:
        self.store.close()

    # -- deposit --------------------------------------------------------------------------

    def deposit(self, deposit: KeyDeposit) -> DepositReceipt:
        """Store a seller's deposit after the checks in the module docstring."""
        depositor = check_signer(deposit.message(), deposit.signature, deposit.depositor)
        m, index = len(deposit.share_digests), deposit.node_index
        if index >= m or 2 * deposit.threshold >= m:
            raise KeyShareInvalid(f"share {index} with threshold {deposit.threshold} of {m} nodes")
        if sha256_hex(deposit.share_bytes) != deposit.share_digests[index].lower():
            raise SignatureInvalid(f"the signed deposit does not name this sealed share {index}")
        share = open_share(
            deposit.share_bytes, self.key, deposit.item, deposit.key_id, index,
            deposit.commitment_bytes, deposit.not_before,
        )  # fmt: skip
        if (share.t, share.m) != (deposit.threshold, m):
            raise KeyShareInvalid(f"the share is one of t={share.t}, m={share.m}, not as signed")
        owner = self._owner(deposit.item)
        if not _same(owner, depositor):
            raise DepositorNotOwner(f"{depositor} does not own {deposit.item} on chain")
        with self._lock:
            stored = self.store.find(deposit.item, deposit.key_id)
            if stored is not None and stored.same_content(deposit):
                return _receipt(stored, created=False)
            if stored is not None and _same(stored.depositor, owner):
                raise KeyExists(
                    f"this node holds another key {deposit.key_id!r} for {deposit.item}: "
                    "encrypt the new file under a new key id",
                    details={"key_commitment": stored.key_commitment},
                )
            self.store.put(deposit)
        return _receipt(deposit, created=True)

    # -- release --------------------------------------------------------------------------

    def release(self, request: KeyRelease) -> ReleasedShare:
        """This node's share re-sealed to the buyer, after the checks in the module docstring."""
        buyer = check_signer(request.message(), request.signature, request.buyer)
        skew = self.clock() - request.issued_at
        if abs(skew) > self.max_skew:
            raise RequestStale(
                f"the request is {abs(int(skew))} s {'old' if skew > 0 else 'in the future'} "
                f"by this node's clock (at most {self.max_skew} s either way): sign a new one, "
                "or check the clock",
                details={"node_time": int(self.clock())},
            )
        deposit = self.store.find(request.item, request.key_id)
        if deposit is None:
            raise KeyUnknown(f"this node holds no key {request.key_id!r} for {request.item}")
        with self._chain_lock:
            self._check_chain(request, deposit, buyer)
        share = open_share(
            deposit.share_bytes, self.key, deposit.item, deposit.key_id, deposit.node_index,
            deposit.commitment_bytes, deposit.not_before,
        )  # fmt: skip
        try:
            sealed = seal_for_buyer(
                share, NodePublicKey(request.buyer_key_bytes), deposit.item, deposit.key_id,
                deposit.commitment_bytes,
            )  # fmt: skip
        except Exception as exc:  # a low-order point: X25519 gives the all-zero secret
            raise ValidationFailed.of(
                ("body", "buyer_public_key"), "value_error", "not a usable X25519 public key"
            ) from exc
        self.store.record_release(request)
        return ReleasedShare(
            item=deposit.item.lower(),
            key_id=deposit.key_id,
            node_index=deposit.node_index,
            key_commitment=deposit.key_commitment.lower(),
            sealed_share=b64encode(sealed),
        )

    def _owner(self, item: str) -> str:
        with self._chain_lock:
            owner = self.chain.product_owner(bytes.fromhex(item[2:]))
        if owner is None:
            raise ProductUnknown(f"no product {item} on chain")
        return owner

    def _check_chain(self, request: KeyRelease, deposit: KeyDeposit, buyer: str) -> None:
        item = bytes.fromhex(request.item[2:])
        owner = self.chain.product_owner(item)
        if owner is None or not _same(owner, deposit.depositor):
            raise DepositorNotOwner(
                f"the key for {request.item} was deposited by {deposit.depositor}, who no longer "
                "owns the product: its owner must deposit it again"
            )
        purchase = self.chain.purchase(request.purchase_id)
        if purchase is None:
            raise PurchaseUnknown(f"no purchase {request.purchase_id} on chain")
        if not _same(purchase.buyer, buyer):
            raise PurchaseMismatch(f"purchase {request.purchase_id} was made by another account")
        epoch = EPOCH_KEY_ID.fullmatch(request.key_id) is not None
        kind = PurchaseKind.SUBSCRIPTION if epoch else PurchaseKind.ACCESS
        if purchase.kind != kind:
            raise PurchaseMismatch(
                f"purchase {request.purchase_id} is a {purchase.kind.name.lower()}, "
                f"a {kind.name.lower()} is needed for key {request.key_id!r}"
            )
        covering = [i for i in purchase.items if i == item or item in (self.chain.members(i) or [])]
        if not covering:
            raise PurchaseMismatch(
                f"purchase {request.purchase_id} does not cover {request.item} (nor a union of it)"
            )
        granted = [i for i in covering if self.chain.has_grant(buyer, i, purchase.purpose)]
        if not granted:
            raise GrantMissing(
                f"{buyer} holds no valid grant for {request.item} "
                f"(purpose {purchase.purpose}): ask the marketplace for one"
            )
        if epoch:
            paid = max(self.chain.paid_until(buyer, i) for i in granted)
            if paid <= deposit.not_before:
                raise NotPaid(
                    f"the subscription is paid until {paid}, before epoch {request.key_id} "
                    f"starts ({deposit.not_before}): extend it",
                    details={"paid_until": paid, "not_before": deposit.not_before},
                )


def _same(account: str, other: str) -> bool:
    return account.lower() == other.lower()


def _receipt(deposit: KeyDeposit, *, created: bool) -> DepositReceipt:
    return DepositReceipt(
        item=deposit.item.lower(),
        key_id=deposit.key_id,
        node_index=deposit.node_index,
        key_commitment=deposit.key_commitment.lower(),
        created=created,
    )
