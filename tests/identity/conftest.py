"""Helpers for login tests: credentials from the app's demo issuer or a company's issuer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kraken_market.identity import presentations
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.keys import DidKey


class Platform:
    """The app under test, seen from a wallet: issue, present, log in."""

    def __init__(self, app: FastAPI, tmp_path: Path) -> None:
        self.app = app
        self.http = TestClient(app)
        self.base = app.state.identity.base_url
        self.issuer: Issuer = app.state.identity.demo_issuer
        self.tmp_path = tmp_path

    def person_credential(self, key: DidKey, name: str = "Alice") -> str:
        return self.issuer.issue(
            CredentialType.PERSON, {"id": key.did, "name": name}, registry_url=self.base
        )

    def presentation(self, key: DidKey, credentials: list[str], **changes: Any) -> str:
        challenge = self.http.post("/api/v1/auth/challenge").json()
        fields = {"audience": challenge["audience"], "nonce": challenge["nonce"], **changes}
        return presentations.present(key, credentials, **fields)

    def login(self, presentation: str, act_for: str | None = None) -> Any:
        return self.http.post(
            "/api/v1/auth/login", json={"presentation": presentation, "act_for": act_for}
        )

    def company(self, name: str) -> Issuer:
        """A company's own issuer (what its Depute tool holds), its list published."""
        issuer = Issuer.open(self.tmp_path / f"company-{name}")
        self.publish(issuer)
        return issuer

    def publish(self, issuer: Issuer) -> Any:
        url = issuer.status_list_url(self.base)
        answer = self.http.put(
            url.removeprefix(self.base),
            json={"credential": issuer.status_list_credential(self.base)},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def attorney(self, company: Issuer, employee: DidKey, scope: list[str] | None = None) -> str:
        return company.issue(
            CredentialType.ATTORNEY,
            {"id": employee.did, "company": {"id": company.did}, "scope": scope or ["publish"]},
            registry_url=self.base,
        )


@pytest.fixture
def platform(app: FastAPI, tmp_path: Path) -> Platform:
    return Platform(app, tmp_path)
