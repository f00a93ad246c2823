"""``kraken-market wallet answer`` signs a transaction and a message a signed-in page asked
for, against a real served API with a deployment on the in-process chain: the CLI wallet
reads the call itself (ledger.calls), shows it in words, signs, and the marketplace
broadcasts it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct
from eth_tester import EthereumTester, PyEVMBackend
from fastapi import FastAPI, Request, Response
from web3 import EthereumTesterProvider, Web3

from kraken_market.api.app import create_app
from kraken_market.db.base import utcnow
from kraken_market.identity import jose, openid4vp
from kraken_market.identity.keys import DidKey
from kraken_market.ledger.broadcast import Broadcaster
from kraken_market.ledger.calls import encode
from kraken_market.settings import Settings, get_settings
from tests import served
from tests.cli import test_wallet_answer_cli as answering
from tests.cli import test_wallet_cli as base
from tests.cli.test_cli import free_port, serving_on
from tests.ledger.conftest import DATA, Market, _deploy

run = base.run


@pytest.fixture(scope="module")
def chain() -> Market:
    return _deploy("in-process", Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))))


@pytest.fixture
def live_market(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chain: Market) -> Iterator[str]:
    """The API on a real server with the chain and its deployment file; the CLI pointed
    at it (as tests/cli/test_cli.py's live_api)."""
    port = free_port()
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KRAKEN_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("KRAKEN_WALLET_PASSPHRASE", base.PASSPHRASE)
    for name in ("KRAKEN_CONFIG", "KRAKEN_DATABASE_URL", "KRAKEN_API_TOKEN", "KRAKEN_WALLET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    settings = Settings()
    chain.deployment.save(settings.deployment_file)
    app = create_app(settings, token=chain.admin, wallet_chain=Broadcaster(chain.admin))
    with serving_on(app, port) as url:
        yield url
    get_settings.cache_clear()


def linked(url: str) -> dict[str, str]:
    """The wallet in the data directory signs in and links its account (a bind_account
    request answered by the CLI); Bearer headers of its session."""
    headers = answering.signed_in(url)
    body = {"kind": "bind_account"}
    created = served.post(f"{url}/api/v1/wallet-requests", json=body, headers=headers).json()
    code, _, err = run("wallet", "answer", created["wallet_url"], "--yes")
    assert code == 0, err
    return headers


def ask(url: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    created = served.post(f"{url}/api/v1/wallet-requests", json=body, headers=headers)
    assert created.status_code == 201, created.text
    value: dict[str, Any] = created.json()
    return value


def poll(url: str, created: dict[str, Any]) -> dict[str, Any]:
    body = {"transaction_id": created["transaction_id"]}
    value: dict[str, Any] = served.post(f"{url}/api/v1/wallet-requests/result", json=body).json()
    return value


def test_the_cli_wallet_sends_the_transfer_a_page_asked_for(
    live_market: str, tmp_path: Path, chain: Market
) -> None:
    wallet = base.fast_wallet(tmp_path / "data" / "wallet.json", "Alice")
    chain.admin.send_ether(wallet.address, 10**17)  # gas money
    chain.as_(0).drip(5 * DATA, wallet.address)
    headers = linked(live_market)
    friend = EthAccount.create().address
    body = {
        "kind": "transaction",
        "contract": "DataToken",
        "function": "transfer",
        "arguments": [friend, str(3 * DATA)],
    }
    created = ask(live_market, headers, body)

    code, _, err = run("wallet", "answer", created["wallet_url"], stdin="n\n")
    assert code == 1 and "error [declined]" in err
    assert f"Send 3 DATA to {friend}" in err  # read from the call data, in words
    assert f"contract: DataToken at {chain.deployment.token}" in err
    assert "network fee: at most 0.0" in err
    assert poll(live_market, created)["code"] == "wallet_declined"

    created = ask(live_market, headers, body)
    code, out, err = run("wallet", "answer", created["wallet_url"], "--yes", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["kind"], shown["contract"], shown["function"]) == (
        "transaction",
        "DataToken",
        "transfer",
    )
    assert shown["action"] == f"Send 3 DATA to {friend}" and shown["account"] == wallet.address
    done = poll(live_market, created)
    assert (done["status"], done["transaction_status"]) == ("done", "succeeded")
    assert done["transaction_hash"] == shown["transaction_hash"]
    assert chain.admin.balance(friend) == 3 * DATA


def test_the_cli_wallet_signs_a_message_and_refuses_another_accounts_request(
    live_market: str, tmp_path: Path
) -> None:
    wallet = base.fast_wallet(tmp_path / "data" / "wallet.json", "Alice")
    headers = linked(live_market)
    text = "I accept the data licence of product 7."
    created = ask(live_market, headers, {"kind": "message", "text": text})
    code, out, err = run("wallet", "answer", created["wallet_url"], "--yes", "--json")
    assert code == 0, err
    assert f"| {text}" in err  # shown verbatim
    done = poll(live_market, created)
    assert (done["status"], done["account"]) == ("done", wallet.address)
    signer = EthAccount.recover_message(encode_defunct(text=text), signature=done["signature"])
    assert signer == wallet.address == json.loads(out)["account"]

    other = base.fast_wallet(tmp_path / "other.json", "Alice")  # another DID and account
    created = ask(live_market, headers, {"kind": "message", "text": text})
    code, _, err = run(
        "wallet", "answer", created["wallet_url"], "--yes", "--wallet", str(other.path)
    )
    assert code == 1 and "error [signing_request_invalid]" in err
    assert (
        served.post(
            f"{live_market}/api/v1/wallet-requests/result",
            json={"transaction_id": created["transaction_id"]},
        ).status_code
        == 202
    )  # nothing was sent


def hostile_verifier(market: str, chain: Market, asked: dict[str, Any]) -> FastAPI:
    """Another site, with a verifier key of its own, asking for ``asked`` (a transaction)
    and serving a "deployment" in which the marketplace is its own address beside the
    real DATA token (and the real token's decimals): what a wallet that read the
    deployment from the asker would call "the marketplace". It records any answer."""
    key = DidKey.generate()
    client_id = openid4vp.CLIENT_ID_PREFIX + key.did
    forged = chain.deployment.model_copy(update={"market": EVIL})
    app = FastAPI()
    app.state.answers = []

    @app.get("/request")
    def request_object(request: Request) -> Response:
        now = utcnow()
        origin = str(request.base_url).rstrip("/")
        payload = {
            "iss": client_id,
            "aud": openid4vp.STATIC_AUDIENCE,
            "client_id": client_id,
            "response_type": "kraken_signature",
            "response_mode": "direct_post",
            "response_uri": f"{origin}/request/response",
            "nonce": "n" * 24,
            "state": "s" * 24,
            "client_metadata": openid4vp.client_metadata("Kraken Market"),
            "signing_request": asked,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp()),
        }
        body = jose.sign(key, payload, openid4vp.REQUEST_TYP)
        return Response(body, media_type="application/oauth-authz-req+jwt")

    @app.post("/request/response")
    async def answer(request: Request) -> dict[str, str]:
        app.state.answers.append((await request.body()).decode())
        return {}

    @app.get("/api/v1/ledger/deployment")
    def deployment() -> dict[str, Any]:
        return forged.model_dump(mode="json")

    @app.get("/api/v1/ledger/token")
    def token() -> dict[str, Any]:
        value: dict[str, Any] = served.get(f"{market}/api/v1/ledger/token").json()
        return value

    app.state.client_id = client_id
    return app


EVIL = "0x000000000000000000000000000000000000bEEF"


def test_the_cli_wallet_refuses_a_transaction_another_origin_asks_for(
    live_market: str, tmp_path: Path, chain: Market
) -> None:
    wallet = base.fast_wallet(tmp_path / "data" / "wallet.json", "Alice")
    to, data = encode(chain.deployment, "DataToken", "approve", [EVIL, 10**6 * DATA])
    asked = {
        "kind": "transaction",
        "did": wallet.did,
        "account": wallet.address,
        "chain_id": chain.deployment.chain_id,
        "to": to,
        "data": data,
        "value": "0",
        "nonce": 0,
        "gas": 100_000,
        "max_fee_per_gas": "2000000000",
        "max_priority_fee_per_gas": "1000000000",
    }
    hostile = hostile_verifier(live_market, chain, asked)
    with serving_on(hostile, free_port()) as evil_url:
        query = urlencode(
            {"client_id": hostile.state.client_id, "request_uri": f"{evil_url}/request"}
        )
        code, out, err = run("wallet", "answer", f"openid4vp://?{query}", "--yes", "--json")
    assert code == 1 and out == ""
    assert "error [foreign_marketplace]" in err
    assert f"{evil_url} asks this wallet to sign a transaction" in err
    assert f"only for its own marketplace, {live_market}" in err
    assert "the marketplace (" not in err and "1000000 DATA" not in err  # never worded
    assert hostile.state.answers == []  # nothing signed, nothing sent
