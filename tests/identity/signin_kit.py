"""A wallet for the sign-in tests: answers OpenID4VP requests of the app under test,
built from the CLI wallet's own pieces (``identity.openid4vp_wallet``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from kraken_market.db.base import utcnow
from kraken_market.identity import openid4vp_wallet as wallet
from kraken_market.identity import presentations
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.keys import DidKey
from tests.identity.conftest import Platform

REQUESTS = "/api/v1/auth/requests"


class SigninKit:
    def __init__(self, platform: Platform, http: TestClient | None = None) -> None:
        self.platform = platform
        self.http = http or platform.http

    def start(self, flow: str = "cross_device", act_for: str | None = None) -> dict[str, Any]:
        answer = self.http.post(REQUESTS, json={"flow": flow, "act_for": act_for})
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    def request(self, created: dict[str, Any]) -> wallet.AuthorizationRequest:
        link = wallet.parse_link(created["wallet_url"])
        token = self.http.get(urlsplit(link.request_uri).path)
        assert token.status_code == 200, token.text
        return wallet.open_request(token.text, link, DidResolver(), utcnow())

    def present(
        self,
        key: DidKey,
        credentials: list[str],
        request: wallet.AuthorizationRequest,
        **changes: Any,
    ) -> str:
        fields = {"audience": request.client_id, "nonce": request.nonce, **changes}
        return presentations.present(key, credentials, **fields)

    def post(
        self, request: wallet.AuthorizationRequest, vp_token: dict[str, list[str]], **form: str
    ) -> Any:
        fields = {"vp_token": json.dumps(vp_token), "state": request.state, **form}
        return self.http.post(urlsplit(request.response_uri).path, data=fields)

    def answer(self, created: dict[str, Any], key: DidKey, by_query: dict[str, list[str]]) -> Any:
        """Present each credential in its own vp+jwt, as the CLI wallet does."""
        request = self.request(created)
        token = {q: [self.present(key, [c], request) for c in cs] for q, cs in by_query.items()}
        return self.post(request, token)

    def result(
        self, created: dict[str, Any], response_code: str | None = None, deliver: str = "body"
    ) -> Any:
        body: dict[str, Any] = {"transaction_id": created["transaction_id"], "deliver": deliver}
        if response_code is not None:
            body["response_code"] = response_code
        return self.http.post(f"{REQUESTS}/result", json=body)


def response_code(answer: Any) -> str:
    redirect: str = answer.json()["redirect_uri"]
    return redirect.split("#response_code=", 1)[1]


def later(seconds: int) -> datetime:
    return utcnow() + timedelta(seconds=seconds)
