"""The TypeScript unit tests (``npx vitest run`` in web/: every package's tests, the
golden vectors included), and the other direction of the golden vectors: what the
TypeScript libraries wrote during that run (KRAKEN_GOLDEN_OUT) must open, verify and
recover with the Python implementation.

This is how ``make test`` runs the TypeScript tests: one Vitest run per session,
its output in the failure message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kraken_market.identity import binding, presentations
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.wallet import Wallet

WEB = Path(__file__).resolve().parents[2] / "web"
ARTIFACTS = {"binding", "eth", "keystores", "presentation", "wallet"}


def _without_color(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    npx = shutil.which("npx")
    if npx is None or not (WEB / "node_modules").is_dir():
        pytest.fail("Node.js (npx) and web/node_modules are needed: make test installs them")
    out = tmp_path_factory.mktemp("golden-out")
    run = subprocess.run(
        [npx, "vitest", "run"],
        cwd=WEB,
        env={**_without_color(os.environ), "NO_COLOR": "1", "KRAKEN_GOLDEN_OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if run.returncode != 0:
        pytest.fail(
            f"vitest failed ({run.returncode}):\n{run.stdout[-12_000:]}\n{run.stderr[-4_000:]}"
        )
    written = {p.stem for p in out.glob("*.json")}
    assert written == ARTIFACTS, f"the TypeScript tests wrote {sorted(written)}"
    return {name: json.loads((out / f"{name}.json").read_text()) for name in written}


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_a_wallet_written_in_typescript_unlocks_in_python(
    artifacts: dict[str, Any], tmp_path: Path
) -> None:
    made = artifacts["wallet"]
    path = tmp_path / "wallet.json"
    path.write_text(made["text"])
    path.chmod(0o600)
    wallet = Wallet.open(path)
    keys = wallet.unlock(made["passphrase"])
    assert (keys.did_key.did, keys.account.address) == (wallet.did, wallet.address)
    assert [c.type for c in wallet.credentials()] == ["PersonCredential"]
    opened = presentations.open_presentation(
        made["presentation"],
        DidResolver(),
        audience="https://market.example",
        now=datetime.now(UTC),
        max_bytes=65_536,
    )
    assert opened.holder == wallet.did
    assert opened.nonce == made["nonce"]
    assert opened.credentials == [wallet.credentials()[0].token]


def test_a_presentation_made_in_typescript_opens_in_python(artifacts: dict[str, Any]) -> None:
    made = artifacts["presentation"]
    opened = presentations.open_presentation(
        made["token"],
        DidResolver(),
        audience=made["audience"],
        now=_moment(made["now"]),
        max_bytes=65_536,
    )
    assert (opened.holder, opened.nonce, opened.credentials) == (
        made["holder"],
        made["nonce"],
        made["credentials"],
    )


def test_a_binding_made_in_typescript_verifies_in_python(artifacts: dict[str, Any]) -> None:
    made = artifacts["binding"]
    checked = binding.verify(
        made["jws"],
        made["account_signature"],
        DidResolver(),
        audience=made["audience"],
        now=_moment(made["now"]),
    )
    assert (checked.did, checked.account, checked.service) == (
        made["did"],
        made["account"],
        made["service"],
    )


def test_signatures_made_in_typescript_recover_in_eth_account(artifacts: dict[str, Any]) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct, encode_typed_data
    from eth_utils.crypto import keccak

    made = artifacts["eth"]
    signed_text = Account.recover_message(
        encode_defunct(text=made["message"]), signature=made["personal_sign"]
    )
    typed = made["typed_data"]["data"]
    full = {**typed, "message": {**typed["message"], "price": int(typed["message"]["price"])}}
    signed_typed = Account.recover_message(
        encode_typed_data(full_message=full), signature=made["typed_data"]["signature"]
    )
    raw = made["transaction"]["raw"]
    assert signed_text == signed_typed == Account.recover_transaction(raw) == made["address"]
    assert "0x" + keccak(hexstr=raw).hex() == made["transaction"]["hash"]


def test_keystores_written_in_typescript_decrypt_in_python(artifacts: dict[str, Any]) -> None:
    from eth_keyfile.keyfile import decode_keyfile_json

    made = artifacts["keystores"]
    kdfs = []
    for store in made["keystores"]:
        secret = decode_keyfile_json(store, made["passphrase"].encode())
        assert bytes(secret).hex() == made["secret"]
        kdfs.append((store["crypto"]["kdf"], store["crypto"]["kdfparams"].get("n")))
    assert kdfs == [("scrypt", 2**10), ("pbkdf2", None), ("scrypt", 2**18)]
