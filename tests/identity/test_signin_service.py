"""``identity.signin`` without HTTP: expiry, races for one request, the response code,
the verifier key's file (SQLite and PostgreSQL)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from kraken_market.db.engine import write_session
from kraken_market.errors import KrakenError
from kraken_market.identity import presentations
from kraken_market.identity.keys import DidKey
from kraken_market.identity.models import SigninRequest
from kraken_market.identity.openid4vp import Flow
from kraken_market.identity.platform import IdentityPlatform
from kraken_market.identity.signin import SigninService
from kraken_market.identity.signin_client import load_signin_key
from kraken_market.identity.signin_errors import (
    RequestAnswered,
    RequestClosed,
    RequestExpired,
    ResponseCodeMismatch,
    ResultRedeemed,
    SigninKeyMissing,
)
from kraken_market.settings import Settings
from tests.identity.conftest import Platform
from tests.identity.signin_kit import later


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    with write_session(app.state.sessions) as session:
        yield session


def service(app: FastAPI, session: Session) -> SigninService:
    signin: SigninService = app.state.identity.signin(session)
    return signin


def vp(
    platform: Platform, signin: SigninService, request_id: str, key: DidKey
) -> dict[str, list[str]]:
    with platform.app.state.sessions() as session:
        row = session.get(SigninRequest, request_id)
        assert row is not None
        nonce = row.nonce
    token = presentations.present(
        key, [platform.person_credential(key)], audience=signin.client.client_id, nonce=nonce
    )
    return {"person": [token]}


def state_of(app: FastAPI, request_id: str) -> str:
    session: Session
    with app.state.sessions() as session:
        row = session.get(SigninRequest, request_id)
        assert row is not None
        return row.state


def test_an_expired_request_is_closed_and_its_result_says_so(
    platform: Platform, db: Session
) -> None:
    signin = service(platform.app, db)
    created = signin.create(Flow.CROSS_DEVICE, None)
    with pytest.raises(RequestClosed) as closed:
        signin.request_object(created.request_id, now=later(301))
    assert closed.value.details == {"reason": "expired"}
    key = DidKey.generate()
    answer = vp(platform, signin, created.request_id, key)
    state = state_of(platform.app, created.request_id)
    with pytest.raises(RequestExpired):
        signin.answer(created.request_id, state=state, vp_token=answer, now=later(301))
    assert signin.result(created.transaction_id, None, now=later(301)).status == "expired"
    assert signin.result(created.transaction_id, None).status == "pending"


def test_of_two_answers_racing_one_wins(platform: Platform) -> None:
    app = platform.app
    with write_session(app.state.sessions) as session:
        created = service(app, session).create(Flow.CROSS_DEVICE, None)
        token = vp(platform, service(app, session), created.request_id, DidKey.generate())
    state = state_of(app, created.request_id)

    def answer(_: int) -> str:
        with write_session(app.state.sessions) as session:
            try:
                service(app, session).answer(created.request_id, state=state, vp_token=token)
            except KrakenError as exc:
                return exc.code
            return "ok"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(answer, range(4)))
    assert outcomes == ["ok"] + [RequestAnswered.code] * 3


def test_a_same_device_result_is_redeemed_once_with_its_code(
    platform: Platform, db: Session
) -> None:
    signin = service(platform.app, db)
    created = signin.create(Flow.SAME_DEVICE, None)
    state = state_of(platform.app, created.request_id)
    token = vp(platform, signin, created.request_id, DidKey.generate())
    redirect = signin.answer(created.request_id, state=state, vp_token=token)
    assert redirect is not None
    code = redirect.split("#response_code=")[1]
    for wrong in (None, "", code[:-1] + ("A" if code[-1] != "A" else "B")):
        with pytest.raises(ResponseCodeMismatch):
            signin.result(created.transaction_id, wrong)
    outcome = signin.result(created.transaction_id, code)
    assert outcome.status == "signed_in" and outcome.identity is not None
    with pytest.raises(ResultRedeemed):
        signin.result(created.transaction_id, code)
    with platform.app.state.sessions() as session:
        row = session.get(SigninRequest, created.request_id)
        assert row is not None and row.identity is None  # nothing kept once redeemed
        assert row.transaction_digest != created.transaction_id  # a digest only


def test_the_signin_key_is_made_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signin.key"
    with pytest.raises(SigninKeyMissing):
        load_signin_key(path, create=False)  # production: never made silently
    with ThreadPoolExecutor(4) as pool:
        keys = list(pool.map(lambda _: load_signin_key(path, create=True), range(4)))
    assert len({k.did for k in keys}) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signin_key(path, create=False).did == keys[0].did
    assert list(path.parent.iterdir()) == [path]


def test_production_without_a_key_refuses_to_start_a_sign_in(app: FastAPI, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "prod", environment="production")
    platform = IdentityPlatform(settings, app.state.sessions)
    with pytest.raises(SigninKeyMissing):
        platform.signin_client()
    assert not settings.resolved_signin_key_file.exists()
