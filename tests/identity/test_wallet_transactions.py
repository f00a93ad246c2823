"""Transactions and messages asked of a signed-in person's wallet (identity.wallet_requests
with ledger.calls and ledger.broadcast), against a deployment on the in-process chain:
the page asks for a contract call from the bound account, the wallet signs exactly that,
the API checks and broadcasts it, the page learns the hash and the receipt's status."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web3 import EthereumTesterProvider, Web3
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from kraken_market.api.app import create_app
from kraken_market.identity import binding
from kraken_market.identity.signin_errors import RequestExpired
from kraken_market.identity.wallet_requests import Call, WalletRequests
from kraken_market.ledger import calls
from kraken_market.ledger.broadcast import Broadcaster
from kraken_market.ledger.client import dev_account
from kraken_market.settings import Settings
from tests.conftest import Account, person
from tests.identity.test_wallet_requests import answer, outcome, request_claims
from tests.ledger.conftest import DATA, Market, _deploy

BUYER = 8


@pytest.fixture(scope="module")
def chain() -> Market:
    market = _deploy("in-process", Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))))
    market.funded(market.as_(BUYER), 100 * DATA)
    return market


@pytest.fixture
def app(settings: Settings, engine: Engine, chain: Market) -> FastAPI:
    return create_app(
        settings, engine=engine, token=chain.admin, wallet_chain=Broadcaster(chain.admin)
    )


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def bound(app: FastAPI, name: str, account: LocalAccount) -> Account:
    """A signed-in person whose DID is bound to ``account``."""
    who = person(app, name)
    made = binding.bind(
        who.key, account, audience=app.state.identity.base_url, now=datetime.now(UTC)
    )
    who.api.bind(made.jws, made.account_signature)
    return who


def ask(http: TestClient, who: Account, **body: Any) -> dict[str, Any]:
    created = http.post("/api/v1/wallet-requests", json=body, headers=who.headers)
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


def allowance(chain: Market, amount: str = "12500000000000000000") -> dict[str, Any]:
    return {
        "kind": "transaction",
        "contract": "DataToken",
        "function": "approve",
        "arguments": [chain.deployment.market, amount],
    }


def signed(asked: dict[str, Any], key: LocalAccount, **changes: Any) -> str:
    """The raw EIP-1559 transaction a wallet signs from the request's fields."""
    fields = {
        "type": 2,
        "chainId": asked["chain_id"],
        "nonce": asked["nonce"],
        "to": asked["to"],
        "data": asked["data"],
        "value": int(asked["value"]),
        "gas": asked["gas"],
        "maxFeePerGas": int(asked["max_fee_per_gas"]),
        "maxPriorityFeePerGas": int(asked["max_priority_fee_per_gas"]),
        **changes,
    }
    raw = key.sign_transaction(fields).raw_transaction
    return "0x" + bytes(raw).hex()


def test_the_wallet_sends_the_allowance_the_page_asked_for(
    app: FastAPI, http: TestClient, chain: Market
) -> None:
    buyer = dev_account(BUYER)
    ana = bound(app, "Ana", buyer)
    created = ask(http, ana, **allowance(chain))
    claims = request_claims(http, created)
    asked = claims["signing_request"]
    assert (asked["kind"], asked["did"], asked["account"]) == (
        "transaction",
        ana.key.did,
        buyer.address,
    )
    assert asked["chain_id"] == chain.w3.eth.chain_id and asked["to"] == chain.deployment.token
    assert asked["nonce"] == chain.w3.eth.get_transaction_count(buyer.address)
    assert asked["gas"] > 21_000 and int(asked["max_fee_per_gas"]) > 0
    # what the wallet reads from the call data itself, against the committed ABI
    call = calls.decode(chain.deployment, asked["to"], asked["data"])
    assert calls.words(call, chain.admin.token(), chain.deployment, buyer.address) == (
        f"Allow the marketplace ({chain.deployment.market}) to spend up to 12.5 DATA"
    )

    sent = answer(http, claims, transaction=signed(asked, buyer))
    assert (sent.status_code, sent.json()) == (200, {})
    told = outcome(http, created).json()
    assert (told["status"], told["account"]) == ("done", buyer.address)
    assert told["transaction_status"] == "succeeded"  # the in-process chain mines at once
    receipt = chain.w3.eth.get_transaction_receipt(told["transaction_hash"])
    assert receipt["status"] == 1 and receipt["from"] == buyer.address
    assert chain.as_(BUYER).allowance(chain.deployment.market) == 12_500_000_000_000_000_000

    again = answer(http, claims, transaction=signed(asked, buyer))
    assert (again.status_code, again.json()["code"]) == (400, "request_answered")
    # the same call asked again: the transaction signed for the first request is a replay
    second = ask(http, ana, **allowance(chain))
    replayed = answer(http, request_claims(http, second), transaction=signed(asked, buyer))
    assert (replayed.status_code, replayed.json()["details"]) == (400, {"field": "nonce"})
    assert outcome(http, second).json()["code"] == "transaction_mismatch"


