"""The CLI's way to a company's chain desk (``depute.company_desk``): the wallet's DID
and PersonCredential prove who asks; the wallet is unlocked only when a company owns
the product."""

from __future__ import annotations

from kraken_market.client import MarketClient
from kraken_market.depute.company_desk import CompanyDesk, Employee, find_company_desk


class WalletEmployee:
    """The selected wallet as the employee asking a desk, unlocked at the first ask
    (the passphrase is asked once per command, and only when a desk is asked)."""

    def __init__(self) -> None:
        self._employee: Employee | None = None

    def __call__(self) -> Employee:
        if self._employee is None:
            from kraken_market.cli.wallet import unlocked

            wallet = unlocked(None)
            persons = [c.token for c in wallet.credentials("PersonCredential")]
            self._employee = Employee(wallet.keys.did_key, persons)
        return self._employee


def company_desk(api: MarketClient, product: str) -> CompanyDesk | None:
    """The desk of the company that owns ``product``, or None for a person's product."""
    return find_company_desk(api, product, WalletEmployee())
