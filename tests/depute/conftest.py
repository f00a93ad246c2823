"""A marketplace and one company's Depute tool, each behind a real uvicorn server.

Both must know their own URL before they start (the audience of presentations;
the base of the marketplace's status lists), so ports are chosen first. The
marketplace can be stopped and started again on its port, to show what the
Depute tool does while the registry is unreachable.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import ASGIApp

from kraken_market.client import MarketClient
from kraken_market.db.base import utcnow
from kraken_market.depute import client
from kraken_market.depute.app import create_depute_app
from kraken_market.depute.config import DeputeConfig, init_company
from kraken_market.depute.core import Depute, open_depute
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.settings import Settings
from tests.conftest import Account, login


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """``app`` on ``port`` in a thread; ``stop`` and ``start`` again at will."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app, self.port = app, port
        self.url = f"http://127.0.0.1:{port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "no server"
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None


class Clock:
    """The Depute tool's clock: now, or later by ``offset`` (to expire invitations)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@dataclass
class Person:
    name: str
    key: DidKey
    credential: str  # PersonCredential from the marketplace's demo issuer

    @property
    def did(self) -> str:
        return self.key.did


@dataclass
class Rig:
    app: FastAPI  # the marketplace
    marketplace: Server
    depute: Depute
    url: str  # the Depute tool
    http: httpx2.Client
    admin: Account
    clock: Clock
    tool: Server
    people: dict[str, Person] = field(default_factory=dict)

    def serve(self, depute: Depute) -> None:
        """Serve ``depute`` (the same company, e.g. configured with a chain) in place
        of the tool, on the same URL: KCIT and presentations keep naming it."""
        self.tool.stop()
        self.tool.app = create_depute_app(depute)
        self.tool.start()
        self.depute = depute

    @property
    def company(self) -> str:
        return self.depute.company

    def person(self, name: str) -> Person:
        key = DidKey.generate()
        credential = self.app.state.identity.demo_issuer.issue(
            CredentialType.PERSON,
            {"id": key.did, "name": name},
            registry_url=self.app.state.identity.base_url,
        )
        return Person(name, key, credential)

    def register(self, representative: str, status: str = "identified") -> None:
        """The platform admin enters the company in KCIT."""
        body = {
            "did": self.company,
            "legal_name": "St. Olav Hospital",
            "registration_number": "974749025",
            "country": "NO",
            "representative_did": representative,
            "status": status,
        }
        answer = TestClient(self.app).post(
            "/api/v1/companies", json=body, headers=self.admin.headers
        )
        assert answer.status_code == 201, answer.text

    def admin_post(self, path: str) -> None:
        answer = TestClient(self.app).post(path, headers=self.admin.headers)
        assert answer.status_code == 200, answer.text

    def login(self, person: Person) -> dict[str, str]:
        """The representative's bearer header for the Depute API."""
        session = client.login(self.url, person.key, [person.credential])
        return {"Authorization": f"Bearer {session['session_token']}"}

    def representative(self) -> tuple[Person, dict[str, str]]:
        """The company identified in KCIT with a representative, who is logged in."""
        rita = self.person("Rita")
        self.register(rita.did)
        return rita, self.login(rita)

    def act_for_company(self, employee: Person, attorney: str) -> MarketClient:
        """The employee's marketplace session with PersonCredential + AttorneyCredential."""
        session = login(self.app, employee.key, [employee.credential, attorney])
        assert session["acting_as"] == self.company
        return MarketClient.connect(self.marketplace.url, session["session_token"])

    def post(self, path: str, body: Any, headers: dict[str, str]) -> httpx2.Response:
        return self.http.post(path, json=body, headers=headers)


def refusal(answer: httpx2.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["code"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The marketplace's settings name its own URL: it is served on that port."""
    return Settings(
        data_dir=tmp_path / "data", environment="test", api_url=f"http://127.0.0.1:{free_port()}"
    )


@pytest.fixture
def rig(app: FastAPI, settings: Settings, admin: Account, tmp_path: Path) -> Iterator[Rig]:
    marketplace = Server(app, int(settings.resolved_api_url.rsplit(":", 1)[1]))
    marketplace.start()
    issuer = init_company(tmp_path / "depute-data")
    port = free_port()
    config = DeputeConfig(
        company=issuer.did,
        directory=issuer.directory,
        public_url=f"http://127.0.0.1:{port}",
        marketplace_url=marketplace.url,
        retry_interval=timedelta(0),
        http_timeout=5.0,
    )
    clock = Clock()
    depute = open_depute(config, now=clock)
    tool = Server(create_depute_app(depute), port)
    tool.start()
    try:
        with httpx2.Client(base_url=tool.url, timeout=30.0) as http:
            yield Rig(app, marketplace, depute, tool.url, http, admin, clock, tool)
    finally:
        tool.stop()
        marketplace.stop()
        depute.marketplace.close()
