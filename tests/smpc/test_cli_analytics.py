"""``kraken-market analytics share`` (the Typer app of cli/analytics.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from typer.testing import CliRunner

from kraken_market.cli.analytics import app
from kraken_market.identity.dids import did_key
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.manifest import verify_manifest

PRODUCT = "0x" + "3c" * 32
runner = CliRunner()


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "data.csv").write_text("age,sex\n31,f\n45,m\n52,f\n")
    (tmp_path / "schema.json").write_text(
        json.dumps(
            {
                "columns": [
                    {"name": "age", "type": "numeric", "min": 0, "max": 130},
                    {"name": "sex", "type": "categorical", "categories": ["f", "m"]},
                ]
            }
        )
    )
    keys = [NodeKeyPair.generate() for _ in range(3)]
    nodes = [
        {"index": i, "public_key": base64.urlsafe_b64encode(k.public_key.raw).decode().rstrip("=")}
        for i, k in enumerate(keys)
    ]
    nodes[2]["public_key"] = keys[2].public_key.raw.hex()  # hex is accepted too
    (tmp_path / "nodes.json").write_text(json.dumps({"nodes": nodes}))
    owner = Ed25519PrivateKey.generate()
    pem = owner.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (tmp_path / "owner.pem").write_bytes(pem)
    (tmp_path / "did").write_text(did_key(owner.public_key()))
    return {
        name: tmp_path / name
        for name in ("data.csv", "schema.json", "nodes.json", "owner.pem", "did")
    } | {"out": tmp_path / "shares"}


def share(paths: dict[str, Path], *extra: str, data: str = "data.csv"):
    args = ["share", str(paths[data]) if data in paths else data, "--product", PRODUCT]
    args += ["--schema", str(paths["schema.json"]), "--nodes", str(paths["nodes.json"])]
    args += ["--owner-key", str(paths["owner.pem"]), "--out", str(paths["out"]), *extra]
    return runner.invoke(app, args)


def test_share_prints_the_files_and_writes_a_signed_manifest(setup) -> None:
    result = share(setup)
    assert result.exit_code == 0, result.output
    assert "shared 3 rows x 3 columns of data.csv among 3 nodes (any 2 recombine)" in result.stdout
    manifests = list(setup["out"].rglob("manifest.jws"))
    assert len(manifests) == 1
    manifest = verify_manifest(manifests[0].read_text(), setup["did"].read_text(), PRODUCT)
    assert [c.name for c in manifest.columns] == ["age", "sex=f", "sex=m"]


def test_share_json(setup) -> None:
    result = share(setup, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["manifest"]["rows"] == 3
    assert Path(body["path"]).read_text() == body["jws"]


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


def test_help_teaches(setup) -> None:
    result = runner.invoke(app, ["share", "--help"])
    assert result.exit_code == 0
    for words in ("Shamir", "HPKE", "row and column", "openssl genpkey", '"nodes"'):
        assert words in result.stdout
