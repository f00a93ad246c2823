"""``kraken-market analytics share`` (the Typer app of cli/analytics.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi import FastAPI
from typer.testing import CliRunner

from kraken_market.cli.analytics import app
from kraken_market.settings import get_settings
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.manifest import verify_manifest
from tests.conftest import person
from tests.factories import product_body

runner = CliRunner()
SCHEMA = {
    "columns": [
        {"name": "age", "type": "numeric", "min": 0, "max": 130},
        {"name": "sex", "type": "categorical", "categories": ["f", "m"]},
    ]
}


@pytest.fixture
def setup(
    app: FastAPI, served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """Olga's analytics product in a served catalog; her key as a PEM file, three node
    keys in a nodes file, the CLI pointed at the API with her session."""
    olga = person(app, "olga")
    product = olga.api.create_product(product_body("analytics", schema=SCHEMA))
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("KRAKEN_API_URL", served)
    monkeypatch.setenv("KRAKEN_API_TOKEN", olga.token)
    for name in ("KRAKEN_CONFIG", "KRAKEN_STORAGE", "KRAKEN_WALLET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    (tmp_path / "data.csv").write_text("age,sex\n31,f\n45,m\n52,f\n")
    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    keys = [NodeKeyPair.generate() for _ in range(3)]
    nodes = [
        {"index": i, "public_key": base64.urlsafe_b64encode(k.public_key.raw).decode().rstrip("=")}
        for i, k in enumerate(keys)
    ]
    nodes[1] = {"index": 1, "hpke_public_key": keys[1].public_key.raw.hex()}  # as nodes say
    nodes[2]["public_key"] = keys[2].public_key.raw.hex()  # hex is accepted too
    (tmp_path / "nodes.json").write_text(json.dumps({"nodes": nodes}))
    pem = olga.key.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (tmp_path / "owner.pem").write_bytes(pem)
    yield {
        name: tmp_path / name for name in ("data.csv", "schema.json", "nodes.json", "owner.pem")
    } | {
        "out": tmp_path / "shares",
        "product": product["id"],
        "olga": olga,
        "storage": Path(app.state.settings.resolved_storage_location),
    }
    get_settings.cache_clear()


def share(paths: dict[str, Any], *extra: str, data: str = "data.csv", out: bool = True):
    args = ["share", str(paths[data]) if data in paths else data, "--product", paths["product"]]
    args += ["--schema", str(paths["schema.json"]), "--nodes", str(paths["nodes.json"])]
    args += ["--owner-key", str(paths["owner.pem"])]
    args += ["--out", str(paths["out"])] if out else []
    return runner.invoke(app, [*args, *extra])


def test_share_prints_the_files_and_writes_a_signed_manifest(setup) -> None:
    result = share(setup)
    assert result.exit_code == 0, result.output
    assert "shared 3 rows x 3 columns of data.csv among 3 nodes (any 2 recombine)" in result.stdout
    manifests = list(setup["out"].rglob("manifest.jws"))
    assert len(manifests) == 1
    manifest = verify_manifest(manifests[0].read_text(), setup["olga"].key.did, setup["product"])
    assert [c.name for c in manifest.columns] == ["age", "sex=f", "sex=m"]
    link = manifests[0].relative_to(setup["out"]).as_posix()
    assert f"products update {setup['product']} --link {link}" in " ".join(result.stdout.split())
    assert "fewer than the smallest minimum cohort" in result.stderr  # 3 rows < 10


def test_share_json(setup) -> None:
    result = share(setup, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["manifest"]["rows"] == 3 and body["linked"] is False
    assert Path(body["path"]).read_text() == body["jws"]
    assert (setup["out"] / body["storage_link"]).read_text() == body["jws"]


def test_into_the_platforms_storage_the_product_is_linked(setup) -> None:
    args = ["share", str(setup["data.csv"]), "--product", setup["product"]]
    args += ["--nodes", str(setup["nodes.json"]), "--owner-key", str(setup["owner.pem"])]
    result = runner.invoke(app, [*args, "--json"])  # the schema: the catalog's
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["linked"] is True
    stored = setup["storage"] / body["storage_link"]
    assert stored.read_text() == body["jws"]  # uploaded through the API
    product = setup["olga"].api.product(setup["product"])
    assert product["storage_links"] == [body["storage_link"]]


def test_a_key_that_is_not_the_owners_is_refused_before_sharing(setup) -> None:
    other = Ed25519PrivateKey.generate()
    pem = other.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    setup["owner.pem"].write_bytes(pem)
    result = share(setup)
    assert result.exit_code == 1
    assert "error [owner_key_mismatch]" in result.stderr
    assert f"owned by {setup['olga'].key.did}" in " ".join(result.stderr.split())
    assert not setup["out"].exists() or not list(setup["out"].rglob("*"))


def test_a_bad_cell_is_reported_with_row_and_column(setup) -> None:
    setup["data.csv"].write_text("age,sex\n31,f\n45,q\n")
    result = share(setup)
    assert result.exit_code == 1
    assert "error [unknown_category]: row 2, column 'sex': 'q' is not a declared category" in (
        result.stderr
    )
    assert not setup["out"].exists() or not list(setup["out"].rglob("*.kshare"))


def test_bad_inputs_are_explained(setup) -> None:
    setup["nodes.json"].write_text(json.dumps({"nodes": [{"index": 0, "public_key": "abcd"}]}))
    result = share(setup)
    assert result.exit_code == 2
    assert "a key is 32 bytes" in result.stderr
    setup["schema.json"].write_text(json.dumps({"columns": [{"name": "age", "type": "text"}]}))
    result = share(setup)
    assert result.exit_code == 2
    assert "not a valid product schema" in result.stderr
    result = share(setup, data="missing.csv")
    assert result.exit_code == 1 and "no data file at missing.csv" in result.stderr


def test_help_teaches() -> None:
    result = runner.invoke(app, ["share", "--help"])
    assert result.exit_code == 0
    for words in ("Shamir", "HPKE", "row and", "registered on chain", "DID key", '"nodes"'):
        assert words in " ".join(result.stdout.split())
