"""Who may put a catalog product on chain, and whether the chain's owner is vouched for.

A product id is public before it is published, and ``Registry.publish`` accepts any
unused id from anyone: without a check, someone could publish another seller's
product first and collect its buyers' payments. So a product is *verified* on
chain only when its on-chain owner is the account bound to the catalog owner's
own DID, or an account the owner registered through the API as the one they
publish from. The verifier grants only verified products; the buyer's SDK pays
only verified products.

A company's products are owned on chain by the company's own account (bound by
the company: ``companies.service.bind_account``), which its Depute tool holds
and publishes from when an authorised employee asks. An employee's personal
account is never vouched for: a company keeps its products, their revenue and
their prices when it revokes an employee.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kraken_market.catalog.errors import NotProductOwner
from kraken_market.catalog.service import ProductService
from kraken_market.db.base import utcnow
from kraken_market.errors import Conflict
from kraken_market.identity.models import DidBinding
from kraken_market.identity.principal import Principal
from kraken_market.trade.errors import BindingRequired
from kraken_market.trade.records import ProductPublisher


class ChainOwnerUnverified(Conflict):
    code = "chain_owner_unverified"


class CompanyAccountRequired(Conflict):
    code = "company_account_required"


def register(session: Session, principal: Principal, product_id: str) -> ProductPublisher:
    """Name the caller's bound account as the product's publisher (its owner only);
    replaces an earlier one."""
    product = ProductService(session).get(product_id)
    if product.owner != principal.account:
        raise NotProductOwner("only the product's owner names its publisher")
    if principal.did != product.owner:
        raise CompanyAccountRequired(
            f"{product.owner}'s products are published from the company's own account by "
            "its Depute tool: 'kraken-market trade publish' asks it for you",
            details={"company": product.owner},
        )
    account = session.scalar(select(DidBinding.account).where(DidBinding.did == principal.did))
    if account is None:
        raise BindingRequired(
            "bind your DID to the account you publish from first: 'kraken-market wallet bind'"
        )
    row = session.get(ProductPublisher, product.id)
    if row is None:
        row = ProductPublisher(product_id=product.id, account="", did="", created_at=utcnow())
        session.add(row)
    row.account, row.did, row.created_at = account, principal.did, utcnow()
    session.commit()
    return row


def verified(session: Session, product_id: str, chain_owner: str, owner_did: str | None) -> bool:
    """Whether ``chain_owner`` (the product's owner on chain) is vouched for."""
    catalog_owner = ProductService(session).get(product_id).owner
    if owner_did is not None and owner_did == catalog_owner:
        return True
    registered = session.scalar(
        select(ProductPublisher.account).where(
            ProductPublisher.product_id == product_id.lower(),
            func.lower(ProductPublisher.account) == chain_owner.lower(),
            ProductPublisher.did == catalog_owner,  # never an employee's own account
        )
    )
    return registered is not None