@pytest.mark.parametrize(
    ("signer", "changes", "status", "code"),
    [
        (9, {}, 401, "wrong_account"),
        (BUYER, {"chainId": 1}, 400, "wrong_chain"),
        (BUYER, {"data": "tampered"}, 400, "transaction_mismatch"),
        (BUYER, {"maxFeePerGas": "more"}, 400, "transaction_mismatch"),
    ],
)
def test_a_transaction_other_than_the_one_asked_for_is_refused_and_not_sent(
    app: FastAPI,
    http: TestClient,
    chain: Market,
    signer: int,
    changes: dict[str, Any],
    status: int,
    code: str,
) -> None:
    ana = bound(app, "Ana", dev_account(BUYER))
    created = ask(http, ana, **allowance(chain, str(DATA)))
    claims = request_claims(http, created)
    asked = claims["signing_request"]
    if changes.get("data") == "tampered":  # the same call, to another spender
        changes["data"] = calls.encode(
            chain.deployment, "DataToken", "approve", ["0x" + "ee" * 20, str(DATA)]
        )[1]
    if changes.get("maxFeePerGas") == "more":
        changes["maxFeePerGas"] = int(asked["max_fee_per_gas"]) + 1
    nonce = chain.w3.eth.get_transaction_count(asked["account"])
    refused = answer(http, claims, transaction=signed(asked, dev_account(signer), **changes))
    assert (refused.status_code, refused.json()["code"]) == (status, code)
    told = outcome(http, created).json()
    assert (told["status"], told["code"], told["transaction_hash"]) == ("refused", code, None)
    assert chain.w3.eth.get_transaction_count(asked["account"]) == nonce  # nothing was sent


def test_what_cannot_be_sent_is_refused_before_anyone_signs(
    app: FastAPI, http: TestClient, chain: Market
) -> None:
    unbound = person(app, "Una")
    refused = http.post("/api/v1/wallet-requests", json=allowance(chain), headers=unbound.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "account_not_bound")
    ana = bound(app, "Ana", dev_account(9))  # ether for gas, no DATA
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"function": "balanceOf"}, 422, "call_invalid"),  # a view is no transaction
        ({"function": "approve", "arguments": ["0x12", "1"]}, 422, "call_invalid"),
        (
            {"function": "transfer", "arguments": ["0x" + "ab" * 20, str(DATA)]},
            409,
            "insufficient_funds",
        ),
        ({"contract": "Vault"}, 422, "validation_error"),
    ]
    penniless = bound(app, "Pia", EthAccount.create())  # not even ether for gas
    answered = http.post(
        "/api/v1/wallet-requests", json=allowance(chain), headers=penniless.headers
    )
    assert answered.json()["message"] == "prepare the transaction: not enough ether to pay for gas"
    for change, status, code in cases:
        body = {**allowance(chain), **change}
        answered = http.post("/api/v1/wallet-requests", json=body, headers=ana.headers)
        assert (answered.status_code, answered.json()["code"]) == (status, code), change


def test_an_expired_transaction_request_is_not_sent(app: FastAPI, chain: Market) -> None:
    buyer = dev_account(BUYER)
    ana = bound(app, "Ana", buyer)
    with app.state.sessions() as session:
        service = WalletRequests(session, app.state.identity, Broadcaster(chain.admin))
        past = datetime.now(UTC) - timedelta(hours=1)
        created = service.create(
            ana.key.did,
            "transaction",
            past,
            call=Call("DataToken", "approve", (chain.deployment.market, "1")),
        )
        row_state = service._row(created.request_id).state
        asked = service._signing_request(service._row(created.request_id))
        nonce = chain.w3.eth.get_transaction_count(buyer.address)
        with pytest.raises(RequestExpired):
            service.answer(
                created.request_id, state=row_state, fields={"transaction": signed(asked, buyer)}
            )
        assert service.outcome(created.transaction_id).status == "expired"
    assert chain.w3.eth.get_transaction_count(buyer.address) == nonce


