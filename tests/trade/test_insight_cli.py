"""``kraken-market products insight`` and ``products price-suggestion`` against a real API
server (uvicorn in a thread); the session token goes in KRAKEN_API_TOKEN, as in scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from kraken_market.cli.main import app as cli
from kraken_market.settings import get_settings
from tests.conftest import Account
from tests.factories import product_body
from tests.trade.test_insight_history import History, account, at

runner = CliRunner()
DATA = 10**18


@pytest.fixture
def cli_env(served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("KRAKEN_API_URL", served)
    monkeypatch.delenv("KRAKEN_CONFIG", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run(monkeypatch: pytest.MonkeyPatch, who: Account, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("KRAKEN_API_TOKEN", who.token)
    get_settings.cache_clear()
    result = runner.invoke(cli, ["products", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("cli_env")
def test_insight_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, alice: Account, bob: Account
) -> None:
    product = alice.api.create_product(product_body())["id"]
    history = History(engine)
    history.buy(product, account(), 4 * DATA, at("2026-03-03T12:00:00"), "education")
    refused = history.compute({product: DATA}, account(), at("2026-03-04T12:00:00"))
    history.refund(refused, account(), DATA, at("2026-03-04T12:00:01"))  # the shares were bad
    period = ["--from", "2026-03-02", "--to", "2026-03-15", "--bucket", "week"]

    code, out, err = run(monkeypatch, alice, "insight", product, *period, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["totals"]["revenue"] == {"gross": str(4 * DATA), "net": str(39 * DATA // 10)}
    assert [b["start"] for b in report["buckets"]] == ["2026-03-02", "2026-03-09"]

    code, out, err = run(monkeypatch, alice, "insight", product, *period)
    assert code == 0, err
    assert "by buyer category" in out and "by purpose" in out and "education" in out
    assert "3.9" in out and "unknown" in out  # net DATA; a buyer without a grant record
    words = " ".join(out.split())  # as read, whatever the terminal's width
    assert "1 paid for, 0 delivered, 0 reclaimed after the deadline, 1 refunded" in words
    assert f"'kraken-market ledger history {product}'" in words

    code, out, err = run(monkeypatch, bob, "insight", product)
    assert code == 1 and "error [not_owner]" in err
    code, out, err = run(monkeypatch, alice, "insight", product, "--bucket", "year")
    assert code == 1 and "error [validation_error]" in err


@pytest.mark.usefixtures("cli_env")
def test_price_suggestion_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, alice: Account, bob: Account
) -> None:
    mine = alice.api.create_product(product_body())["id"]
    bob.api.create_product(product_body(prices={"access": str(2 * DATA)}))

    code, out, err = run(monkeypatch, alice, "price-suggestion", mine)
    assert code == 0, err
    assert "based on the listed prices of 1 comparable product" in out
    assert "price per access" in out and "listed prices" in out

    args = ["price-suggestion", "--mode", "batch", "--tag", "health", "--column", "age", "--json"]
    code, out, err = run(monkeypatch, alice, *args)
    assert code == 0, err
    answer = json.loads(out)
    midpoint = str((5000 + 2 * DATA) // 2)  # of mine and bob's, equally similar
    assert (answer["basis"], answer["suggested"], answer["comparables"]) == (
        "listed_prices", midpoint, 2,
    )  # fmt: skip

    code, out, err = run(monkeypatch, alice, "price-suggestion", "--mode", "analytics")
    assert code == 0 and "no comparable products" in out
    code, out, err = run(monkeypatch, alice, "price-suggestion")
    assert code == 2 and "give a product id" in err
