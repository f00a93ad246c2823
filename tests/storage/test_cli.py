"""``kraken-market analytics share --upload``: the shares go to the platform's storage
through the API (a real server in a thread), as the logged-in owner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from kraken_market.cli.main import app as cli
from kraken_market.settings import Settings, get_settings
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.storage import LocalDirectory
from tests.conftest import Account, serving
from tests.factories import SCHEMA, product_body
from tests.storage.objects import table

runner = CliRunner()


@pytest.fixture
def cli_env(app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI pointed at the app on a real server; the files ``share`` needs."""
    nodes = [
        {"index": i, "public_key": NodeKeyPair.generate().public_key.raw.hex()} for i in range(3)
    ]
    (tmp_path / "nodes.json").write_text(json.dumps({"nodes": nodes}))
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    table(30).to_csv(tmp_path / "visits.csv", index=False)
    for name in ("KRAKEN_CONFIG", "KRAKEN_API_TOKEN", "KRAKEN_WALLET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "cli"))
    with serving(app) as url:
        monkeypatch.setenv("KRAKEN_API_URL", url)
        yield tmp_path


def share(where: Path, product: str, key: Path, *extra: str, token: str | None = None):
    args = ["analytics", "share", str(where / "visits.csv"), "--product", product]
    args += ["--schema", str(where / "schema.json"), "--nodes", str(where / "nodes.json")]
    args += ["--owner-key", str(key), *extra]
    get_settings.cache_clear()
    try:
        return runner.invoke(cli, args, env={"KRAKEN_API_TOKEN": token} if token else {})
    finally:
        get_settings.cache_clear()


def test_share_uploads_to_the_platform(
    cli_env: Path, alice: Account, bob: Account, settings: Settings
) -> None:
    product = alice.api.create_product(product_body("analytics"))["id"]
    key = cli_env / "owner.key"
    key.write_text(alice.key.seed.hex())
    done = share(cli_env, product, key, "--upload", "--json", token=alice.token)
    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    link = answer["path"]
    assert link.startswith(f"{product}/") and link.endswith("/manifest.jws")  # a storage link
    stored = LocalDirectory(Path(settings.resolved_storage_location))
    assert stored.read(link).decode() == answer["jws"]
    assert all(stored.exists(f["name"]) for f in answer["manifest"]["files"])
    assert alice.api.product(product)["storage_links"] == [link]  # the product points at it
    told = share(cli_env, product, key, "--upload", token=alice.token)
    assert f"now points the compute nodes at {product}/" in told.stdout

    refused = share(cli_env, product, key, "--upload")  # not logged in
    assert refused.exit_code == 1
    assert "error [unauthenticated]" in refused.stderr and "kraken-market login" in refused.stderr
    stranger = share(cli_env, product, key, "--upload", token=bob.token)
    assert stranger.exit_code == 1 and "error [not_owner]" in stranger.stderr
    other_key = cli_env / "other.key"
    other_key.write_text(bob.key.seed.hex())  # not the product owner's DID
    wrong = share(cli_env, product, other_key, "--upload", token=alice.token)
    assert wrong.exit_code == 1 and "error [owner_key_mismatch]" in wrong.stderr  # before
    both = share(cli_env, product, key, "--upload", "--out", str(cli_env / "x"))
    assert both.exit_code == 2 and "either --upload" in both.stderr
    default = share(cli_env, product, key)  # the platform's storage is the default
    assert default.exit_code == 1 and "error [unauthenticated]" in default.stderr