def test_a_message_is_signed_by_the_bound_account(
    app: FastAPI, http: TestClient, chain: Market
) -> None:
    key = EthAccount.create()
    ana = bound(app, "Ana", key)
    text = "I, Ana, agree to the data licence of product 7.\nKraken Market"
    created = ask(http, ana, kind="message", text=text)
    claims = request_claims(http, created)
    assert claims["signing_request"] == {
        "kind": "message",
        "did": ana.key.did,
        "account": key.address,
        "text": text,
    }
    forged = EthAccount.create().sign_message(encode_defunct(text=text)).signature.hex()
    second = ask(http, ana, kind="message", text=text)
    refused = answer(http, request_claims(http, second), signature="0x" + forged)
    assert (refused.status_code, refused.json()["code"]) == (401, "wrong_account")

    signature = "0x" + key.sign_message(encode_defunct(text=text)).signature.hex()
    assert answer(http, claims, signature=signature).status_code == 200
    told = outcome(http, created).json()
    assert (told["status"], told["account"], told["signature"]) == ("done", key.address, signature)

    for hidden in ("a\x07b", "pay \u202e01 DATA"):  # a bell; a right-to-left override
        bad = http.post(
            "/api/v1/wallet-requests", json={"kind": "message", "text": hidden}, headers=ana.headers
        )
        assert (bad.status_code, bad.json()["code"]) == (422, "message_invalid")


class DropsAfterSending(BaseProvider):
    """The real in-process chain behind a connection that drops while
    ``eth_sendRawTransaction`` waits for its answer: after the node took the transaction
    (``delivered``), or before it reached the node."""

    def __init__(self, real: BaseProvider, *, delivered: bool) -> None:
        super().__init__()
        self.real, self.delivered = real, delivered

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_sendRawTransaction":
            if self.delivered:
                self.real.make_request(method, params)
            raise requests.ReadTimeout("the chain node's answer never came")
        return self.real.make_request(method, params)

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


@pytest.mark.parametrize("delivered", [True, False])
def test_a_connection_dropped_while_sending_records_the_hash_the_poll_follows(
    settings: Settings, engine: Engine, chain: Market, delivered: bool
) -> None:
    """The transaction may have reached the node: the request is not refused ("nothing
    was sent" could be untrue) but done with the signed transaction's own hash, and the
    poll reports its receipt once mined, or says it stays unconfirmed."""
    dropping = Broadcaster(chain.admin)
    dropping.w3 = Web3(DropsAfterSending(chain.w3.provider, delivered=delivered))
    app = create_app(settings, engine=engine, token=chain.admin, wallet_chain=dropping)
    buyer = dev_account(BUYER)
    ana = bound(app, "Ana", buyer)
    with TestClient(app) as http:
        created = ask(http, ana, **allowance(chain, "7"))
        claims = request_claims(http, created)
        raw = signed(claims["signing_request"], buyer)
        sent = answer(http, claims, transaction=raw)
        assert (sent.status_code, sent.json()) == (200, {})
        told = outcome(http, created).json()
    assert (told["status"], told["account"]) == ("done", buyer.address)
    assert told["transaction_hash"] == calls.read_signed(raw).hash
    if delivered:
        assert told["transaction_status"] == "succeeded" and told["message"] is None
        receipt = chain.w3.eth.get_transaction_receipt(told["transaction_hash"])
        assert receipt["status"] == 1
        assert chain.as_(BUYER).allowance(chain.deployment.market) == 7
    else:
        assert told["transaction_status"] == "sent"
        assert "may not have reached the chain" in told["message"]


class FailsUnexpectedly(Broadcaster):
    """The real chain, whose broadcast fails in a way nobody mapped to a Kraken error."""

    def broadcast(self, raw: str) -> str:
        raise RuntimeError("an unforeseen failure")


def test_an_unexpected_failure_settles_the_request_instead_of_leaving_it_claimed(
    settings: Settings, engine: Engine, chain: Market
) -> None:
    app = create_app(
        settings, engine=engine, token=chain.admin, wallet_chain=FailsUnexpectedly(chain.admin)
    )
    buyer = dev_account(BUYER)
    ana = bound(app, "Ana", buyer)
    with TestClient(app, raise_server_exceptions=False) as http:
        created = ask(http, ana, **allowance(chain, "3"))
        claims = request_claims(http, created)
        failed = answer(http, claims, transaction=signed(claims["signing_request"], buyer))
        assert (failed.status_code, failed.json()["code"]) == (503, "answer_failed")
        told = outcome(http, created).json()
        assert (told["status"], told["code"]) == ("refused", "answer_failed")
        again = answer(http, claims, transaction=signed(claims["signing_request"], buyer))
        assert again.json()["code"] == "request_answered"
