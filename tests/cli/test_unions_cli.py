"""Two sellers pool their analytics products through the CLI alone, on the embedded
chain served over JSON-RPC: ``unions create`` and ``unions consent`` record the union in
the catalog and on chain from each seller's wallet; it shows waiting for consent, then
waiting for the chain, and is active once the API's indexer saw the chain create it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kraken_market.api.app import create_app
from kraken_market.ledger.indexer import Indexer
from kraken_market.settings import Settings, get_settings
from tests import test_sdk_login
from tests.cli.test_cli import PASSPHRASE, free_port, run, serving_on
from tests.ledger.conftest import Market

chain = test_sdk_login.chain  # the embedded chain served over JSON-RPC, as the SDK's test


@pytest.fixture
def platform(
    chain: tuple[str, Market], engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Market, Indexer]]:
    """The API on a real server and the CLI pointed at it and at the chain (one data
    directory: the same deployment file and demo issuer); the indexer is polled by hand."""
    chain_url, market = chain
    port = free_port()
    data = tmp_path / "data"
    for name, value in {
        "KRAKEN_DATA_DIR": str(data),
        "KRAKEN_API_URL": f"http://127.0.0.1:{port}",
        "KRAKEN_CHAIN_URL": chain_url,
        "KRAKEN_WALLET_PASSPHRASE": PASSPHRASE,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("KRAKEN_CONFIG", "KRAKEN_DATABASE_URL", "KRAKEN_API_TOKEN", "KRAKEN_WALLET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    settings = Settings(environment="test", write_burst=100_000, anonymous_write_burst=100_000)
    market.deployment.save(settings.deployment_file)
    app = create_app(settings, engine=engine, verifier=market.as_(2))
    with serving_on(app, port):
        yield market, Indexer(market.w3, market.deployment, engine)
    get_settings.cache_clear()


def seller(tmp_path: Path, name: str, schema: Path) -> tuple[dict[str, str | None], str]:
    """A new person with a wallet, logged in, bound, funded, with one analytics product
    published on chain: the environment that acts as them and the product's id."""
    env: dict[str, str | None] = {"KRAKEN_WALLET": str(tmp_path / f"{name}.json")}
    for command in (
        ["wallet", "create"],
        ["issuer", "issue", "person", "--name", name, "--wallet", str(env["KRAKEN_WALLET"])],
        ["login"],
        ["wallet", "bind"],
        ["ledger", "faucet", "100"],
    ):
        code, _, err = run(*command, env=env)
        assert code == 0, (command, err)
    code, out, err = run(
        "products", "create", "--title", f"{name}'s cohort", "--mode", "analytics",
        "--price-computation", "1", "--purpose", "research", "--schema", str(schema),
        "--stake", "10", "--json", env=env,
    )  # fmt: skip
    assert code == 0, err
    product = json.loads(out)["id"]
    code, _, err = run("trade", "publish", product, "--wait", "0", env=env)
    assert code == 0, err
    return env, product


# SQLite only: the catalog's union rules run on PostgreSQL in tests/catalog/test_unions.py,
# and this journey through the CLI and the chain takes a minute per database.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_union_is_formed_on_chain_through_the_cli_alone(
    platform: tuple[Market, Indexer], tmp_path: Path
) -> None:
    market, indexer = platform
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"columns": [{"name": "bpm", "type": "numeric", "min": 0,
                                               "max": 250}]}))  # fmt: skip
    sam, first = seller(tmp_path, "Sam", schema)
    sol, second = seller(tmp_path, "Sol", schema)

    code, out, err = run(
        "unions", "create", "--title", "Two cohorts", "--member", first,
        "--member", f"{second}:3", "--wait", "0", "--json", env=sam,
    )  # fmt: skip
    assert code == 0, err
    union = json.loads(out)
    assert union["status"] == "pending" and "on chain: propose sent" in err
    reader = market.as_(2)
    assert reader.union(union["id"])["consents_missing"] == 1  # type: ignore[index]
    code, out, _ = run("unions", "show", union["id"], env=sam)
    assert "(waiting for consent, analytics)" in " ".join(out.split())

    code, out, err = run("unions", "consent", union["id"], "--wait", "0", "--json", env=sol)
    assert code == 0, err
    assert json.loads(out)["status"] == "awaiting_chain"  # on chain, not indexed yet
    assert reader.union(union["id"])["status"] == "active"  # type: ignore[index]
    indexer.poll_once()
    code, out, _ = run("unions", "show", union["id"], env=sol)
    assert code == 0 and "(active, analytics)" in " ".join(out.split())
    code, out, err = run("unions", "consent", union["id"], "--wait", "0", "--json", env=sol)
    assert code == 0 and "on chain:" not in err  # nothing is sent twice
