"""Wallet, demo issuer and login from the command line, against a real served API.

The CLI and the API share one data directory, so ``kraken-market issuer`` signs
with the demo issuer the API trusts. Wallets made with ``Wallet.create`` here
use a small scrypt work factor (injected) to keep the suite fast; one test
goes through ``wallet create`` with the standard one.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from kraken_market.api.app import create_app
from kraken_market.db.base import utcnow
from kraken_market.files import write_private
from kraken_market.identity import presentations
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.keys import DidKey
from kraken_market.identity.wallet import Wallet
from kraken_market.settings import Settings
from tests import served
from tests.cli import test_cli as base
from tests.conftest import serving

live_api = base.live_api  # the fixture: API served on a known port, CLI pointed at it
run, sign_up = base.run, base.sign_up
PASSPHRASE = base.PASSPHRASE
PRODUCT = ("products", "create", "--title", "Steps", "--mode", "batch")
PRODUCT_ARGS = (*PRODUCT, "--price-access", "5", "--purpose", "research", "--json")


def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def fast_wallet(path: Path, name: str = "Alice") -> Wallet:
    """A wallet (cheap scrypt) holding a PersonCredential from the demo issuer."""
    wallet = Wallet.create(path, PASSPHRASE, work_factor=2**10)
    code, _, err = run("issuer", "issue", "person", "--name", name, "--wallet", str(path))
    assert code == 0, err
    return wallet


def session_file(tmp_path: Path, wallet: Path | None = None) -> Path:
    """Where the CLI keeps the session of ``wallet`` (default: data_dir/wallet.json)."""
    did = Wallet.open(wallet or data(tmp_path) / "wallet.json").did
    return data(tmp_path) / "sessions" / (did.replace(":", "_") + ".json")


def session(tmp_path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(session_file(tmp_path).read_text())
    return value


def expire(tmp_path: Path, *, refresh_too: bool = False) -> dict[str, Any]:
    """Make the saved session look expired to the CLI (the server still holds it)."""
    saved = session(tmp_path)
    past = "2000-01-01T00:00:00Z"
    changed = {**saved, "expires_at": past}
    if refresh_too:
        changed["refresh_expires_at"] = past
    write_private(session_file(tmp_path), json.dumps(changed))
    return saved


def bearer(url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return served.get(f"{url}/api/v1/auth/me", headers=headers).status_code


def test_full_login_through_the_cli(live_api: str, tmp_path: Path) -> None:
    code, out, err = run("wallet", "create", "--json")  # standard scrypt parameters
    assert code == 0, err
    created = json.loads(out)
    wallet_file = Path(created["path"])
    assert wallet_file == data(tmp_path) / "wallet.json"
    assert stat.S_IMODE(wallet_file.stat().st_mode) == 0o600
    code, out, _ = run("wallet", "show", "--json")
    assert json.loads(out)["did"] == created["did"] and json.loads(out)["credentials"] == 0

    args = ["--name", "Alice", "--email", "alice@example.org", "--country", "DE"]
    code, out, err = run("issuer", "issue", "person", *args, "--wallet", str(wallet_file), "--json")
    assert code == 0, err
    issued = json.loads(out)
    assert (issued["type"], issued["subject"]) == ("PersonCredential", created["did"])
    code, out, _ = run("wallet", "credentials", "list", "--json")
    [held] = json.loads(out)
    assert held["id"] == issued["id"] and held["subject"]["country"] == "DE"
    assert "token" not in held

    code, out, err = run("login", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["did"], shown["roles"]) == (created["did"], [])
    assert "session_token" not in shown and "refresh_token" not in shown
    saved = session_file(tmp_path)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    token = session(tmp_path)["session_token"]
    code, out, _ = run("whoami", "--json")
    assert code == 0 and json.loads(out)["did"] == created["did"]
    assert json.loads(out)["name"] == "Alice"

    code, out, err = run(*PRODUCT_ARGS)
    assert code == 0, err
    assert json.loads(out)["owner"] == created["did"]
    code, out, err = run("wallet", "bind", "--json")
    assert code == 0, err
    assert json.loads(out)["account"] == created["address"]
    binding = served.get(f"{live_api}/api/v1/identity/bindings/{created['did']}").json()
    assert binding["account"] == created["address"]

    assert bearer(live_api, token) == 200
    code, out, _ = run("logout")
    assert code == 0 and "logged out" in out
    assert not saved.exists()
    assert bearer(live_api, token) == 401  # the session ended at the API, not only here
    code, _, err = run("whoami")
    assert code == 1 and "[unauthenticated]" in err
    assert run("logout")[1].startswith("not logged in: the wallet ")


def test_present_prints_a_verifiable_presentation(live_api: str, tmp_path: Path) -> None:
    wallet = fast_wallet(tmp_path / "w.json")
    where = ("--wallet", str(wallet.path))
    code, out, err = run("wallet", "present", "--audience", live_api, "--nonce", "n-1", *where)
    assert code == 0, err
    opened = presentations.open_presentation(
        out.strip(), DidResolver(), audience=live_api, now=utcnow(), max_bytes=32_768
    )
    assert (opened.holder, opened.nonce, len(opened.credentials)) == (wallet.did, "n-1", 1)
    code, _, err = run(
        "wallet", "present", "--audience", live_api, "--nonce", "n", "--type", "Nope", *where
    )
    assert code == 1 and "[nothing_to_present]" in err


def test_credentials_add_and_remove(live_api: str, tmp_path: Path) -> None:
    wallet = fast_wallet(tmp_path / "w.json")
    where = ("--wallet", str(wallet.path))
    code, out, _ = run("issuer", "issue", "role", "--role", "arbiter", "--subject", wallet.did)
    assert code == 0
    role = out.strip()
    code, out, err = run("wallet", "credentials", "add", role, *where, "--json")
    assert code == 0, err
    role_id = json.loads(out)["id"]
    code, _, err = run("wallet", "credentials", "add", role, *where)
    assert code == 1 and "[credential_duplicate]" in err
    code, out, _ = run(
        "issuer",
        "issue",
        "category",
        "--category",
        "public-body",
        "--subject",
        wallet.did,
        "--json",
    )
    saved = tmp_path / "category.json"
    saved.write_text(out)  # the JSON 'issuer issue --json' prints is accepted as is
    assert run("wallet", "credentials", "add", str(saved), *where)[0] == 0
    code, out, _ = run(
        "wallet", "credentials", "list", "--type", "PlatformRoleCredential", *where, "--json"
    )
    assert [c["subject"] for c in json.loads(out)] == [{"role": "arbiter"}]
    assert run("wallet", "credentials", "list", *where)[0] == 0  # the table
    assert run("wallet", "credentials", "remove", role_id, *where)[0] == 0
    code, _, err = run("wallet", "credentials", "remove", role_id, *where)
    assert code == 1 and "[credential_not_in_wallet]" in err
    types = [c.type for c in Wallet.open(wallet.path).credentials()]
    assert types == ["PersonCredential", "BuyerCategoryCredential"]

    other = DidKey.generate().did
    code, out, _ = run("issuer", "issue", "person", "--name", "Eve", "--subject", other)
    code, _, err = run("wallet", "credentials", "add", "-", *where, stdin=out)
    assert code == 1 and "[credential_not_for_wallet]" in err
    code, _, err = run("issuer", "issue", "person", "--name", "Eve", "--subject", other, *where)
    assert code == 1 and "is not the DID of the wallet" in err


def test_bad_input_gets_a_clear_message(live_api: str, tmp_path: Path) -> None:
    fast_wallet(data(tmp_path) / "wallet.json")
    code, _, err = run("login", env={"KRAKEN_WALLET_PASSPHRASE": "not the passphrase"})
    assert code == 1 and "[wrong_passphrase]" in err
    code, _, err = run("login", "--wallet", str(tmp_path / "none.json"))
    assert code == 1 and "[wallet_not_found]" in err and "wallet create" in err
    code, _, err = run("wallet", "bind")
    assert code == 1 and "[unauthenticated]" in err and "kraken-market login" in err
    code, _, err = run("whoami")
    assert code == 1 and "[unauthenticated]" in err
    code, _, err = run("issuer", "show", env={"KRAKEN_ENVIRONMENT": "production"})
    assert code == 1 and "development only" in err
    code, _, err = run("issuer", "issue", "person", "--name", "Nobody")
    assert code == 2 and "--subject" in err
    code, _, err = run(
        "wallet",
        "create",
        "--wallet",
        str(tmp_path / "weak.json"),
        env={"KRAKEN_WALLET_PASSPHRASE": "short"},
    )
    assert code == 1 and "[weak_passphrase]" in err


def test_passphrase_is_prompted_when_not_configured(live_api: str, tmp_path: Path) -> None:
    path = tmp_path / "prompted.json"
    no_env: dict[str, str | None] = {"KRAKEN_WALLET_PASSPHRASE": None}
    typed = "typed passphrase 1"
    code, out, err = run(
        "wallet", "create", "--wallet", str(path), env=no_env, stdin=f"{typed}\n{typed}\n"
    )
    assert code == 0, err
    assert typed not in out + err + path.read_text()
    Wallet.open(path).unlock(typed)


def test_an_expired_session_is_refreshed_transparently(live_api: str, tmp_path: Path) -> None:
    fast_wallet(data(tmp_path) / "wallet.json")
    assert run("login")[0] == 0
    old = expire(tmp_path)
    code, _, err = run("whoami", "--json")
    assert code == 0, err
    fresh = session(tmp_path)
    assert fresh["session_token"] != old["session_token"]
    assert fresh["refresh_token"] != old["refresh_token"]
    assert stat.S_IMODE(session_file(tmp_path).stat().st_mode) == 0o600
    assert bearer(live_api, old["session_token"]) == 401  # rotated
    used = served.post(
        f"{live_api}/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]}
    )
    assert used.status_code == 401  # a refresh token works once
    assert run(*PRODUCT_ARGS)[0] == 0


def test_an_expired_session_without_refresh_says_log_in(live_api: str, tmp_path: Path) -> None:
    fast_wallet(data(tmp_path) / "wallet.json")
    assert run("login")[0] == 0
    expire(tmp_path, refresh_too=True)
    for command in (("whoami",), PRODUCT_ARGS):
        code, _, err = run(*command)
        assert code == 1
        assert "your session has expired (the wallet " in err and "[unauthenticated]" in err
        assert "log in again: kraken-market login" in err


def test_revocation_stops_login_and_refresh(live_api: str, tmp_path: Path) -> None:
    wallet = fast_wallet(data(tmp_path) / "wallet.json")
    code, out, _ = run("issuer", "show", "--json")
    demo = json.loads(out)["did"]
    trusted = served.get(f"{live_api}/api/v1/identity/issuers").json()["issuers"]
    assert demo in trusted["PersonCredential"]
    assert run("login")[0] == 0
    [person] = Wallet.open(wallet.path).credentials()
    code, out, err = run("issuer", "revoke", person.id, "--json")
    assert code == 0, err
    assert json.loads(out)["status_list"]["revoked_count"] == 1
    code, _, err = run(*PRODUCT_ARGS)  # publishing re-checks the session's credentials
    assert code == 1 and "[credential_revoked]" in err
    expire(tmp_path)  # that ended the session: no refresh either
    code, _, err = run("whoami")
    assert code == 1 and "could not be refreshed" in err and "log in again" in err
    code, _, err = run("login")
    assert code == 1 and "[credential_revoked]" in err
    code, out, _ = run("issuer", "list", "--json")
    assert [r["revoked_at"] is not None for r in json.loads(out)] == [True]
    code, out, err = run("issuer", "publish", "--json")
    assert code == 0 and json.loads(out)["revoked_count"] == 1


def test_a_session_file_others_can_read_is_refused(live_api: str, tmp_path: Path) -> None:
    fast_wallet(data(tmp_path) / "wallet.json")
    assert run("login")[0] == 0
    session_file(tmp_path).chmod(0o644)
    code, _, err = run("whoami")
    assert code == 1 and "chmod 600" in err


def test_login_refuses_a_presentation_for_another_audience(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(data(tmp_path)))
    monkeypatch.setenv("KRAKEN_WALLET_PASSPHRASE", PASSPHRASE)
    for name in ("KRAKEN_CONFIG", "KRAKEN_DATABASE_URL", "KRAKEN_API_TOKEN", "KRAKEN_WALLET"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(data_dir=data(tmp_path), api_url="https://market.example")
    with serving(create_app(settings)) as url:
        monkeypatch.setenv("KRAKEN_API_URL", url)
        fast_wallet(data(tmp_path) / "wallet.json")
        code, _, err = run("login")
    assert code == 1 and "[wrong_audience]" in err and "market.example" in err
    assert not (data(tmp_path) / "sessions").exists()
