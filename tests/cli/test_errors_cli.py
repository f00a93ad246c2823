"""Errors in the user's words, against a real served API: each refusal a newcomer met
names the option or argument as typed and what to do next, and none prints the API's
internals (schema paths, pydantic type names, regular expressions); ``--json`` keeps the
API's precise details for scripts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli import test_cli as base
from tests.cli.test_wallet_cli import PASSPHRASE, data, fast_wallet

live_api = base.live_api  # the fixture: API served on a known port, CLI pointed at it
run = base.run
BATCH = ("products", "create", "--title", "Steps", "--price-access", "5")
INTERNALS = re.compile(
    r"body\.|path\.|query\.|discriminator|pattern|\^|\$'|union_tag|string_pattern|"
    r"\"loc\"|missing|Field required|Input should|String should"
)


def refused(*args: str, env: dict[str, str | None] | None = None) -> str:
    code, out, err = run(*args, env=env)
    assert code == 1, (args, out, err)
    assert not INTERNALS.search(err), err  # none of the API's internals
    return err


def test_a_missing_mode_is_named_as_the_option(live_api: str, tmp_path: Path) -> None:
    fast_wallet(data(tmp_path) / "wallet.json")
    assert run("login")[0] == 0
    # was: body: Unable to extract tag using discriminator 'access_mode'
    err = refused(*BATCH, "--purpose", "research")
    assert "error [validation_error]: --mode is required; choose batch, stream or analytics" in err
    err = refused(*BATCH, "--mode", "bulk", "--purpose", "research")
    assert "--mode 'bulk' is not allowed: use batch, stream or analytics" in err


def test_a_missing_purpose_is_named_as_the_option(live_api: str, tmp_path: Path) -> None:
    fast_wallet(data(tmp_path) / "wallet.json")
    assert run("login")[0] == 0
    # was: body.batch.policy.purposes: Field required
    err = refused(*BATCH, "--mode", "batch")
    assert "--purpose is required; choose research, public-health, commercial" in err
    err = refused(*BATCH, "--mode", "batch", "--purpose", "resarch")
    assert "--purpose 'resarch' is not allowed: use research, public-health" in err
    err = refused(*BATCH, "--mode", "batch", "--purpose", "research", "--tag", "Big Data")
    assert "--tag 'Big Data' must be lower-case letters, digits and '-'" in err
    code, _, err = run(*BATCH, "--mode", "batch", "--json")  # scripts keep the details
    assert code == 1 and '"loc"' in err and "purposes" in err


def test_a_malformed_product_id_is_named_as_the_argument(live_api: str) -> None:
    # was: path.product_id: String should match pattern '^0x[0-9a-fA-F]{64}$'
    err = refused("products", "show", "abc")
    assert "PRODUCT_ID 'abc' must be an id: 0x followed by 64 hex digits" in err
    err = refused("products", "history", "0x12")
    assert "PRODUCT_ID '0x12' must be an id" in err
    code, _, err = run("products", "show", "abc", "--json")
    assert code == 1 and "string_pattern_mismatch" in err  # scripts keep the details


def test_common_failures_say_what_to_do_next(live_api: str, tmp_path: Path) -> None:
    err = refused("products", "show", "0x" + "ab" * 32)
    assert "[product_not_found]" in err and "kraken-market products list" in err
    wallet = fast_wallet(data(tmp_path) / "wallet.json")
    err = refused("login", env={"KRAKEN_WALLET_PASSPHRASE": "not the passphrase"})
    assert "[wrong_passphrase]" in err and "KRAKEN_WALLET_PASSPHRASE" in err
    err = refused(*BATCH, "--mode", "batch", "--purpose", "research")  # not logged in
    assert "[unauthenticated]" in err
    assert f"you are not logged in with the wallet {wallet.path} ({wallet.did})" in err
    assert "run 'kraken-market login'" in err
    err = refused("wallet", "bind", "--wallet", str(wallet.path))
    assert "binding needs a login session" in err
    assert f"run 'kraken-market login --wallet {wallet.path}'" in err
    assert run("login", env={"KRAKEN_WALLET_PASSPHRASE": PASSPHRASE})[0] == 0
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"function": "Mean", "columns": ["age"]}))
    product = "0x" + "ab" * 32
    err = refused("trade", "compute", "--spec", str(spec), "--out", "x.csv", "--product", product)
    assert "[validation_error]" in err and "the field 'function'" in err
