"""One running Depute tool: its configuration, the company's issuer, its database,
the marketplace it serves, and the lock that keeps the issuer consistent.

The issuer's state is one file rewritten on every issue and revocation, so all
its uses go through ``lock`` (one Depute process per company; requests run in
the server's thread pool). Collaborators are arguments (the marketplace client,
the clock), so tests pass their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx2
from sqlalchemy.orm import Session, sessionmaker

from kraken_market.db.base import utcnow
from kraken_market.db.engine import make_engine, make_session_factory
from kraken_market.depute.config import DeputeConfig, open_company
from kraken_market.depute.marketplace import Marketplace
from kraken_market.depute.models import create_schema
from kraken_market.depute.publication import Publisher
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.signin_client import SigninClient, load_signin_key
from kraken_market.identity.trust import TrustRegistry
from kraken_market.identity.verifier import LoginVerifier

SIGNIN_REQUESTS_PATH = "/api/signin/requests/"
SIGNIN_COMPLETE_PATH = "/login/complete?response_code="
"""In the query, not a fragment: these pages have no script to read a fragment."""


@dataclass
class Depute:
    config: DeputeConfig
    issuer: Issuer
    marketplace: Marketplace
    sessions: sessionmaker[Session]
    lock: threading.RLock
    publisher: Publisher
    now: Callable[[], datetime]
    signin: SigninClient
    """This tool as an OpenID4VP verifier: the representative signs in with a wallet."""

    @property
    def company(self) -> str:
        return self.config.company

    def verifier(self) -> LoginVerifier:
        """Built per use: the marketplace's trusted issuers may change."""
        return self.marketplace.verifier(self.config.audience, self.config.max_token_bytes)

    def require_identified(self) -> None:
        """The company must be identified in KCIT to log in and to issue (asked now)."""
        TrustRegistry({}, self.marketplace.company_status).check_company(self.company)


def open_depute(
    config: DeputeConfig,
    marketplace: Marketplace | None = None,
    now: Callable[[], datetime] = utcnow,
) -> Depute:
    """Open the company's Depute directory (set up by ``depute init``)."""
    issuer = open_company(config.directory, config.company)
    marketplace = marketplace or Marketplace(
        config.marketplace_url, config.registry, httpx2.Client(timeout=config.http_timeout)
    )
    engine = make_engine(config.database_url)
    create_schema(engine, now())
    sessions = make_session_factory(engine)
    lock = threading.RLock()
    publisher = Publisher(
        issuer, marketplace, sessions, lock, retry_interval=config.retry_interval, now=now
    )
    publisher.reconcile()
    signin = SigninClient(
        load_signin_key(config.directory / "signin.key", create=True),
        "Kraken Market Depute tool",
        config.audience,
        config.challenge_lifetime,
        requests_path=SIGNIN_REQUESTS_PATH,
        complete_path=SIGNIN_COMPLETE_PATH,
    )
    return Depute(config, issuer, marketplace, sessions, lock, publisher, now, signin)
