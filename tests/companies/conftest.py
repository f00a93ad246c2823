"""KCIT fixtures: people with real did:key DIDs, signed in through an injected fake
authenticator (no patching), and helpers to prove that a refused request changed nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kraken_market.api.app import create_app
from kraken_market.client import MarketClient
from kraken_market.companies.models import Company, CompanyAudit
from kraken_market.db.engine import make_session_factory
from kraken_market.errors import Unauthenticated
from kraken_market.identity.dids import did_key
from kraken_market.identity.principal import ADMIN, Principal
from kraken_market.settings import Settings
from kraken_market.types import AccountRef

LEI = "529900T8BM49AURSDO55"
OTHER_LEI = "5493001KJTIIGC8Y1R12"


def new_did() -> str:
    return did_key(Ed25519PrivateKey.generate().public_key())


class FakeAuthenticator:
    """Bearer token → principal, as the identity platform's sessions would give;
    ``revoked`` DIDs fail ``recheck`` like a credential revoked after login."""

    def __init__(self) -> None:
        self.principals: dict[str, Principal] = {}
        self.revoked: set[str] = set()

    def add(self, name: str, roles: frozenset[str]) -> tuple[str, Principal]:
        did = new_did()
        principal = Principal(account=AccountRef(did), name=name, did=did, roles=roles)
        token = f"token-{name}-{len(self.principals)}"
        self.principals[token] = principal
        return token, principal

    def authenticate(self, token: str) -> Principal:
        try:
            return self.principals[token]
        except KeyError:
            raise Unauthenticated("unknown test token") from None

    def recheck(self, principal: Principal) -> None:
        if principal.did in self.revoked:
            raise Unauthenticated("a credential behind this session was revoked")


@dataclass
class Person:
    principal: Principal
    token: str
    headers: dict[str, str]
    api: MarketClient

    @property
    def did(self) -> str:
        return self.principal.did


@pytest.fixture
def authenticator() -> FakeAuthenticator:
    return FakeAuthenticator()


@pytest.fixture
def app(settings: Settings, engine: Engine, authenticator: FakeAuthenticator) -> FastAPI:
    return create_app(settings, engine=engine, authenticator=authenticator)


def _person(app: FastAPI, authenticator: FakeAuthenticator, name: str, admin: bool) -> Person:
    token, principal = authenticator.add(name, frozenset({ADMIN}) if admin else frozenset())
    headers = {"Authorization": f"Bearer {token}"}
    return Person(principal, token, headers, MarketClient(TestClient(app, headers=headers)))


@pytest.fixture
def admin(app: FastAPI, authenticator: FakeAuthenticator) -> Person:
    """A platform admin (``PlatformRoleCredential`` with role admin)."""
    return _person(app, authenticator, "admin", admin=True)


@pytest.fixture
def rep(app: FastAPI, authenticator: FakeAuthenticator) -> Person:
    """A company's representative: signed in, no platform role."""
    return _person(app, authenticator, "rep", admin=False)


@pytest.fixture
def other(app: FastAPI, authenticator: FakeAuthenticator) -> Person:
    """Someone else, signed in, no platform role."""
    return _person(app, authenticator, "other", admin=False)


@pytest.fixture
def anyone(app: FastAPI) -> Iterator[MarketClient]:
    """An anonymous reader."""
    with TestClient(app) as http:
        yield MarketClient(http)


def company_body(did: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "did": did or new_did(),
        "legal_name": "Ospedale San Raffaele S.r.l.",
        "registration_number": "MI-1234567",
        "lei": LEI,
        "country": "IT",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def db_state(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every company and audit row, to compare before and after a refused request."""
    with make_session_factory(engine)() as session:
        companies = [
            tuple(getattr(c, col.key) for col in Company.__table__.columns)
            for c in session.scalars(select(Company).order_by(Company.seq))
        ]
        audit = [
            tuple(getattr(a, col.key) for col in CompanyAudit.__table__.columns)
            for a in session.scalars(select(CompanyAudit).order_by(CompanyAudit.id))
        ]
    return companies, audit
