"""'kraken-market wallet accept LINK': an employee's wallet takes a Depute invitation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kraken_market.cli.main import app as cli
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.wallet import Wallet
from tests.depute.conftest import Rig

PASSPHRASE = "correct horse battery staple"


def test_a_wallet_accepts_an_invitation(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, headers = rig.representative()
    link = rig.post("/api/invitations", {"scope": ["publish"]}, headers).json()["url"]
    path = tmp_path / "eve.json"
    wallet = Wallet.create(path, PASSPHRASE, work_factor=2**10)
    issuer, base = rig.app.state.identity.demo_issuer, rig.app.state.identity.base_url
    person = issuer.issue(
        CredentialType.PERSON, {"id": wallet.did, "name": "Eve"}, registry_url=base
    )
    wallet.add_credential(person)
    monkeypatch.setenv("KRAKEN_WALLET_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()

    accepted = runner.invoke(cli, ["wallet", "accept", link, "--wallet", str(path), "--json"])
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.stdout)["type"] == "AttorneyCredential"
    kinds = {c.type: c.issuer for c in Wallet.open(path).credentials()}
    assert kinds == {"PersonCredential": issuer.did, "AttorneyCredential": rig.company}

    again = runner.invoke(cli, ["wallet", "accept", link, "--wallet", str(path)])
    assert again.exit_code == 1
    assert "invitation_used" in again.stderr


def test_accepting_needs_a_person_credential(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, headers = rig.representative()
    link = rig.post("/api/invitations", {"scope": ["publish"]}, headers).json()["url"]
    path = tmp_path / "empty.json"
    Wallet.create(path, PASSPHRASE, work_factor=2**10)
    monkeypatch.setenv("KRAKEN_WALLET_PASSPHRASE", PASSPHRASE)
    refused = CliRunner().invoke(cli, ["wallet", "accept", link, "--wallet", str(path)])
    assert refused.exit_code == 1
    assert "no PersonCredential" in refused.stderr
