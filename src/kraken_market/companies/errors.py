"""KCIT errors; each ``code`` is part of the public API::

    KrakenError
    ├── InvalidRequest (422)
    │   ├── InvalidLei                    invalid_lei (ISO 17442 format or check digits)
    │   ├── InvalidCountry                invalid_country (not ISO 3166-1 alpha-2)
    │   └── IdentifierRequired            company_identifier_required
    ├── Forbidden (403)
    │   ├── AdminRequired                 admin_required
    │   ├── NotRepresentative             not_representative
    │   └── RepresentativePrivate         representative_private (asked by someone else)
    ├── NotFound (404)
    │   └── CompanyNotFound               company_not_found
    └── Conflict (409)
        ├── CompanyExists                 company_exists (same DID or same LEI)
        └── CompanyStatusConflict         company_status_conflict

A malformed DID is :class:`kraken_market.identity.errors.InvalidDid` (``invalid_did``).
"""

from __future__ import annotations

from kraken_market.errors import Conflict, Forbidden, InvalidRequest, NotFound


class InvalidLei(InvalidRequest):
    code = "invalid_lei"


class InvalidCountry(InvalidRequest):
    code = "invalid_country"


class IdentifierRequired(InvalidRequest):
    """A company is identified by a registration number, an LEI or both; never neither."""

    code = "company_identifier_required"


class AdminRequired(Forbidden):
    code = "admin_required"


class NotRepresentative(Forbidden):
    """Without the admin role one registers only companies one represents oneself."""

    code = "not_representative"


class RepresentativePrivate(Forbidden):
    """Who represents a company is told only to that person and to the company."""

    code = "representative_private"


class CompanyNotFound(NotFound):
    code = "company_not_found"


class CompanyExists(Conflict):
    code = "company_exists"


class CompanyStatusConflict(Conflict):
    code = "company_status_conflict"
