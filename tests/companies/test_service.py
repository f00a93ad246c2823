"""The domain core without HTTP: ``CompanyService.status_of`` (what the identity
verifier asks) and a refused call leaving the session's transaction unwritten."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kraken_market.companies.errors import AdminRequired, CompanyStatusConflict, InvalidLei
from kraken_market.companies.schemas import CompanyCreate
from kraken_market.companies.service import CompanyService
from kraken_market.companies.vocabulary import CompanyStatus
from kraken_market.db.engine import make_session_factory, write_session
from kraken_market.identity.principal import ADMIN, Principal
from kraken_market.types import AccountRef
from tests.companies.conftest import company_body, db_state, new_did


def person(admin: bool = False) -> Principal:
    did = new_did()
    roles = frozenset({ADMIN}) if admin else frozenset()
    return Principal(account=AccountRef(did), name="p", did=did, roles=roles)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with write_session(make_session_factory(engine)) as session:
        yield session


def test_status_of_follows_the_company_through_its_life(session: Session) -> None:
    service = CompanyService(session)
    admin, rep = person(admin=True), person()
    did = new_did()
    assert service.status_of(did) is None
    service.create(rep, CompanyCreate.model_validate(company_body(did)))
    assert service.status_of(did) is CompanyStatus.PENDING
    service.approve(admin, did, None)
    assert service.status_of(did) is CompanyStatus.IDENTIFIED
    service.suspend(admin, did, "court order")
    assert service.status_of(did) is CompanyStatus.SUSPENDED
    service.delete(admin, did, None)
    assert service.status_of(did) is None


def test_status_of_any_text_is_none_not_an_error(session: Session) -> None:
    # The verifier asks about any issuer it meets: unknown means "not a company".
    for text in ("", "not a did", "did:web:unknown.example", "x" * 5000):
        assert CompanyService(session).status_of(text) is None


def test_refused_service_calls_write_nothing(engine: Engine, session: Session) -> None:
    service = CompanyService(session)
    admin, rep = person(admin=True), person()
    did = service.create(admin, CompanyCreate.model_validate(company_body())).did
    before = db_state(engine)
    with pytest.raises(InvalidLei):
        service.create(rep, CompanyCreate.model_validate(company_body(lei="529900T8BM49AURSDO50")))
    with pytest.raises(AdminRequired):
        service.suspend(rep, did, None)
    with pytest.raises(CompanyStatusConflict):
        service.approve(admin, did, None)
    session.rollback()
    assert db_state(engine) == before
    assert service.status_of(did) is CompanyStatus.IDENTIFIED
