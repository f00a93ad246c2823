"""Who is calling: bearer-token authentication behind a replaceable interface.

Routes depend only on ``CurrentPrincipal`` (``api.deps``). What turns a bearer
token into a :class:`Principal` is the app's :class:`Authenticator`; the
interim :class:`AccessTokenAuthenticator` looks tokens up in the database, and
the identity issue installs one that checks verifiable-credential sessions,
without touching any route.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from kraken_market.accounts.service import AccountService, Principal


class Authenticator(Protocol):
    def authenticate(self, token: str) -> Principal:
        """The principal behind ``token``; raises ``Unauthenticated`` if there is none."""
        ...


class AccessTokenAuthenticator:
    """Interim: opaque tokens created by ``kraken-market accounts create``."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def authenticate(self, token: str) -> Principal:
        with self.sessions() as session:
            return AccountService(session).authenticate(token)
