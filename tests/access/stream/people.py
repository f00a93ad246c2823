"""Logged-in people for the relay tests: a seller, and subscribers with a bound ledger account."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kraken_market.access.stream.messages import FrameHeader, seal
from kraken_market.identity import binding
from tests.conftest import Account as Person
from tests.conftest import person
from tests.factories import product_body

KEY = bytes(32)


def subscriber(app: FastAPI, account: LocalAccount | None = None) -> tuple[Person, str]:
    """A new person whose DID is bound to ``account`` (default: a fresh one)."""
    who = person(app, "rhea")
    account = account or Account.create()
    made = binding.bind(
        who.key, account, audience=app.state.identity.base_url, now=datetime.now(UTC)
    )
    answer = TestClient(app).post(
        "/api/v1/identity/bindings",
        json={"binding": made.jws, "account_signature": made.account_signature},
        headers=who.headers,
    )
    assert answer.status_code == 201, answer.text
    return who, account.address


def stream_product(seller: Person) -> str:
    product: dict[str, str] = seller.api.create_product(product_body("stream"))
    return product["id"]


def frame(product_id: str, seq: int, at_ms: int, body: bytes = b"reading", epoch: int = 1) -> bytes:
    header = FrameHeader(bytes.fromhex(product_id[2:]), epoch, seq, at_ms)
    return seal(header, KEY, body)


def post(app: FastAPI, seller: Person, product_id: str, data: bytes) -> tuple[int, dict[str, Any]]:
    answer = TestClient(app).post(
        f"/api/v1/streams/{product_id}/messages",
        content=data,
        headers={**seller.headers, "Content-Type": "application/octet-stream"},
    )
    return answer.status_code, answer.json()
