"""The buyer's side of a purchase: the grant through the API, the payment on chain.

Every purchase is two steps: the API checks the buyer's credentials against
the product policy and the verifier records a grant on chain for the buyer's
bound account (:meth:`MarketClient.grant`); then the buyer pays from that
account, signing locally (``Market.buy_access`` / ``subscribe`` /
``request_computation``). The grant is asked only when the chain shows none
valid for the purpose (a retry does not ask twice).

A repeat purchase is asked for explicitly: buying access to an item this
account has bought before (its ``AccessPurchased`` events on chain) is refused
``already_bought`` unless ``again``, and buying time on a stream whose paid time
has not run out (``Market.paid_until``) is refused ``subscription_active``
unless ``extend`` (the time is added to what is left). Both are read from the
chain before anything is asked or paid, so they hold without a session too.

Computations are idempotent by their request id: the id is chosen (and kept
by the caller) before paying, and paying an id already paid by this account is
not sent again, so a buyer who crashed between paying and submitting retries
with the same id and pays once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import Conflict
from kraken_market.ledger.client import Ledger
from kraken_market.ledger.model import purpose_code
from kraken_market.smpc.keys import NodePublicKey
from kraken_market.trade.publishers import ChainOwnerUnverified


class PaidByOther(Conflict):
    code = "request_paid_by_other"


class AlreadyBought(Conflict):
    """This account bought access to the item before; paying again needs ``again``."""

    code = "already_bought"


class SubscriptionActive(Conflict):
    """The account's paid time on the stream has not run out; adding to it needs
    ``extend``."""

    code = "subscription_active"


def _moment(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Purchase:
    item: str
    purchase_id: int
    amount: int
    transaction: str | None
    paid_until: int | None = None
    """A subscription's end (Unix seconds, chain time)."""


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


def check_not_bought(ledger: Ledger, item: str) -> None:
    """Refuse a second purchase of ``item`` by ``ledger``'s account (``already_bought``)."""
    earlier = [int(e.args["purchase_id"]) for e in ledger.access_purchases(ledger.address, item)]
    if earlier:
        listed = ", ".join(str(p) for p in earlier)
        raise AlreadyBought(
            f"{ledger.address} bought access to {item} already (purchase {listed})",
            details={
                "item": item,
                "buyer": ledger.address,
                "purchases": earlier,
                "purchase": earlier[-1],
            },
        )


def check_not_subscribed(ledger: Ledger, item: str, seconds: int) -> None:
    """Refuse to add time to a subscription that has not run out (``subscription_active``)."""
    until = ledger.paid_until(ledger.address, item)
    if until > ledger.chain_time():
        raise SubscriptionActive(
            f"{ledger.address}'s subscription to {item} is paid until {_moment(until)}; "
            f"{seconds} s more would make it {_moment(until + seconds)}",
            details={"item": item, "buyer": ledger.address, "paid_until": until},
        )


def buy_access(
    client: MarketClient,
    ledger: Ledger,
    item: str,
    purpose: str,
    max_amount: int | None = None,
    *,
    again: bool = False,
) -> Purchase:
    """Buy access to a batch product (or union) at its price quoted now, paying at most
    ``max_amount`` base units (the price shown to the buyer: a price raised meanwhile
    refuses the purchase, ``price_changed``); refused if this account bought it
    before, unless ``again``."""
    if not again:
        check_not_bought(ledger, item)
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
    *,
    extend: bool = False,
) -> Purchase:
    """Buy ``seconds`` of a stream, paying at most ``max_amount`` base units; while paid
    time is left, only with ``extend`` (the seconds are then added to it)."""
    if not extend:
        check_not_subscribed(ledger, item, seconds)
    ensure_grant(client, ledger, item, purpose)
    purchase_id, receipt = ledger.subscribe(item, purpose_code(purpose), seconds, max_amount)
    event = receipt.first("Subscribed").args
    return Purchase(
        item, purchase_id, int(event["amount"]), receipt.tx_hash, int(event["paid_until"])
    )


def pay_computation(
    client: MarketClient,
    ledger: Ledger,
    request_id: str,
    function_digest: bytes,
    items: Sequence[str],
    purpose: str,
    result_key: NodePublicKey,
    max_amount: int | None = None,
) -> Purchase:
    """Pay for computation ``request_id`` (held until the nodes deliver), at most
    ``max_amount`` (the quoted price; default: the price now); an id this account
    already paid is not paid again."""
    existing = ledger.computation(request_id)
    if existing is not None and existing.purchase_id:
        if existing.buyer.lower() != ledger.address.lower():
            raise PaidByOther(f"request {request_id} was paid by another account: use a new id")
        return Purchase(request_id, existing.purchase_id, existing.amount, None)
    for item in items:
        ensure_grant(client, ledger, item, purpose)
    key_hash = hashlib.sha256(result_key.raw).digest()
    purchase_id, receipt = ledger.request_computation(
        request_id, function_digest, list(items), purpose_code(purpose), key_hash, max_amount
    )
    amount = int(receipt.first("ComputationRequested").args["amount"])
    return Purchase(request_id, purchase_id, amount, receipt.tx_hash)


class QuoteRefused(Conflict):
    """The quote found what would make the job fail or be suppressed: nothing was paid."""

    code = "quote_refused"


def refuse_unpayable(quote: dict[str, Any]) -> None:
    """:class:`QuoteRefused` (before anything is paid) when the API's quote
    (``MarketClient.quote_computation``) names a problem."""
    if quote["payable"]:
        return
    problems = quote["problems"]
    listed = "; ".join(p["message"] for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    raise QuoteRefused(
        f"not paying: {listed}{more}",
        details={"problems": problems, "warnings": quote["warnings"]},
    )


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
