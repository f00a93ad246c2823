"""The data scientist's ``Marketplace`` counts in DATA: prices, balances and what was
paid as exact Decimals, the most one pays given in DATA; against the API and an
in-process chain (the SDK's collaborators injected, as ``Marketplace.login`` makes them)."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from kraken_market.client import ApiError, MarketClient
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.identity.models import AuthSession
from kraken_market.ledger.errors import InvalidAmount, Reverted
from kraken_market.ledger.indexer import Indexer
from kraken_market.sdk import Marketplace
from kraken_market.trade.publish import publish_on_chain
from tests.conftest import login
from tests.factories import product_body
from tests.ledger.conftest import DATA, Market
from tests.storage.objects import data_file
from tests.trade import test_chain_stake as staked
from tests.trade.test_market_flow import bound

chain, forwarder, indexer, market_app = (
    staked.chain,
    staked.forwarder,
    staked.indexer,
    staked.market_app,
)


def test_the_sdk_shows_and_takes_amounts_in_data(
    market_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    seller, seller_ledger = bound(market_app, chain, "sam", 7)
    body = product_body("batch", prices={"access": str(25 * DATA // 10)}, stake="0")
    product = seller.api.create_product(body)["id"]
    publish_on_chain(seller.api, seller_ledger, product, stake=12 * DATA, wait=0)
    indexer.poll_once()
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    market = Marketplace(buyer.api, ledger, tmp_path)

    assert (market.token.symbol, market.token.decimals) == ("DATA", 18)
    assert market.price(product) == Decimal("2.5")
    [found] = [p for p in market.search("heart") if p["id"] == product]
    assert (found["prices_data"], found["stake_data"]) == ({"access": "2.5"}, "12")
    assert found["prices"]["access"] == str(25 * DATA // 10)  # the API's units stay
    assert market.search("heart", price_max="2.4") == []
    assert market.product(product)["stake_data"] == "12"

    before = market.balance()
    assert before == Decimal(ledger.balance()) / 10**18
    with pytest.raises(Reverted) as too_dear:
        market.buy_access(product, max_price="2.4999")
    assert too_dear.value.reason == "price_changed"
    assert market.balance() == before  # nothing paid
    bought = market.buy_access(product, max_price=Decimal("2.5"))
    assert (bought.price, bought.price_units) == (Decimal("2.5"), 25 * DATA // 10)
    assert market.balance() == before - Decimal("2.5")

    for wrong in (0.1, True, "-1", "0.0000000000000000001"):
        with pytest.raises(InvalidAmount, match="max_price"):
            market.units(wrong, "max_price")  # type: ignore[arg-type]


def test_a_notebook_session_renews_itself_when_its_token_expires(
    app: FastAPI, engine: Engine
) -> None:
    """A session token lasts minutes; a notebook runs for hours. The client renews its
    session with the refresh token (as the web apps do) and sends the call again; a
    refresh token that no longer works still says to log in again."""
    issuer, base = app.state.identity.demo_issuer, app.state.identity.base_url
    key = DidKey.generate()
    session = login(
        app,
        key,
        [issuer.issue(CredentialType.PERSON, {"id": key.did, "name": "Rhea"}, registry_url=base)],
    )
    api = MarketClient(TestClient(app))
    api.use_session(session)
    assert api.me()["did"] == key.did

    def expire(column: str) -> None:  # as 15 minutes (or the refresh's days) later
        with engine.begin() as connection:
            connection.execute(
                update(AuthSession).values({column: datetime.now(UTC) - timedelta(seconds=1)})
            )

    expire("expires_at")
    assert api.me()["did"] == key.did  # renewed, and the call sent again
    renewed = api.http.headers["Authorization"]
    assert renewed != f"Bearer {session['session_token']}"
    assert api.me()["did"] == key.did  # the new token works as it is
    assert api.http.headers["Authorization"] == renewed
    expire("expires_at")
    expire("refresh_expires_at")
    with pytest.raises(ApiError) as ended:
        api.me()
    assert ended.value.api_code == "session_invalid"
    assert "refresh token is unknown, expired or already used" in ended.value.message


def notebook(app: FastAPI, name: str) -> tuple[MarketClient, DidKey]:
    """A client in a whole login session (with its refresh token), as a notebook holds."""
    issuer, base = app.state.identity.demo_issuer, app.state.identity.base_url
    key = DidKey.generate()
    person = issuer.issue(CredentialType.PERSON, {"id": key.did, "name": name}, registry_url=base)
    api = MarketClient(TestClient(app))
    api.use_session(login(app, key, [person]))
    return api, key


def expire_sessions(engine: Engine) -> None:
    """As 15 minutes later: every session token has expired (refresh tokens still work)."""
    with engine.begin() as connection:
        connection.execute(
            update(AuthSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_uploads_sizes_and_downloads_renew_an_expired_session(
    app: FastAPI, engine: Engine, tmp_path: Path
) -> None:
    """Not only JSON calls: the upload (its bytes read again), the HEAD for a size and
    the streamed download renew the session too; a HEAD refused says its code (in a header) and
    downloads nothing."""
    api, _ = notebook(app, "rhea")
    item = api.create_product(product_body("batch"))["id"]
    path = tmp_path / "cohort.kdata"
    path.write_bytes(data_file(item, 2 << 20, chunk_size=1 << 20))
    sent: list[tuple[int, int]] = []

    expire_sessions(engine)
    token = api.http.headers["Authorization"]
    name = api.upload_object(item, "cohort.kdata", path, progress=lambda d, t: sent.append((d, t)))
    assert api.http.headers["Authorization"] != token
    assert sent.count((0, path.stat().st_size)) == 1  # upload_target renewed: one PUT
    expire_sessions(engine)  # the PUT itself meets the expired token: sent twice, whole
    other = api.upload_object(item, "second.kdata", path)
    with api.open_object(other) as stream:
        assert stream.read() == path.read_bytes()

    expire_sessions(engine)
    assert api.object_size(name) == path.stat().st_size
    expire_sessions(engine)
    with api.open_object(name) as stream:
        assert stream.read() == path.read_bytes()

    stranger, _ = notebook(app, "sam")
    downloads: list[str] = []
    stranger.http.event_hooks["request"].append(lambda r: downloads.append(r.method))
    with pytest.raises(ApiError) as refused:
        stranger.object_size(name)
    assert (refused.value.status_code, refused.value.api_code) == (403, "object_not_readable")
    assert downloads == ["HEAD"]  # no GET of the whole object for a reason


def test_threads_sharing_a_client_renew_its_session_once(app: FastAPI, engine: Engine) -> None:
    """A refresh token works once: of two threads that both meet the expired token, one
    renews and the other sends with the renewed session."""
    api, key = notebook(app, "rhea")
    both_refused = threading.Barrier(2, timeout=30)

    def hold_until_both_refused(response: httpx2.Response) -> None:
        if response.status_code == 401 and response.request.url.path == "/api/v1/auth/me":
            both_refused.wait()

    refreshes: list[str] = []
    api.http.event_hooks["response"].append(hold_until_both_refused)
    api.http.event_hooks["request"].append(
        lambda r: refreshes.extend([r.url.path] if r.url.path.endswith("/refresh") else [])
    )
    expire_sessions(engine)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: api.me()["did"], range(2)))
    assert answers == [key.did, key.did]
    assert refreshes == ["/api/v1/auth/refresh"]  # one renewal for both threads


def test_importing_the_sdk_leaves_the_depute_client_and_the_apps_out() -> None:
    """A notebook's ``import kraken_market.sdk`` stays light: the Depute tool's client
    (asked only by a session acting for a company) and the servers load when used."""
    code = (
        "import sys\n"
        "import kraken_market.sdk\n"
        "heavy = ['kraken_market.depute.client', 'kraken_market.api.app', 'web3']\n"
        "print('heavy:' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "heavy:"
