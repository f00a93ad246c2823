"""Interim tokens: stored as digests only, revocable at once."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import Account


def test_database_holds_only_token_digests(engine: Engine, alice: Account) -> None:
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT digest FROM access_tokens")).scalars().all()
    assert len(stored) == 1
    assert alice.token not in stored[0]
    assert len(stored[0]) == 64


def test_revoked_tokens_stop_working_at_once(
    http: TestClient, engine: Engine, alice: Account
) -> None:
    from kraken_market.accounts.service import AccountService
    from kraken_market.db.engine import make_session_factory, write_session

    assert http.get("/api/v1/accounts/me", headers=alice.headers).status_code == 200
    with write_session(make_session_factory(engine)) as session:
        assert AccountService(session).revoke_tokens("acct_alice") == 1
        session.commit()
    answer = http.get("/api/v1/accounts/me", headers=alice.headers)
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated")
    assert answer.headers["www-authenticate"] == "Bearer"
