"""Who may see what of a company, and the API view that follows from it."""

from __future__ import annotations

from kraken_market.companies.errors import AdminRequired
from kraken_market.companies.models import Company
from kraken_market.companies.schemas import CompanyPublic
from kraken_market.companies.vocabulary import CompanyStatus, LevelOfAssurance
from kraken_market.identity.principal import ADMIN, Principal


def is_admin(principal: Principal | None) -> bool:
    return principal is not None and principal.has_role(ADMIN)


def require_admin(principal: Principal | None, what: str) -> None:
    if not is_admin(principal):
        account = principal.account if principal is not None else None
        raise AdminRequired(f"only platform admins {what}", details={"account": account})


def is_representative(principal: Principal | None, company: Company) -> bool:
    return (
        principal is not None
        and bool(principal.did)
        and principal.did == company.representative_did
    )


def may_see_private(viewer: Principal | None, company: Company) -> bool:
    """Admins and the company's representative see a pending or suspended company
    and the representative's DID; everyone else sees identified companies only."""
    return is_admin(viewer) or is_representative(viewer, company)


def public(company: Company, viewer: Principal | None, account: str | None = None) -> CompanyPublic:
    """The API view of a company row as ``viewer`` may see it (``account``: the ledger
    account the company bound, if the caller looked it up)."""
    private = may_see_private(viewer, company)
    return CompanyPublic(
        did=company.did,
        legal_name=company.legal_name,
        registration_number=company.registration_number,
        lei=company.lei,
        country=company.country,
        # The representative is a natural person: their DID is personal data.
        representative_did=company.representative_did if private else None,
        status=CompanyStatus(company.status),
        level_of_assurance=LevelOfAssurance(company.level_of_assurance),
        account=account,
        depute_url=company.depute_url,
        version=company.version,
        created_at=company.created_at,
        updated_at=company.updated_at,
    )
