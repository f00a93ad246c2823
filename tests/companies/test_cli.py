"""``kraken-market companies`` against a real API server (uvicorn in a thread), signed
in through the fake authenticator: the token goes in KRAKEN_API_TOKEN, as in scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kraken_market.cli.main import app as cli
from kraken_market.settings import get_settings
from tests.companies.conftest import LEI, Person, company_body, new_did

runner = CliRunner()


@pytest.fixture
def cli_env(served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("KRAKEN_API_URL", served)
    monkeypatch.delenv("KRAKEN_CONFIG", raising=False)
    monkeypatch.delenv("KRAKEN_API_TOKEN", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(monkeypatch: pytest.MonkeyPatch, person: Person | None, *args: str) -> tuple[int, str, str]:
    if person is None:
        monkeypatch.delenv("KRAKEN_API_TOKEN", raising=False)
    else:
        monkeypatch.setenv("KRAKEN_API_TOKEN", person.token)
    get_settings.cache_clear()
    result = runner.invoke(cli, ["companies", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("cli_env")
def test_register_approve_suspend_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, admin: Person, rep: Person
) -> None:
    did = new_did()
    code, out, err = run(
        monkeypatch, rep, "register", did, "--name", "ACME GmbH", "--country", "DE",
        "--lei", LEI, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["status"] == "pending"
    code, out, _ = run(monkeypatch, None, "identified", did)
    assert code == 0 and "not identified (pending)" in out

    code, out, err = run(monkeypatch, rep, "approve", did)
    assert code == 1 and "error [admin_required]" in err
    code, out, _ = run(monkeypatch, admin, "list", "--status", "pending", "--json")
    assert [c["did"] for c in json.loads(out)["items"]] == [did]
    code, out, _ = run(monkeypatch, admin, "approve", did, "--reason", "checked")
    assert code == 0 and "identified" in out

    code, out, _ = run(monkeypatch, None, "list")
    assert code == 0 and "ACME GmbH" in out and "1 companies" in out
    code, out, _ = run(monkeypatch, None, "show", did)
    assert code == 0 and "identified" in out and "(not shown)" in out
    code, out, _ = run(monkeypatch, None, "identified", did, "--json")
    assert json.loads(out) == {
        "did": did,
        "identified": True,
        "status": "identified",
        "representative": None,
    }

    code, out, _ = run(
        monkeypatch, admin, "update", did, "--name", "ACME AG", "--registration-number",
        "HRB 12345", "--clear-lei", "--json",
    )  # fmt: skip
    assert code == 0
    assert (json.loads(out)["legal_name"], json.loads(out)["lei"]) == ("ACME AG", None)
    code, out, _ = run(monkeypatch, admin, "suspend", did, "--reason", "insolvency")
    assert code == 0 and "suspended" in out
    code, _, err = run(monkeypatch, admin, "suspend", did)
    assert code == 1 and "[company_status_conflict]" in err

    code, _, _ = run(monkeypatch, admin, "delete", did)  # asks first; no answer: aborted
    assert code == 1
    code, out, _ = run(monkeypatch, admin, "delete", did, "--yes", "--reason", "dissolved")
    assert code == 0 and "deleted" in out
    code, out, _ = run(monkeypatch, admin, "audit", did, "--json")
    assert [e["action"] for e in json.loads(out)] == [
        "registered",
        "approved",
        "updated",
        "suspended",
        "deleted",
    ]
    code, out, _ = run(monkeypatch, admin, "audit", did)
    assert code == 0 and "dissolved" in out


@pytest.mark.usefixtures("cli_env")
def test_admins_create_and_mistakes_are_explained(
    monkeypatch: pytest.MonkeyPatch, admin: Person, rep: Person
) -> None:
    did = new_did()
    code, out, err = run(
        monkeypatch, admin, "create", did, "--name", "Clinic", "--country", "IT",
        "--registration-number", "MI-1", "--representative", rep.did, "--status", "pending",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    created = json.loads(out)
    assert (created["status"], created["representative_did"]) == ("pending", rep.did)
    code, out, _ = run(monkeypatch, admin, "show", did)
    assert code == 0 and "pending" in out and "Clinic" in out
    code, _, err = run(
        monkeypatch, rep, "register", new_did(), "--name", "X", "--country", "DE",
        "--lei", "529900T8BM49AURSDO56",
    )  # fmt: skip
    assert code == 1 and "error [invalid_lei]" in err and "check digits" in err
    code, _, err = run(
        monkeypatch, rep, "register", new_did(), "--name", "X", "--country", "Germany",
        "--registration-number", "1",
    )  # fmt: skip
    assert code == 1 and "[invalid_country]" in err
    code, _, err = run(monkeypatch, rep, "register", new_did(), "--name", "X", "--country", "DE")
    assert code == 2 and "--registration-number, --lei, or both" in err
    code, _, err = run(monkeypatch, None, "show", "acme")
    assert code == 1 and "[invalid_did]" in err
    code, _, err = run(monkeypatch, admin, "update", did)
    assert code == 2 and "nothing to change" in err

    # Names are shown as they are, never read as terminal markup.
    odd = admin.api.create_company(company_body(legal_name="ACME [Holding] [/x]", lei=...))
    code, out, err = run(monkeypatch, None, "show", odd["did"])
    assert code == 0, err
    assert "ACME [Holding] [/x]" in out
