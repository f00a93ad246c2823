"""The CLI's way to a company's chain desk: when a command acts on chain for a product
a company owns, it asks the company's Depute tool (found in KCIT), proving who asks
with the wallet's DID and PersonCredential (``depute.desk``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kraken_market.client import MarketClient
from kraken_market.depute.client import (
    DeskSigner,
    join_union_for_company,
    publish_for_company,
    sync_for_company,
)
from kraken_market.errors import InvalidRequest
from kraken_market.identity.keys import DidKey


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


def company_desk(api: MarketClient, product: str) -> CompanyDesk | None:
    """The desk of the company that owns ``product`` (a company in KCIT: public reads),
    or None when a person owns it (who acts from their own account)."""
    from kraken_market.cli.wallet import unlocked
    from kraken_market.client import ApiError

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
    wallet = unlocked(None)
    persons = [c.token for c in wallet.credentials("PersonCredential")]
    return CompanyDesk(str(company["depute_url"]), owner, wallet.keys.did_key, persons)
