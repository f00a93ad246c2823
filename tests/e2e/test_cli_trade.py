"""Two new users on a running platform, through the CLI only: a seller publishes an
encrypted file with a stake; a buyer gets a grant, pays, fetches the key from the nodes
and decrypts the file; bad input is refused with a message and changes nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_platform import CLI
from tests.e2e.test_up import start


@pytest.fixture
def running(environment: dict[str, str]) -> Iterator[dict[str, str]]:
    up, _ = start(environment, timeout=120)
    try:
        yield environment
    finally:
        up.send_signal(signal.SIGINT)
        up.communicate(timeout=60)


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert done.returncode == 0, (args, done.stderr[-2000:])
    return done


def newcomer(env: dict[str, str], tmp: Path, name: str, *extra: str) -> dict[str, str]:
    """A wallet with a PersonCredential, logged in, bound to its account, with DATA."""
    mine = {**env, "KRAKEN_WALLET": str(tmp / f"{name}.json")}
    run(mine, "wallet", "create")
    run(
        mine, "issuer", "issue", "person", "--name", name, "--wallet", mine["KRAKEN_WALLET"], *extra
    )
    run(mine, "login")
    run(mine, "wallet", "bind")
    run(mine, "ledger", "faucet", "100")
    return mine


def test_a_file_is_sold_and_bought_through_the_cli(running: dict[str, str], tmp_path: Path) -> None:
    seller = newcomer(running, tmp_path, "Sam")
    product = json.loads(
        run(
            seller, "products", "create", "--title", "Training log", "--mode", "batch",
            "--price-access", "3", "--purpose", "research", "--stake", "0",
            "--json",
        ).stdout
    )["id"]  # fmt: skip
    refused = run(seller, "trade", "publish", "not-an-id", ok=False)
    assert refused.returncode != 0 and "is not an id" in refused.stderr
    published = run(seller, "trade", "publish", product, "--stake", "10")
    assert "stake 10 DATA: listed" in " ".join(published.stdout.split())  # Rich folds lines
    status = json.loads(run(seller, "trade", "status", product, "--json").stdout)
    assert status["published"] and status["quality"] == "staked"
    assert (status["stake_data"], status["prices_data"]["access"]) == ("10", "3")
    assert status["differs"] == []
    # the catalog declared no stake; it shows the 10 DATA the chain holds
    shown = json.loads(run(seller, "products", "show", product, "--json").stdout)
    assert (shown["stake"], shown["stake_data"], shown["stake_on_chain"]) == (
        str(10 * 10**18),
        "10",
        True,
    )
    data = tmp_path / "log.csv"
    data.write_text("day,km\n" + "".join(f"2026-03-{d:02d},{d}.5\n" for d in range(1, 20)))
    run(seller, "files", "publish", str(data), "--product", product)

    buyer = newcomer(running, tmp_path, "Rhea")
    nothing = tmp_path / "unbought.csv"
    unbought = run(
        buyer, "files", "fetch", product, "--purchase", "1", "--out", str(nothing), ok=False
    )
    assert unbought.returncode != 0 and "purchase_unknown" in unbought.stderr
    assert not nothing.exists()
    paying = run(buyer, "trade", "buy", product, "--json")
    assert f"price of {product} for access: 3 DATA" in paying.stderr  # shown before paying
    bought = json.loads(paying.stdout)
    assert (bought["amount"], bought["amount_data"]) == (str(3 * 10**18), "3")
    balance = json.loads(run(buyer, "ledger", "balance", "--json").stdout)
    assert balance["data_balance"] == "97"  # 100 DATA from the faucet, 3 paid
    out = tmp_path / "bought.csv"
    run(
        buyer,
        "files",
        "fetch",
        product,
        "--purchase",
        str(bought["purchase_id"]),
        "--out",
        str(out),
    )
    assert out.read_bytes() == data.read_bytes()
    seller_me = json.loads(run(seller, "whoami", "--json").stdout)  # side by side: both
    buyer_me = json.loads(run(buyer, "whoami", "--json").stdout)  # wallets stay logged in
    assert seller_me["name"] == "Sam" and buyer_me["name"] == "Rhea"
    assert buyer_me["account"].startswith("0x") and buyer_me["account"] != seller_me["account"]
    run(buyer, "logout")
    balance = run(buyer, "ledger", "balance", buyer_me["account"], "--json").stdout
    again = run(buyer, "trade", "buy", product, ok=False)  # logged out: the chain still knows
    assert again.returncode == 1 and "[already_bought]" in again.stderr
    assert f"--purchase {bought['purchase_id']}" in again.stderr and "--again" in again.stderr
    assert run(buyer, "ledger", "balance", buyer_me["account"], "--json").stdout == balance
    run(buyer, "login")
    run(buyer, "trade", "approve", str(bought["purchase_id"]), product)
    deadline = time.monotonic() + 30
    while True:  # the indexer sees the approval: the stake goes out one claim window later
        status = json.loads(run(buyer, "trade", "status", product, "--json").stdout)
        if status["quality"] == "approving" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (status["quality"], status["approvals"]) == ("approving", 1)
    assert status["stake"] == str(10 * 10**18) and status["release_at"] is not None
    refused = run(seller, "trade", "release", product, ok=False)
    assert refused.returncode == 1 and "release_not_due" in refused.stderr
    assert "one claim window after the first approval" in refused.stderr
