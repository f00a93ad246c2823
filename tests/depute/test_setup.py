"""Setting up a company's Depute directory, and what survives a crash (no servers)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kraken_market.cli.depute import app as depute_cli
from kraken_market.db.base import utcnow
from kraken_market.depute.config import (
    DeputeConfig,
    company_dir,
    init_company,
    open_company,
    read_company_key,
)
from kraken_market.depute.core import open_depute
from kraken_market.depute.errors import DeputeExists
from kraken_market.depute.marketplace import Marketplace
from kraken_market.depute.models import Authorisation
from kraken_market.errors import InvalidRequest, NotFound
from kraken_market.files import write_private
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.settings import get_settings

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing answers


def test_init_keeps_the_company_key_private_and_refuses_to_overwrite(tmp_path: Path) -> None:
    key = DidKey.generate()
    issuer = init_company(tmp_path, key)
    assert issuer.did == key.did
    assert issuer.directory == company_dir(tmp_path, key.did)
    assert stat.S_IMODE((issuer.directory / "key").stat().st_mode) == 0o600
    assert open_company(issuer.directory, key.did).did == key.did
    with pytest.raises(DeputeExists):
        init_company(tmp_path, key)
    with pytest.raises(NotFound):
        open_company(issuer.directory, DidKey.generate().did)
    with pytest.raises(NotFound):
        open_company(tmp_path / "nothing", key.did)


def test_a_company_key_file_holds_a_hex_seed(tmp_path: Path) -> None:
    key = DidKey.generate()
    write_private(tmp_path / "good", key.seed.hex())
    assert read_company_key(tmp_path / "good").did == key.did
    write_private(tmp_path / "bad", "not hex")
    with pytest.raises(InvalidRequest):
        read_company_key(tmp_path / "bad")


def test_a_revocation_the_database_missed_is_recovered_and_left_pending(tmp_path: Path) -> None:
    """A crash after the issuer recorded a revocation but before the database did."""
    issuer = init_company(tmp_path)
    config = DeputeConfig(issuer.did, issuer.directory, "http://127.0.0.1:8710", UNREACHABLE)
    depute = open_depute(config, Marketplace(UNREACHABLE))
    token = depute.issuer.issue(
        CredentialType.ATTORNEY,
        {"id": DidKey.generate().did, "company": {"id": issuer.did}, "scope": ["buy"]},
        registry_url=UNREACHABLE,
    )
    (record,) = depute.issuer.records.values()
    now = utcnow()
    with depute.sessions() as session:
        session.add(
            Authorisation(
                id=record.id,
                employee_did=record.subject,
                name=None,
                scope=["buy"],
                roles=[],
                valid_from=now,
                valid_until=now,
                credential=token,
                via="did",
                created_by=issuer.did,
                created_at=now,
            )
        )
        session.commit()
    depute.issuer.revoke(record.id)  # ... and the process dies here
    reopened = open_depute(config, Marketplace(UNREACHABLE))
    with reopened.sessions() as session:
        row = session.get_one(Authorisation, record.id)
        assert row.revoked_at is not None
        assert row.revocation_published_at is None
    assert reopened.publisher.current().status == "pending"
    failed = reopened.publisher.publish()
    assert failed.status == "pending"
    assert failed.last_error is not None
    assert failed.last_error["code"] == "marketplace_unavailable"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KRAKEN_API_URL", UNREACHABLE)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_the_cli_sets_up_and_shows_a_company(data_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(depute_cli, ["init", "--json"])
    assert made.exit_code == 0, made.output
    company = json.loads(made.stdout)["company"]
    assert Path(json.loads(made.stdout)["directory"]) == company_dir(data_dir, company)
    shown = runner.invoke(depute_cli, ["show", "--company", company, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) | {"list_url": None} == {
        "company": company,
        "directory": str(company_dir(data_dir, company)),
        "issued": 0,
        "revoked": 0,
        "publication": "pending",
        "list_url": None,
    }
    key = DidKey.generate()
    write_private(tmp_path / "company.key", key.seed.hex() + "\n")
    given = runner.invoke(depute_cli, ["init", "--company-key", str(tmp_path / "company.key")])
    assert given.exit_code == 0, given.output
    assert key.did in given.stdout
    again = runner.invoke(depute_cli, ["init", "--company-key", str(tmp_path / "company.key")])
    assert again.exit_code == 1
    assert "depute_exists" in again.output
    unknown = runner.invoke(depute_cli, ["show", "--company", DidKey.generate().did])
    assert unknown.exit_code == 1
    assert "not_found" in unknown.output


def test_invitation_secrets_are_kept_out_of_request_logs() -> None:
    from kraken_market.depute.app import redact_invitation

    assert redact_invitation("/invitations/s3cr3t-token/accept") == "/invitations/…/accept"
    assert redact_invitation("/invitations/s3cr3t-token") == "/invitations/…"
    assert redact_invitation("/api/authorisations") == "/api/authorisations"
