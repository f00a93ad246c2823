"""The words of KCIT: a company's status and the level of assurance of its identification."""

from __future__ import annotations

from enum import StrEnum


class CompanyStatus(StrEnum):
    """Where a company stands in the register.

    ``pending``: registered by its representative, not yet checked by an admin.
    ``identified``: an admin checked it; its DID may issue attorney credentials.
    ``suspended``: was identified, an admin withdrew that (its credentials stop working).
    """

    PENDING = "pending"
    IDENTIFIED = "identified"
    SUSPENDED = "suspended"


class LevelOfAssurance(StrEnum):
    """How strongly the platform checked who the company is (an enum so that stronger
    levels, e.g. eIDAS "substantial"/"high" or a verified LEI credential, can be added)."""

    SELF_REGISTRATION = "self-registration"


class AuditAction(StrEnum):
    REGISTERED = "registered"  # self-registration by the representative (pending)
    CREATED = "created"  # entered by an admin
    UPDATED = "updated"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    DELETED = "deleted"
    ACCOUNT = "account"  # the company bound its ledger account (and named its Depute tool)


APPROVABLE = frozenset({CompanyStatus.PENDING, CompanyStatus.SUSPENDED})
SUSPENDABLE = frozenset({CompanyStatus.IDENTIFIED})
