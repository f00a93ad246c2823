"""The seller's side of listing: publish a catalog product on chain, with its stake.

The catalog entry (created through the API) is the description; the chain
record is what buyers pay against. Publishing sends ``Registry.publish`` from
the seller's own account (their wallet key signs locally; the stake is pulled
from it into escrow) with the product's mode, prices, parents and the hashes
of its metadata and policy (:mod:`kraken_market.trade.digests`). The product
shows as listed on chain once the API's indexer has seen the event, which
:func:`publish_on_chain` waits for.

Publishing again is harmless: a product already on chain under the same
account is not sent twice (a retry after a crash cannot lock a second stake).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from kraken_market.catalog.vocabulary import AccessMode, Availability
from kraken_market.client import MarketClient
from kraken_market.errors import Conflict, InvalidRequest
from kraken_market.ledger.client import Ledger
from kraken_market.ledger.model import AvailabilityCode, ModeCode, Prices
from kraken_market.trade.digests import metadata_hash, policy_hash


class PublishedElsewhere(Conflict):
    code = "published_by_other"


@dataclass(frozen=True)
class Publication:
    product_id: str
    owner: str
    transaction: str | None
    """None when the product was already on chain under this account."""
    stake: int
    listed: bool
    """Whether the API's indexer has seen the publication (within the wait)."""


def chain_prices(product: dict[str, Any]) -> Prices:
    prices = product["prices"]

    def amount(name: str) -> int:
        value = prices.get(name)
        return 0 if value is None else int(value)

    return Prices(
        access=amount("access"),
        subscription_per_second=amount("subscription_per_second"),
        subscription_min_seconds=amount("subscription_min_seconds"),
        computation=amount("computation"),
    )


def publish_on_chain(
    client: MarketClient,
    ledger: Ledger,
    product_id: str,
    *,
    stake: int | None = None,
    wait: float = 30.0,
    register: bool = True,
) -> Publication:
    """Publish ``product_id`` (a catalog product you own) from ``ledger``'s account,
    locking ``stake`` (default: the stake the catalog entry declares); then wait up to
    ``wait`` seconds for the API to see it on chain. ``register``: first name that
    account as the product's publisher (``client`` is then the owner's session); a
    company's Depute tool does not, its account being bound to the company."""
    product = client.product(product_id)
    if product["availability"] != Availability.LISTED:
        raise InvalidRequest(
            f"product {product_id} is {product['availability']}: relist it before publishing"
        )
    amount = int(product["stake"]) if stake is None else stake
    existing = ledger.product(product_id)
    transaction: str | None = None
    if existing is not None:
        if existing.owner.lower() != ledger.address.lower():
            raise PublishedElsewhere(
                f"product {product_id} is already on chain, owned by {existing.owner}",
                details={"owner": existing.owner},
            )
    else:
        if register:  # before the chain: nobody else can claim it
            client.register_publisher(product_id)
        receipt = ledger.publish(
            product_id,
            mode=ModeCode.of(AccessMode(product["access_mode"])),
            prices=chain_prices(product),
            metadata_hash=bytes.fromhex(metadata_hash(product)[2:]),
            policy_hash=bytes.fromhex(policy_hash(product)[2:]),
            parents=product["parents"],
            stake=amount,
        )
        transaction = receipt.tx_hash
    listed = _wait_listed(client, product_id, wait)
    return Publication(product_id, ledger.address, transaction, amount, listed)


def _wait_listed(client: MarketClient, product_id: str, wait: float) -> bool:
    deadline = time.monotonic() + wait
    while True:
        if client.chain_state(product_id)["published"]:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def sync_on_chain(client: MarketClient, ledger: Ledger, product_id: str) -> list[str]:
    """Bring the chain record of a published product in line with its catalog entry
    (availability, prices, metadata and policy hashes), from the owner's account: a
    pause, a relisting or a new price applies to the next purchase at once, also for
    buyers who hold a grant already. The names of what changed."""
    product = client.product(product_id)
    current = ledger.product(product_id)
    if current is None:
        raise InvalidRequest(f"{product_id} is not on chain: publish it first ('trade publish')")
    changed: list[str] = []
    availability = AvailabilityCode.of(Availability(product["availability"]))
    if availability != current.availability:
        ledger.set_availability(product_id, availability)
        changed.append(f"availability {availability.name.lower()}")
    prices = chain_prices(product)
    if prices != current.prices:
        ledger.set_prices(product_id, prices)
        changed.append("prices")
    for name, digest, wanted, update in (
        ("metadata", current.metadata_hash, metadata_hash(product), ledger.set_metadata),
        ("policy", current.policy_hash, policy_hash(product), ledger.set_policy),
    ):
        if "0x" + digest.hex() != wanted:
            update(product_id, bytes.fromhex(wanted[2:]))
            changed.append(name)
    return changed
