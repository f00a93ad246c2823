"""Products are priced and staked in DATA from the command line: amounts typed with
decimals, shown with the token's symbol, ``--base-units`` for scripts, ``--json`` with
both; the token's decimals come from the API (``GET /api/v1/ledger/token``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kraken_market.api.app import create_app
from kraken_market.ledger.routes import TokenSource
from kraken_market.settings import Settings, get_settings
from tests.cli.test_cli import PASSPHRASE, free_port, run, serving_on, sign_up
from tests.conftest import DeployedToken

DATA = 10**18
BATCH = ("products", "create", "--title", "Step counts", "--mode", "batch", "--purpose", "research")


@contextmanager
def api_with(
    token: TokenSource | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The API served with ``token`` (None: the chain's, and no chain is deployed), the
    CLI pointed at it."""
    port = free_port()
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KRAKEN_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("KRAKEN_WALLET_PASSPHRASE", PASSPHRASE)
    for name in ("KRAKEN_CONFIG", "KRAKEN_DATABASE_URL", "KRAKEN_API_TOKEN", "KRAKEN_WALLET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    with serving_on(create_app(Settings(), token=token), port) as url:
        yield url
    get_settings.cache_clear()


def test_prices_and_stake_are_typed_and_shown_in_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_with(DeployedToken(), tmp_path, monkeypatch):
        sign_up("alice")
        code, out, err = run(*BATCH, "--price-access", "2.5", "--stake", "10")
        assert code == 0, err
        assert "(batch: 2.5 DATA per access, stake 10 DATA)" in out
        product_id = out.split()[1]

        code, out, _ = run("products", "show", product_id, "--json")
        shown = json.loads(out)
        assert (shown["prices"]["access"], shown["stake"]) == (str(25 * DATA // 10), str(10 * DATA))
        assert (shown["prices_data"], shown["stake_data"]) == ({"access": "2.5"}, "10")
        code, out, _ = run("products", "show", product_id)
        assert "access 2.5 DATA" in out and "10 DATA (declared" in out
        assert "2500000000000000000" not in out

        code, out, _ = run("products", "list")
        assert "2.5 DATA per" in out  # the table folds "access" onto the next line
        for bounds, found in ((("--price-max", "2.4"), 0), (("--price-min", "2.5"), 1)):
            code, out, err = run("products", "list", *bounds, "--json")
            assert code == 0, err
            assert len(json.loads(out)["items"]) == found, bounds

        code, out, err = run(
            "products", "update", product_id, "--price-access", "0.000000000000000003"
        )
        assert code == 0, err
        assert "access 0.000000000000000003 DATA" in out  # 3 base units, shown as what they are
        code, out, _ = run(
            "products", "update", product_id, "--price-access", "3", "--base-units", "--json"
        )
        assert json.loads(out)["prices"]["access"] == "3"

        for args, message in [
            (
                ("--price-access", "1.0000000000000000001"),
                "--price-access: 1.0000000000000000001 has 19 decimals; DATA has 18",
            ),
            (("--price-access", "-2"), "--price-access: -2 is negative"),
            (("--price-access", "2 DATA"), "--price-access: '2 DATA' is not an amount of DATA"),
            (("--price-access", "1", "--stake", "1e3"), "--stake: '1e3' is not an amount"),
            (
                ("--price-access", "2.5", "--base-units"),
                "--price-access: 2.5 is not a whole number of base units",
            ),
        ]:
            code, _, err = run(*BATCH, *args)
            assert code == 1 and f"error [invalid_amount]: {message}" in err, (args, err)
        code, out, _ = run("products", "list", "--json")
        assert len(json.loads(out)["items"]) == 1  # nothing refused was created


def test_a_token_with_six_decimals_is_counted_in_its_own_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_with(DeployedToken("USDX", 6), tmp_path, monkeypatch):
        sign_up("alice")
        code, out, err = run(*BATCH, "--price-access", "1.5", "--json")
        assert code == 0, err
        created = json.loads(out)
        assert (
            created["prices"]["access"] == "1500000" and created["prices_data"]["access"] == "1.5"
        )
        code, _, err = run(*BATCH, "--price-access", "0.0000001")
        assert (
            code == 1
            and "has 7 decimals; USDX has 6, so the smallest amount is 0.000001 USDX" in err
        )
        code, out, _ = run("products", "show", created["id"])
        assert "access 1.5 USDX" in out


def test_without_a_chain_amounts_need_base_units_and_are_shown_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_with(None, tmp_path, monkeypatch):
        sign_up("alice")
        code, _, err = run(*BATCH, "--price-access", "5")
        assert code == 1 and "error [invalid_amount]: --price-access: amounts are in DATA" in err
        assert "--base-units" in err and "kraken-market up" in err
        code, out, err = run(*BATCH, "--price-access", "5000", "--base-units")
        assert code == 0, err
        assert "5000 base units per access" in out
        code, out, _ = run("products", "list", "--json")
        [item] = json.loads(out)["items"]
        assert item["prices"]["access"] == "5000" and "prices_data" not in item
