"""Whether a buyer may buy a product for a purpose: the off-chain policy check the
platform's verifier makes before it records a grant on chain (ARCHITECTURE.md,
"Grants": policies are too rich for the chain).

Facts about the buyer come only from verified credentials behind the session:
buyer categories from ``BuyerCategoryCredential``s (a person acting for
themselves is also an ``individual``, an employee acting for a company also a
``company``), the country from the ``PersonCredential`` (or the company's KCIT
entry), and the credential types held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kraken_market.catalog.schemas import Policy
from kraken_market.trade.errors import NotEligible, ProductNotForSale

EU = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    }
)
"""The 27 member states of the European Union (ISO 3166-1 alpha-2; Greece is GR)."""
EEA = EU | {"IS", "LI", "NO"}


@dataclass(frozen=True)
class Buyer:
    categories: frozenset[str]
    country: str | None
    credential_types: frozenset[str]


def regions_cover(regions: Iterable[str], country: str) -> bool:
    groups = {"EU": EU, "EEA": EEA}
    return any(country == r or country in groups.get(r, ()) for r in regions)


def check(policy: Policy, buyer: Buyer, purpose: str, now: datetime) -> None:
    """Raise ``NotEligible`` naming the first rule the buyer does not meet."""
    if policy.expires_at is not None and policy.expires_at <= now:
        raise ProductNotForSale(
            "the product's policy has expired: no new purchases",
            details={"expires_at": policy.expires_at.isoformat()},
        )
    if purpose not in policy.purposes:
        raise NotEligible(
            f"the product may not be bought for {purpose!r}",
            details={"rule": "purpose", "allowed": [str(p) for p in policy.purposes]},
        )
    allowed = {str(c) for c in policy.buyer_categories}
    if not buyer.categories & allowed:
        raise NotEligible(
            "your credentials prove none of the buyer categories this product allows",
            details={
                "rule": "buyer_category",
                "allowed": sorted(allowed),
                "yours": sorted(buyer.categories),
            },
        )
    missing = sorted(set(map(str, policy.credential_types)) - buyer.credential_types)
    if missing:
        raise NotEligible(
            "present these credentials at login to buy this product: " + ", ".join(missing),
            details={"rule": "credential_types", "missing": missing},
        )
    if policy.regions:
        regions = [str(r) for r in policy.regions]
        if buyer.country is None or not regions_cover(regions, buyer.country):
            unknown = (
                "; your PersonCredential names no country: get one that does from your "
                "identity issuer and log in again (the newest one counts)"
                if buyer.country is None
                else ""
            )
            raise NotEligible(
                "the product is sold only to buyers in " + ", ".join(regions) + unknown,
                details={"rule": "region", "allowed": regions, "yours": buyer.country},
            )
