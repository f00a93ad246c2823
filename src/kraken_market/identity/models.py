"""Identity tables: login nonces, sessions, sign-in requests, hosted status lists and
DID-account bindings.

Session and refresh tokens are stored only as SHA-256 digests (a leaked
database opens no session). A session row keeps the status entries of the
credentials it was opened with, so a sensitive action re-checks them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kraken_market.db.base import Base, UtcDateTime

DID = String(2048)
DIGEST = String(64)


class AuthNonce(Base):
    __tablename__ = "auth_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuthSession(Base):
    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_digest: Mapped[str] = mapped_column(DIGEST, unique=True)
    refresh_digest: Mapped[str] = mapped_column(DIGEST, unique=True)
    did: Mapped[str] = mapped_column(DID, index=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(DID)
    roles: Mapped[list[str]] = mapped_column(JSON)
    buyer_categories: Mapped[list[str]] = mapped_column(JSON)
    company_scope: Mapped[list[str]] = mapped_column(JSON)
    credentials: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """Per credential: ``type``, ``issuer``, ``id`` and its status entry (or null)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    refresh_expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))


class SigninRequestFields:
    """One OpenID4VP authorization request (``identity.signin``) and what became of it;
    the marketplace and each Depute tool (a verifier of its own) keep a table of them.

    The transaction id and the same-device response code are stored as digests only;
    no session token is ever stored here: the verified identity waits in ``identity``
    and the session opens when the creating page redeems the result.
    """

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    transaction_digest: Mapped[str] = mapped_column(DIGEST, unique=True)
    flow: Mapped[str] = mapped_column(String(16))
    act_for: Mapped[str | None] = mapped_column(DID)
    nonce: Mapped[str] = mapped_column(String(43))
    state: Mapped[str] = mapped_column(String(43))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    """``pending``, ``signed_in`` (identity verified) or ``refused``."""
    refusal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response_code_digest: Mapped[str | None] = mapped_column(DIGEST)
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SigninRequest(SigninRequestFields, Base):
    __tablename__ = "signin_requests"


class WalletRequest(Base):
    """A signature asked of a signed-in person's wallet (``identity.wallet_requests``):
    the same request/response shape as sign-in, for what a wallet signs rather than
    presents (binding the DID to a ledger account first). The transaction id is
    stored as a digest only."""

    __tablename__ = "wallet_requests"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    transaction_digest: Mapped[str] = mapped_column(DIGEST, unique=True)
    did: Mapped[str] = mapped_column(DID)
    """The signed-in person whose wallet must answer."""
    kind: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(43))
    state: Mapped[str] = mapped_column(String(43))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    """``pending``, ``done`` or ``refused``."""
    refusal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    asked: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What the wallet is asked to sign beyond the kind: a transaction's fields (account,
    chain id, target, call data, nonce, gas, fees) or a message's text."""


class HostedStatusList(Base):
    """A status list credential the platform's registry serves at a stable URL."""

    __tablename__ = "status_lists"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    issuer: Mapped[str] = mapped_column(DID, index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    credential: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    revoked_count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DidBinding(Base):
    """A DID bound to a ledger account, signed by both keys (``identity.binding``)."""

    __tablename__ = "did_bindings"

    did: Mapped[str] = mapped_column(DID, primary_key=True)
    account: Mapped[str] = mapped_column(String(42), index=True)
    binding: Mapped[str] = mapped_column(Text)
    account_signature: Mapped[str] = mapped_column(String(132))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
