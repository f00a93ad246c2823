"""The trusted-issuer registry: which issuer DIDs the marketplace believes, for which
credential types.

Persons, platform roles and buyer categories are trusted from configured
issuer DIDs (the platform's identity issuer; in development the demo issuer).
An ``AttorneyCredential`` is trusted when its issuer is a company *identified*
in KCIT — asked at every check, so suspending a company takes effect at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.credentials import VerifiedCredential
from kraken_market.identity.errors import CompanyNotIdentified, CredentialInvalid, UntrustedIssuer

IDENTIFIED = "identified"

CompanyStatusOf = Callable[[str], str | None]
"""A company DID's KCIT status (``identified``, ``pending``, ``suspended``) or None if unknown."""


class TrustRegistry:
    def __init__(
        self, trusted: Mapping[CredentialType, frozenset[str]], company_status: CompanyStatusOf
    ) -> None:
        self.trusted = {type_: frozenset(dids) for type_, dids in trusted.items()}
        self.company_status = company_status

    def issuers_of(self, type_: CredentialType) -> frozenset[str]:
        return self.trusted.get(type_, frozenset())

    def vouched(self, issuer: str) -> bool:
        """Whether ``issuer`` is trusted for some credential type, or is a company
        identified in KCIT (whose Depute tool issues attorney credentials)."""
        if any(issuer in dids for dids in self.trusted.values()):
            return True
        return self.company_status(issuer) == "identified"

    def check(self, credential: VerifiedCredential) -> None:
        """Raise unless ``credential``'s issuer is trusted for its type."""
        if credential.type is CredentialType.ATTORNEY:
            self.check_company(credential.issuer)
            company = credential.subject.get("company", {}).get("id")
            if company != credential.issuer:
                raise CredentialInvalid(
                    "an AttorneyCredential must be issued by the company it names",
                    details={"issuer": credential.issuer, "company": company},
                )
            return
        if credential.issuer not in self.issuers_of(credential.type):
            raise UntrustedIssuer(
                f"{credential.issuer} is not trusted to issue {credential.type.value}s",
                details={"issuer": credential.issuer, "type": credential.type.value},
            )

    def check_company(self, did: str) -> None:
        status = self.company_status(did)
        if status != IDENTIFIED:
            shown = "unknown to KCIT" if status is None else f"{status} in KCIT"
            raise CompanyNotIdentified(
                f"company {did} is {shown}; only identified companies may authorise employees",
                details={"company": did, "status": status},
            )
