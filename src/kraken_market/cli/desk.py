"""The CLI's way to a company's chain desk (``depute.company_desk``): the wallet's DID
and PersonCredential prove who asks; the wallet is unlocked only when a company owns
the product."""

from __future__ import annotations

import functools

from kraken_market.client import MarketClient
from kraken_market.depute.company_desk import CompanyDesk, Employee, find_company_desk


@functools.cache
def wallet_employee() -> Employee:
    """The selected wallet as the employee asking a desk (asks for its passphrase once
    per command)."""
    from kraken_market.cli.wallet import unlocked

    wallet = unlocked(None)
    return Employee(wallet.keys.did_key, [c.token for c in wallet.credentials("PersonCredential")])


def company_desk(api: MarketClient, product: str) -> CompanyDesk | None:
    """The desk of the company that owns ``product``, or None for a person's product."""
    return find_company_desk(api, product, wallet_employee)
