"""Creating accounts and resolving bearer tokens to them."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kraken_market.accounts.models import AccessToken, Account
from kraken_market.db.base import utcnow
from kraken_market.errors import Conflict, InvalidRequest, NotFound, Unauthenticated
from kraken_market.types import AccountRef

TOKEN_PREFIX = "kmt_"  # noqa: S105 (a prefix that makes leaked tokens recognisable)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account every owner check and history entry refers to."""

    account: AccountRef
    name: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, name: str) -> tuple[Account, str]:
        """Create an account and its first token; the token is returned once and never stored."""
        if not _NAME.fullmatch(name):
            raise InvalidRequest(
                "account names are 1-63 characters: lowercase letters, digits, '.', '_' or '-'",
                details={"name": name},
            )
        account_id = f"acct_{name}"
        if self.session.get(Account, account_id) is not None:
            raise Conflict(f"account {name!r} exists already", details={"account": account_id})
        account = Account(id=account_id, name=name, created_at=utcnow())
        self.session.add(account)
        self.session.flush()
        return account, self.issue_token(account.id)

    def issue_token(self, account_id: str) -> str:
        if self.session.get(Account, account_id) is None:
            raise NotFound(f"no account {account_id!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.session.add(
            AccessToken(digest=_digest(token), account_id=account_id, created_at=utcnow())
        )
        return token

    def revoke_tokens(self, account_id: str) -> int:
        """Revoke every live token of the account; returns how many."""
        if self.session.get(Account, account_id) is None:
            raise NotFound(f"no account {account_id!r}")
        result = self.session.execute(
            update(AccessToken)
            .where(AccessToken.account_id == account_id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return int(getattr(result, "rowcount", 0))

    def list(self) -> list[Account]:
        return list(self.session.scalars(select(Account).order_by(Account.created_at, Account.id)))

    def authenticate(self, token: str) -> Principal:
        row = self.session.execute(
            select(Account.id, Account.name)
            .join(AccessToken, AccessToken.account_id == Account.id)
            .where(AccessToken.digest == _digest(token), AccessToken.revoked_at.is_(None))
        ).first()
        if row is None:
            raise Unauthenticated("the bearer token is unknown or revoked")
        return Principal(account=AccountRef(row.id), name=row.name)
