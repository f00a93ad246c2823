"""Sessions per wallet: several wallets in one data directory stay logged in side by
side, every command sends the session of the selected wallet (--wallet, KRAKEN_WALLET,
data_dir/wallet.json) without asking for a passphrase, and the single session file of
earlier versions moves to its own wallet."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from kraken_market.identity.wallet import Wallet
from tests.cli import test_cli as base
from tests.cli.test_wallet_cli import PRODUCT_ARGS, data, fast_wallet

live_api = base.live_api  # the fixture: API served on a known port, CLI pointed at it
run = base.run


def session_path(tmp_path: Path, wallet: Wallet) -> Path:
    return data(tmp_path) / "sessions" / (wallet.did.replace(":", "_") + ".json")


def whoami(wallet: Path | None = None, /, **env: str | None) -> tuple[int, str, str]:
    where = ("--wallet", str(wallet)) if wallet else ()
    return run("whoami", *where, "--json", env=dict(env))


def test_two_wallets_keep_their_own_sessions(live_api: str, tmp_path: Path) -> None:
    alice = fast_wallet(tmp_path / "alice.json", "Alice")
    bob = fast_wallet(tmp_path / "bob.json", "Bob")
    assert run("login", "--wallet", str(alice.path))[0] == 0
    assert run("login", "--wallet", str(bob.path))[0] == 0  # Bob's login leaves Alice's
    for wallet in (alice, bob):
        saved = session_path(tmp_path, wallet)
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert json.loads(saved.read_text())["did"] == wallet.did

    no_passphrase: dict[str, str | None] = {"KRAKEN_WALLET_PASSPHRASE": None}
    code, out, err = whoami(alice.path, **no_passphrase)  # picking a session needs none
    assert code == 0, err
    me = json.loads(out)
    assert (me["did"], me["name"], me["wallet"]) == (alice.did, "Alice", str(alice.path))
    code, out, _ = whoami(KRAKEN_WALLET=str(bob.path), **no_passphrase)
    assert (json.loads(out)["did"], json.loads(out)["name"]) == (bob.did, "Bob")
    code, out, _ = whoami(alice.path, KRAKEN_WALLET=str(bob.path))  # --wallet wins
    assert json.loads(out)["did"] == alice.did

    # a command without --wallet acts for KRAKEN_WALLET's wallet, with that wallet's session
    code, out, err = run(*PRODUCT_ARGS, env={"KRAKEN_WALLET": str(alice.path)})
    assert code == 0, err
    assert json.loads(out)["owner"] == alice.did
    code, out, _ = run(*PRODUCT_ARGS, env={"KRAKEN_WALLET": str(bob.path)})
    assert json.loads(out)["owner"] == bob.did

    code, out, _ = run("logout", "--wallet", str(alice.path))
    assert code == 0 and out.startswith(f"logged out: the wallet {alice.path}")
    assert not session_path(tmp_path, alice).exists()
    assert whoami(bob.path)[0] == 0  # Bob's session goes on
    code, _, err = whoami(alice.path)
    assert code == 1 and "[unauthenticated]" in err
    assert f"no session here; log in with the wallet {alice.path} ({alice.did})" in err
    assert f"run 'kraken-market login --wallet {alice.path}'" in err
    code, _, err = run(*PRODUCT_ARGS, env={"KRAKEN_WALLET": str(alice.path)})
    assert code == 1 and "[unauthenticated]" in err
    assert f"you are not logged in with the wallet {alice.path} ({alice.did})" in err
    assert "run 'kraken-market login'" in err  # KRAKEN_WALLET already names the wallet
    code, _, err = whoami()  # the default wallet, data_dir/wallet.json, does not exist
    assert code == 1 and f"no wallet at {data(tmp_path) / 'wallet.json'}" in err


def test_whoami_shows_the_bound_account_not_the_did(live_api: str, tmp_path: Path) -> None:
    wallet = fast_wallet(data(tmp_path) / "wallet.json")
    assert run("login")[0] == 0
    code, out, _ = whoami()
    me = json.loads(out)
    assert (me["acting_as"], me["account"], me["company"]) == (wallet.did, None, None)
    assert me["scope"] == ["buy", "manage", "publish"] and me["roles"] == []
    code, out, _ = run("whoami")
    assert code == 0 and "none bound: run 'kraken-market wallet bind'" in out
    assert run("wallet", "bind")[0] == 0
    code, out, _ = whoami()
    assert json.loads(out)["account"] == wallet.address  # the 0x account
    code, out, _ = run("whoami")
    assert wallet.address in out and "yourself" in out


def test_the_session_file_of_earlier_versions_moves_to_its_wallet(
    live_api: str, tmp_path: Path
) -> None:
    alice = fast_wallet(tmp_path / "alice.json", "Alice")
    bob = fast_wallet(tmp_path / "bob.json", "Bob")
    assert run("login", "--wallet", str(alice.path))[0] == 0
    legacy = data(tmp_path) / "cli-session.json"  # where earlier versions kept the one session
    os.replace(session_path(tmp_path, alice), legacy)
    code, _, err = whoami(bob.path)  # not Bob's: it stays where it is, unused
    assert code == 1 and "[unauthenticated]" in err
    assert legacy.exists()
    code, out, err = whoami(alice.path)  # Alice's: moved to her place, and used
    assert code == 0, err
    assert json.loads(out)["did"] == alice.did
    assert not legacy.exists()
    assert stat.S_IMODE(session_path(tmp_path, alice).stat().st_mode) == 0o600
