"""A company's chain desk as the employee's machine sees it (CLI and SDK alike).

A company's products are owned on chain by the company's account, which only its
Depute tool holds. When an employee acting for the company does something on chain
for such a product (publish, sync, share, join a union), their machine asks the
tool, found through KCIT's ``depute_url``, proving who asks with the employee's DID
and PersonCredential (``depute.desk`` checks the authorisation). Runs on the
employee's machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kraken_market.client import ApiError, MarketClient
from kraken_market.depute.client import (
    DeskSigner,
    join_union_for_company,
    publish_for_company,
    sync_for_company,
)
from kraken_market.errors import InvalidRequest
from kraken_market.identity.keys import DidKey


@dataclass(frozen=True)
class Employee:
    """Who asks a company's desk: their DID key and PersonCredential(s) (JWTs)."""

    key: DidKey
    persons: list[str]


@dataclass(frozen=True)
class CompanyDesk:
    url: str
    company: str
    holder: DidKey
    tokens: list[str]

    def publish(self, product: str, **body: Any) -> dict[str, Any]:
        return publish_for_company(self.url, self.holder, self.tokens, product, **body)

    def sync(self, product: str) -> dict[str, Any]:
        return sync_for_company(self.url, self.holder, self.tokens, product)

    def join_union(self, union_id: str, wait: float) -> dict[str, Any]:
        return join_union_for_company(self.url, self.holder, self.tokens, union_id, wait=wait)

    def signer(self) -> DeskSigner:
        """Signs the product's share manifests and key deposits through the tool."""
        return DeskSigner(self.url, self.holder, self.tokens, self.company)


def find_company_desk(
    api: MarketClient, product: str, employee: Callable[[], Employee]
) -> CompanyDesk | None:
    """The desk of the company that owns ``product`` (a company in KCIT: public reads),
    or None when a person owns it (who acts from their own account). ``employee`` is
    asked only when a desk is found (the CLI unlocks the wallet then)."""
    owner = str(api.product(product)["owner"])
    try:
        company = api.company(owner)
    except ApiError as exc:
        if exc.api_code == "company_not_found":
            return None  # a person's product
        raise
    if not company.get("depute_url"):
        raise InvalidRequest(
            f"{company['legal_name']} has not bound its ledger account through its Depute "
            "tool yet: ask its representative to start the tool",
            details={"company": owner},
        )
    who = employee()
    return CompanyDesk(str(company["depute_url"]), owner, who.key, who.persons)
