"""A member owner's side of a Data Union on chain: propose it, consent to it, withdraw it.

A union is sold by the chain's ``Registry``, which needs the consent of every
member's current owner, each signing from their own account (KRAKEN D5.4,
figure 2; the same rules as the catalog's, :mod:`kraken_market.catalog.unions`).
The catalog entry records the proposal and the consents for people to read; the
chain is what a buyer pays. :func:`join_on_chain` brings the chain in line with
the catalog for one owner, from that owner's wallet: it proposes the union with
the catalog's members and weights when the chain has no proposal of them, else
it gives this account's consent if the chain still awaits it; the last consent
creates the union on chain. The API shows the union ``active`` once its
indexer has seen that (``UnionCreated``); :func:`join_on_chain` waits for it.

Running it again is harmless: nothing is sent that the chain already holds.
``kraken-market unions create|consent`` and the SDK's ``Marketplace.create_union``
and ``consent_union`` run :func:`join_for_session` after the catalog step: for a
session acting for a company, the company's account signs, through its Depute tool
(:mod:`kraken_market.depute.company_desk`). Runs on the owner's machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kraken_market.client import MarketClient
from kraken_market.errors import Conflict, InvalidRequest
from kraken_market.ledger.client import Ledger

if TYPE_CHECKING:
    from kraken_market.depute.company_desk import CompanyDesk, Employee

CONSENT_GIVEN = 2
"""``Registry.consent_of``: this account's consent to the current proposal is given."""


class UnionProposedOtherwise(Conflict):
    """The chain holds a proposal of the same products with other weights."""

    code = "union_weights_differ"


@dataclass(frozen=True)
class UnionOnChain:
    union_id: str
    sent: str | None
    """What this call sent: ``propose`` or ``consent``; None when the chain needed
    nothing from this account."""
    transaction: str | None
    consents_missing: int
    """Owners whose consent the chain still awaits (0: the union is on chain)."""
    status: str
    """The API's status of the union after the wait: ``pending``, ``awaiting_chain``
    (the indexer has not seen it yet) or ``active``."""
    company: str | None = None
    """The company whose account signed, through its Depute tool; None: the caller's."""


def join_for_session(
    client: MarketClient,
    ledger: Ledger,
    union_id: str,
    employee: Callable[[], Employee],
    *,
    wait: float = 30.0,
) -> UnionOnChain | None:
    """:func:`join_on_chain` for whoever ``client``'s session is: a person signs from
    ``ledger``'s account; an employee acting for a company has the company's Depute
    tool sign from the company's account (the owner on chain of its products), asked
    with ``employee``'s DID and PersonCredential. None when acting for a company none
    of whose products is a member (nothing to sign for it)."""
    company = client.me().get("company")
    if not company:
        return join_on_chain(client, ledger, union_id, wait=wait)
    members = [m["product_id"] for m in client.union(union_id)["members"]]
    desk = company_desk(client, str(company), members, employee)
    if desk is None:
        return None
    done = desk.join_union(union_id, wait)
    return UnionOnChain(
        union_id,
        done["sent"],
        done["transaction"],
        int(done["consents_missing"]),
        str(done["status"]),
        company=str(company),
    )


def join_on_chain(
    client: MarketClient, ledger: Ledger, union_id: str, *, wait: float = 30.0
) -> UnionOnChain:
    """Propose ``union_id`` (a catalog union) on chain, or consent to it there, from
    ``ledger``'s account (an owner of a member product); then wait up to ``wait``
    seconds for the API to show it ``active`` when this completed it."""
    union = client.union(union_id)
    weights = {m["product_id"].lower(): int(m["weight"]) for m in union["members"]}
    on_chain = ledger.union(union_id)
    sent: str | None = None
    transaction: str | None = None
    if on_chain is None:
        _, receipt = ledger.propose_union(dict(weights))
        sent, transaction = "propose", receipt.tx_hash
    else:
        _same_weights(union_id, weights, on_chain)
        if on_chain["status"] == "pending" and (
            ledger.union_consent(union_id, ledger.address) != CONSENT_GIVEN
        ):
            sent, transaction = "consent", ledger.consent_union(union_id).tx_hash
    now = ledger.union(union_id)
    missing = 0 if now is None else int(now["consents_missing"])
    status = _wait_status(client, union_id, wait if missing == 0 else 0.0)
    return UnionOnChain(union_id, sent, transaction, missing, status)


def company_desk(
    client: MarketClient, company: str, products: list[str], employee: Callable[[], Employee]
) -> CompanyDesk | None:
    """The Depute tool that signs for ``company``'s products among ``products`` (the
    first it owns), or None when it owns none of them. Refused when the tool cannot be
    asked: the company unknown to KCIT, its tool not bound yet, or ``employee`` unable
    to say who asks. Call it before the catalog changes, and again to sign."""
    from kraken_market.depute.company_desk import find_company_desk

    for product in products:
        if str(client.product(product)["owner"]) != company:
            continue
        desk = find_company_desk(client, product, employee)
        if desk is None:  # the catalog says the company owns it; KCIT does not know it
            raise InvalidRequest(
                f"{company} is not in the company register (KCIT): ask the platform's "
                "admin to register it before its products join a union",
                details={"company": company},
            )
        return desk
    return None


def withdraw_on_chain(ledger: Ledger, union_id: str) -> str | None:
    """Withdraw the chain's pending proposal of ``union_id`` (as the owner of a member);
    the transaction, or None when the chain holds no pending proposal of it."""
    on_chain = ledger.union(union_id)
    if on_chain is None or on_chain["status"] != "pending":
        return None
    return ledger.reject_union(union_id).tx_hash


def _same_weights(union_id: str, weights: dict[str, int], on_chain: dict[str, Any]) -> None:
    chain_weights = {"0x" + member.hex(): weight for member, weight in on_chain["members"].items()}
    if chain_weights != weights:
        raise UnionProposedOtherwise(
            f"the chain holds a proposal of union {union_id} with other weights than the "
            "catalog's: withdraw it with 'kraken-market unions reject' and propose it again",
            details={"catalog": weights, "chain": chain_weights},
        )


def _wait_status(client: MarketClient, union_id: str, wait: float) -> str:
    deadline = time.monotonic() + wait
    while True:
        status: str = client.union(union_id)["status"]
        if status == "active" or time.monotonic() >= deadline:
            return status
        time.sleep(0.2)
