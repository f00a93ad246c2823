"""``kraken-market wallet answer``: the CLI wallet answers a sign-in request of a real
served API (OpenID4VP: QR code text, same-device link, bare request_uri)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2

from kraken_market.identity.wallet import Wallet
from tests import served
from tests.cli import test_wallet_cli as base

live_api = base.live_api
run = base.run


def start(url: str, flow: str = "cross_device") -> dict[str, Any]:
    created = served.post(f"{url}/api/v1/auth/requests", json={"flow": flow})
    assert created.status_code == 201, created.text
    value: dict[str, Any] = created.json()
    return value


def result(url: str, created: dict[str, Any], code: str | None = None) -> httpx2.Response:
    body = {"transaction_id": created["transaction_id"], "deliver": "body", "response_code": code}
    return served.post(f"{url}/api/v1/auth/requests/result", json=body)


def test_the_cli_wallet_answers_a_qr_code(live_api: str, tmp_path: Path) -> None:
    wallet = base.fast_wallet(tmp_path / "data" / "wallet.json", "Alice")
    created = start(live_api)
    code, out, err = run("wallet", "answer", created["wallet_url"], "--yes", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["verifier"] == "Kraken Market" and shown["origin"] == live_api
    assert [s["type"] for s in shown["shared"]] == ["PersonCredential"]
    assert "name Alice" in shown["shared"][0]["about"] and shown["redirect_uri"] is None
    assert "Kraken Market at " + live_api in err  # who asks, in plain words
    session = result(live_api, created).json()["session"]
    assert session["did"] == wallet.did
    again = run("wallet", "answer", created["wallet_url"], "--yes")
    assert again[0] == 1 and "error [request_closed]" in again[2]
    assert "start a new sign-in" in again[2]


def test_a_same_device_link_brings_the_browser_back(live_api: str, tmp_path: Path) -> None:
    base.fast_wallet(tmp_path / "data" / "wallet.json")
    created = start(live_api, "same_device")
    query = urlsplit(created["wallet_url"]).query
    link = f"{live_api}/wallet/request?{query}"
    code, out, err = run("wallet", "answer", link, "--yes")
    assert code == 0, err
    assert f"continue in your browser: {live_api}/signin/complete#response_code=" in out
    response_code = out.split("#response_code=")[1].split()[0]
    assert result(live_api, created, response_code).json()["status"] == "signed_in"


def test_declining_shares_nothing_and_tells_the_page(live_api: str, tmp_path: Path) -> None:
    base.fast_wallet(tmp_path / "data" / "wallet.json")
    created = start(live_api)
    code, _, err = run("wallet", "answer", created["request_uri"], stdin="n\n")
    assert code == 1 and "error [declined]" in err
    refused = result(live_api, created).json()
    assert (refused["status"], refused["code"]) == ("refused", "wallet_declined")


def test_a_request_the_wallet_cannot_satisfy_is_refused_in_words(
    live_api: str, tmp_path: Path
) -> None:
    Wallet.create(tmp_path / "data" / "wallet.json", base.PASSPHRASE, work_factor=2**10)
    created = start(live_api)
    code, _, err = run("wallet", "answer", created["wallet_url"], "--yes")
    assert code == 1 and "error [nothing_to_present]" in err
    assert "PersonCredential" in err
    assert result(live_api, created).status_code == 202  # nothing was sent
    code, _, err = run("wallet", "answer", "openid4vp://?client_id=x", "--yes")
    assert code == 1 and "error [request_object_invalid]" in err


def signed_in(url: str) -> dict[str, str]:
    """The wallet in the data directory signs in (a QR code answered); Bearer headers."""
    created = start(url)
    code, _, err = run("wallet", "answer", created["wallet_url"], "--yes")
    assert code == 0, err
    token = result(url, created).json()["session"]["session_token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_cli_wallet_links_the_account_a_page_asked_for(live_api: str, tmp_path: Path) -> None:
    wallet = base.fast_wallet(tmp_path / "data" / "wallet.json", "Alice")
    headers = signed_in(live_api)
    asked = served.post(
        f"{live_api}/api/v1/wallet-requests", json={"kind": "bind_account"}, headers=headers
    )
    assert asked.status_code == 201, asked.text
    created = asked.json()
    poll = {"transaction_id": created["transaction_id"]}
    assert served.post(f"{live_api}/api/v1/wallet-requests/result", json=poll).status_code == 202

    code, out, err = run("wallet", "answer", created["wallet_url"], "--yes", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["kind"], shown["did"], shown["account"]) == (
        "bind_account",
        wallet.did,
        wallet.address,
    )
    assert "link your DID to your ledger account" in err  # what is signed, in words
    done = served.post(f"{live_api}/api/v1/wallet-requests/result", json=poll).json()
    assert (done["status"], done["account"]) == ("done", wallet.address)
    binding = served.get(f"{live_api}/api/v1/identity/bindings/{wallet.did}").json()
    assert binding["account"] == wallet.address
    me = served.get(f"{live_api}/api/v1/auth/me", headers=headers).json()
    assert me["account"] == wallet.address


def test_a_signing_request_for_another_person_is_not_signed(live_api: str, tmp_path: Path) -> None:
    base.fast_wallet(tmp_path / "data" / "wallet.json", "Alice")
    headers = signed_in(live_api)
    created = served.post(
        f"{live_api}/api/v1/wallet-requests", json={"kind": "bind_account"}, headers=headers
    ).json()
    other = base.fast_wallet(tmp_path / "other.json", "Mallory")
    code, _, err = run(
        "wallet", "answer", created["wallet_url"], "--yes", "--wallet", str(other.path)
    )
    assert code == 1 and "error [signing_request_invalid]" in err
    assert "answer it with the wallet you signed in with" in err
    poll = {"transaction_id": created["transaction_id"]}
    pending = served.post(f"{live_api}/api/v1/wallet-requests/result", json=poll)
    assert pending.status_code == 202  # nothing was sent

    code, _, err = run("wallet", "answer", created["wallet_url"], stdin="n\n")
    assert code == 1 and "error [declined]" in err
    refused = served.post(f"{live_api}/api/v1/wallet-requests/result", json=poll).json()
    assert (refused["status"], refused["code"]) == ("refused", "wallet_declined")
