"""KCIT's logic: register, create, read, update, approve, suspend, delete, audit.

Each public method is one unit of work and commits it; a refused request
changes nothing (every check runs before the first write, and the session is
rolled back by its owner). Writes need the platform ``admin`` role, except a
self-registration, which any signed-in person makes for a company they
represent and which waits, ``pending``, for an admin's approval. Every change
is kept in the audit log (:mod:`.audit`) with each field before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kraken_market.companies import audit as audit_log
from kraken_market.companies.errors import (
    AdminRequired,
    CompanyExists,
    CompanyNotFound,
    CompanyStatusConflict,
    IdentifierRequired,
    NotRepresentative,
)
from kraken_market.companies.identifiers import check_country, check_lei
from kraken_market.companies.models import Company, CompanyAudit
from kraken_market.companies.schemas import CompanyCreate, CompanyUpdate
from kraken_market.companies.views import is_admin, may_see_private, require_admin
from kraken_market.companies.vocabulary import (
    APPROVABLE,
    SUSPENDABLE,
    AuditAction,
    CompanyStatus,
)
from kraken_market.db.base import utcnow
from kraken_market.errors import ValidationFailed
from kraken_market.identity import binding as bindings
from kraken_market.identity.binding import Binding
from kraken_market.identity.dids import check_did
from kraken_market.identity.errors import HolderMismatch
from kraken_market.identity.models import DidBinding
from kraken_market.identity.principal import Principal
from kraken_market.pagination import SortKey, after, decode_cursor, fingerprint, next_cursor
from kraken_market.types import AccountRef


class CompanyService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def status_of(self, did: str) -> CompanyStatus | None:
        """The status of the company with this DID; ``None``: no company has it.

        What the identity verifier asks (no HTTP) before it accepts a credential
        issued by ``did``: only ``identified`` companies may issue attorney credentials.
        """
        status = self.session.scalar(select(Company.status).where(Company.did == did))
        return None if status is None else CompanyStatus(status)

    def identified(self, did: str) -> CompanyStatus | None:
        """:meth:`status_of` for callers that must send a syntactically valid DID."""
        return self.status_of(check_did(did))

    def is_representative(self, did: str, representative: str) -> bool:
        """Whether ``representative`` is the representative of the company ``did``."""
        company = self._find(did)
        return company is not None and company.representative_did == representative

    def _find(self, did: str, *, lock: bool = False) -> Company | None:
        statement = select(Company).where(Company.did == did)
        return self.session.scalar(statement.with_for_update() if lock else statement)

    def _get(self, did: str, *, lock: bool = False) -> Company:
        company = self._find(check_did(did), lock=lock)
        if company is None:
            raise CompanyNotFound(f"no company {did}", details={"did": did})
        return company

    def read(self, viewer: Principal | None, did: str) -> Company:
        company = self._find(check_did(did))
        if company is None or not (
            company.status == CompanyStatus.IDENTIFIED or may_see_private(viewer, company)
        ):
            # Others learn nothing of a pending or suspended company from this route.
            raise CompanyNotFound(f"no company {did}", details={"did": did})
        return company

    def create(self, principal: Principal, data: CompanyCreate) -> Company:
        """Enter a company: an admin's entry (any status, default ``identified``) or a
        representative's self-registration (always ``pending``)."""
        representative = data.representative_did or principal.did
        if not representative:
            raise ValidationFailed.of(
                ("body", "representative_did"),
                "missing",
                "your sign-in carries no DID: give representative_did",
            )
        check_did(data.did)
        check_did(representative)
        check_country(data.country)
        if data.lei is not None:
            check_lei(data.lei)
        if data.registration_number is None and data.lei is None:
            raise IdentifierRequired("give the company's registration_number, its lei, or both")
        if is_admin(principal):
            status, action = data.status or CompanyStatus.IDENTIFIED, AuditAction.CREATED
        elif representative != principal.did:
            raise NotRepresentative(
                "you may register only a company you represent: representative_did must be "
                "your own DID (admins enter companies for others)",
                details={"representative_did": representative, "your_did": principal.did},
            )
        elif data.status not in (None, CompanyStatus.PENDING):
            raise AdminRequired(
                "only platform admins set a status; a self-registration stays pending "
                "until an admin approves it",
                details={"status": data.status},
            )
        else:
            status, action = CompanyStatus.PENDING, AuditAction.REGISTERED
        self._check_free(data.did, data.lei)
        now = utcnow()
        company = Company(
            did=data.did,
            legal_name=data.legal_name,
            registration_number=data.registration_number,
            lei=data.lei,
            country=data.country,
            representative_did=representative,
            status=status.value,
            level_of_assurance=data.level_of_assurance.value,
            version=1,
            created_at=now,
            updated_at=now,
        )
        self.session.add(company)
        after = audit_log.snapshot(company)
        audit_log.record(self.session, company, action, principal, {}, after, reason=None, at=now)
        try:
            self.session.flush()
        except IntegrityError as exc:  # a concurrent request entered the same DID or LEI
            self.session.rollback()
            raise CompanyExists(
                "a company with this DID or LEI was entered meanwhile", details={"did": data.did}
            ) from exc
        self.session.commit()
        return company

    def _check_free(self, did: str | None, lei: str | None) -> None:
        if did is not None and self._find(did) is not None:
            raise CompanyExists("a company with this DID is registered", details={"did": did})
        if lei is not None and self.session.scalar(select(Company.seq).where(Company.lei == lei)):
            # One LEI names exactly one legal entity (ISO 17442).
            raise CompanyExists("a company with this LEI is registered", details={"lei": lei})

    def update(self, principal: Principal, did: str, data: CompanyUpdate) -> Company:
        require_admin(principal, "change companies")
        company = self._get(did, lock=True)
        values = {name: getattr(data, name) for name in sorted(data.model_fields_set)}
        if values.get("lei") is not None:
            check_lei(values["lei"])
        if "country" in values:
            check_country(values["country"])
        if "representative_did" in values:
            check_did(values["representative_did"])
        registration = values.get("registration_number", company.registration_number)
        if registration is None and values.get("lei", company.lei) is None:
            raise IdentifierRequired("a company keeps a registration_number, an lei, or both")
        if values.get("lei") not in (None, company.lei):
            self._check_free(None, values["lei"])
        before = audit_log.snapshot(company)
        for name, value in values.items():
            setattr(company, name, str(value) if value is not None else None)
        return self._commit_change(company, AuditAction.UPDATED, principal, before, None)

    def approve(self, principal: Principal, did: str, reason: str | None) -> Company:
        """``pending`` or ``suspended`` → ``identified``."""
        require_admin(principal, "approve companies")
        return self._transition(principal, did, APPROVABLE, CompanyStatus.IDENTIFIED, reason)

    def suspend(self, principal: Principal, did: str, reason: str | None) -> Company:
        """``identified`` → ``suspended``: its attorney credentials stop being accepted."""
        require_admin(principal, "suspend companies")
        return self._transition(principal, did, SUSPENDABLE, CompanyStatus.SUSPENDED, reason)

    def _transition(
        self,
        principal: Principal,
        did: str,
        allowed: frozenset[CompanyStatus],
        to: CompanyStatus,
        reason: str | None,
    ) -> Company:
        company = self._get(did, lock=True)
        if company.status not in allowed:
            raise CompanyStatusConflict(
                f"a {company.status} company cannot become {to}",
                details={"did": company.did, "status": company.status, "from": sorted(allowed)},
            )
        before = audit_log.snapshot(company)
        company.status = to.value
        action = AuditAction.APPROVED if to is CompanyStatus.IDENTIFIED else AuditAction.SUSPENDED
        return self._commit_change(company, action, principal, before, reason)

    def delete(self, principal: Principal, did: str, reason: str | None) -> None:
        """Remove a company from the register; its audit log stays."""
        require_admin(principal, "delete companies")
        company = self._get(did, lock=True)
        before, deleted = audit_log.snapshot(company), AuditAction.DELETED
        audit_log.record(
            self.session, company, deleted, principal, before, {}, reason=reason, at=utcnow()
        )
        self.session.delete(company)
        self.session.commit()

    def _commit_change(
        self,
        company: Company,
        action: AuditAction,
        principal: Principal,
        before: dict[str, Any],
        reason: str | None,
    ) -> Company:
        after = audit_log.snapshot(company)
        if after == before:
            self.session.rollback()  # nothing changed: no new version, no audit entry
            return self._get(company.did)
        company.version += 1
        company.updated_at = max(utcnow(), company.updated_at)
        at = company.updated_at
        audit_log.record(
            self.session, company, action, principal, before, after, reason=reason, at=at
        )
        self.session.commit()
        return company

    def account(self, did: str) -> str | None:
        """The ledger account the company bound (``bind_account``), if any."""
        return self.session.scalar(select(DidBinding.account).where(DidBinding.did == did))

    def bind_account(self, did: str, binding: Binding) -> Company:
        """Record the company's own ledger account (and its Depute tool's URL) from a
        binding signed by the company's DID key and by the account: the signatures are
        the authority, as only the company (its Depute tool) holds that DID key. The
        company must be identified: its products are then owned on chain by this
        account, and only it is vouched for (``trade.publishers.verified``)."""
        company = self._get(check_did(did), lock=True)
        if binding.did != company.did:
            raise HolderMismatch(
                "a company binds its account with a binding signed by its own DID",
                details={"did": company.did, "signed_by": binding.did},
            )
        if company.status != CompanyStatus.IDENTIFIED:
            raise CompanyStatusConflict(
                f"a {company.status} company cannot bind an account: it must be identified",
                details={"did": company.did, "status": company.status},
            )
        before = audit_log.snapshot(company)
        bindings.record(self.session, binding, company.did, commit=False)
        company.depute_url = binding.service
        actor = Principal(AccountRef(company.did), company.legal_name, did=company.did)
        after = audit_log.snapshot(company)
        company.version += before != after
        audit_log.record(
            self.session,
            company,
            AuditAction.ACCOUNT,
            actor,
            before,
            after,
            reason=f"ledger account {binding.account}",
            at=utcnow(),
        )
        self.session.commit()
        return company

    def audit(self, principal: Principal, did: str) -> list[CompanyAudit]:
        """Every change to the company with this DID, oldest first (also once deleted)."""
        require_admin(principal, "read the audit log")
        rows = audit_log.entries(self.session, check_did(did))
        if not rows:
            raise CompanyNotFound(f"no company {did}, now or before", details={"did": did})
        return rows

    def list(
        self,
        viewer: Principal | None,
        statuses: Sequence[CompanyStatus],
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Company], str | None]:
        """Companies in ``statuses``, newest first; only admins list other than identified."""
        if set(statuses) - {CompanyStatus.IDENTIFIED}:
            require_admin(viewer, "list pending or suspended companies")
        keys = [SortKey(Company.seq, descending=True)]
        filters = fingerprint(status=sorted(statuses))
        statement = select(Company, Company.seq).where(
            Company.status.in_([s.value for s in statuses])
        )
        if cursor:
            statement = statement.where(
                after(keys, decode_cursor(cursor, "companies", filters, keys))
            )
        rows = self.session.execute(statement.order_by(Company.seq.desc()).limit(limit + 1)).all()
        page = [row[0] for row in rows[:limit]]
        if len(rows) <= limit:
            return page, None
        return page, next_cursor("companies", filters, keys, rows[limit - 1][1:])
