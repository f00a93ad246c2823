"""The buyer's side of a purchase: the grant through the API, the payment on chain.

Every purchase is two steps: the API checks the buyer's credentials against
the product policy and the verifier records a grant on chain for the buyer's
bound account (:meth:`MarketClient.grant`); then the buyer pays from that
account, signing locally (``Market.buy_access`` / ``subscribe`` /
``request_computation``). The grant is asked only when the chain shows none
valid for the purpose (a retry does not ask twice).

Computations are idempotent by their request id: the id is chosen (and kept
by the caller) before paying, and paying an id already paid by this account is
not sent again, so a buyer who crashed between paying and submitting retries
with the same id and pays once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import Conflict
from kraken_market.ledger.client import Ledger
from kraken_market.ledger.model import purpose_code
from kraken_market.smpc.keys import NodePublicKey
from kraken_market.trade.publishers import ChainOwnerUnverified


class PaidByOther(Conflict):
    code = "request_paid_by_other"


@dataclass(frozen=True)
class Purchase:
    item: str
    purchase_id: int
    amount: int
    transaction: str | None


def check_seller(client: MarketClient, item: str) -> None:
    """Refuse to pay for a product whose on-chain owner its seller did not register
    (someone else published its id first): the payment would go to them."""
    try:
        state = client.chain_state(item)
    except ApiError as exc:
        if exc.api_code == "product_not_found":
            return  # a Data Union: its members were checked when it was granted
        raise
    if state["published"] and not state["verified"]:
        raise ChainOwnerUnverified(
            f"{item} is on chain under {state['owner']}, an account its seller did not "
            "register: not paying",
            details={"owner": state["owner"]},
        )


def ensure_grant(client: MarketClient, ledger: Ledger, item: str, purpose: str) -> None:
    """A valid grant for ``item`` and ``purpose`` on chain for ``ledger``'s account, and
    a seller the marketplace vouches for."""
    check_seller(client, item)
    if not ledger.has_grant(ledger.address, item, purpose_code(purpose)):
        client.grant(item, purpose)


def buy_access(
    client: MarketClient, ledger: Ledger, item: str, purpose: str, max_amount: int | None = None
) -> Purchase:
    """Buy access to a batch product (or union) at its price quoted now, paying at most
    ``max_amount`` base units (the price shown to the buyer: a price raised meanwhile
    refuses the purchase, ``price_changed``)."""
    ensure_grant(client, ledger, item, purpose)
    purchase_id, receipt = ledger.buy_access(item, purpose_code(purpose), max_amount)
    amount = int(receipt.first("AccessPurchased").args["amount"])
    return Purchase(item, purchase_id, amount, receipt.tx_hash)


def subscribe(
    client: MarketClient,
    ledger: Ledger,
    item: str,
    purpose: str,
    seconds: int,
    max_amount: int | None = None,
) -> Purchase:
    """Buy ``seconds`` of a stream (added to any paid time left), paying at most
    ``max_amount`` base units."""
    ensure_grant(client, ledger, item, purpose)
    purchase_id, receipt = ledger.subscribe(item, purpose_code(purpose), seconds, max_amount)
    amount = int(receipt.first("Subscribed").args["amount"])
    return Purchase(item, purchase_id, amount, receipt.tx_hash)


def pay_computation(
    client: MarketClient,
    ledger: Ledger,
    request_id: str,
    function_digest: bytes,
    items: Sequence[str],
    purpose: str,
    result_key: NodePublicKey,
) -> Purchase:
    """Pay for computation ``request_id`` (held until the nodes deliver); an id this
    account already paid is not paid again."""
    existing = ledger.computation(request_id)
    if existing is not None and existing.purchase_id:
        if existing.buyer.lower() != ledger.address.lower():
            raise PaidByOther(f"request {request_id} was paid by another account: use a new id")
        return Purchase(request_id, existing.purchase_id, existing.amount, None)
    for item in items:
        ensure_grant(client, ledger, item, purpose)
    key_hash = hashlib.sha256(result_key.raw).digest()
    purchase_id, receipt = ledger.request_computation(
        request_id, function_digest, list(items), purpose_code(purpose), key_hash
    )
    amount = int(receipt.first("ComputationRequested").args["amount"])
    return Purchase(request_id, purchase_id, amount, receipt.tx_hash)


def computation_job(
    request_id: str, computation: dict[str, Any], products: Sequence[str], key: NodePublicKey
) -> dict[str, Any]:
    """The body of ``POST /computations`` for a job."""
    return {
        "request_id": request_id,
        "computation": computation,
        "products": list(products),
        "result_public_key": key.raw.hex(),
    }
