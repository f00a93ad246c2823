"""A newcomer's journeys on a running platform, with the documented commands only: two
fresh wallets side by side in one data directory (each its own session); a seller sells
a CSV for analytics, a file and a stream in one command each, amounts in DATA; a buyer
is quoted, refused before paying for a function that does not exist (balance
unchanged), pays for a mean and gets it, is refunded at once when a share file went bad
after the quote (balance restored); buys the file and opens it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd  # type: ignore[import-untyped]

from tests.e2e.test_cli_trade import newcomer, run, running  # noqa: F401 - the fixture

DATA = 10**18


def balance(env: dict[str, str]) -> int:
    account = json.loads(run(env, "wallet", "show", "--json").stdout)["address"]
    return int(json.loads(run(env, "ledger", "balance", account, "--json").stdout)["data"])


def test_a_newcomer_sells_and_buys_with_documented_commands(
    running: dict[str, str],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    seller = newcomer(running, tmp_path, "Sam")
    visits = tmp_path / "clinic_visits.csv"
    rows = [(18 + (i * 7) % 70, "f" if i % 3 else "m", 55 + (i * 13) % 40) for i in range(40)]
    visits.write_text("age,sex,heart_rate\n" + "".join(f"{a},{s},{h}\n" for a, s, h in rows))
    refused = run(seller, "sell", "analytics", str(visits), "--price", "2.5", ok=False)
    assert refused.returncode != 0 and "--purpose" in refused.stderr  # nothing described
    sold = run(
        seller, "sell", "analytics", str(visits), "--price", "2.5", "--purpose", "research",
        "--stake", "5", "--yes", "--json",
    )  # fmt: skip
    analytics = json.loads(sold.stdout)
    assert analytics["rows"] == 40 and analytics["listed"], sold.stderr
    assert "schema read off the data (40 rows)" in sold.stderr
    product = json.loads(run(seller, "products", "show", analytics["product"], "--json").stdout)
    assert [c["name"] for c in product["schema"]["columns"]] == ["age", "sex", "heart_rate"]
    assert (
        product["schema"]["columns"][0] | {"min": 0, "max": 90} == product["schema"]["columns"][0]
    )
    assert product["prices"]["computation"] == str(25 * DATA // 10)

    buyer = newcomer(running, tmp_path, "Rhea")
    spec = tmp_path / "avg.json"
    spec.write_text(json.dumps({"function": "avg@1", "columns": ["age"]}))
    before = balance(buyer)
    quoted = run(
        buyer, "trade", "quote", "--spec", str(spec), "--product", analytics["product"], ok=False
    )
    assert quoted.returncode == 1 and "function_unknown" in quoted.stderr
    unpaid = run(
        buyer, "trade", "compute", "--spec", str(spec), "--product", analytics["product"],
        "--out", str(tmp_path / "avg.csv"), ok=False,
    )  # fmt: skip
    assert unpaid.returncode == 1 and "quote_refused" in unpaid.stderr
    assert balance(buyer) == before and not (tmp_path / "avg.csv").exists()

    spec.write_text(json.dumps({"function": "mean@1", "columns": ["age", "heart_rate"]}))
    quote = json.loads(
        run(
            buyer, "trade", "quote", "--spec", str(spec), "--product", analytics["product"],
            "--json",
        ).stdout
    )  # fmt: skip
    assert quote["payable"] and quote["price"] == str(25 * DATA // 10) and quote["rows"] == 40
    result = tmp_path / "mean.csv"
    run(
        buyer, "trade", "compute", "--spec", str(spec), "--product", analytics["product"],
        "--out", str(result),
    )  # fmt: skip
    table = pd.read_csv(result, index_col=0)
    expected = pd.DataFrame(rows, columns=["age", "sex", "heart_rate"])
    assert abs(float(table.iloc[0, 0]) - expected["age"].mean()) < 1e-3
    assert balance(buyer) == before - 25 * DATA // 10
    assert "2.5 DATA" in run(buyer, "trade", "quote", "--spec", str(spec), "--product",
                             analytics["product"]).stderr  # fmt: skip

    # A share file rots on the platform's disk after the quote was given: the nodes refuse
    # the paid job for the seller's fault and the buyer has the payment back at once.
    storage = Path(running["KRAKEN_DATA_DIR"]) / "storage" / analytics["product"]
    [share] = [f for f in storage.rglob("node-1.kshare")]
    rotten = bytearray(share.read_bytes())
    rotten[-100] ^= 0xFF
    share.write_bytes(bytes(rotten))
    paid_before = balance(buyer)
    refunded = run(
        buyer, "trade", "compute", "--spec", str(spec), "--product", analytics["product"],
        "--out", str(tmp_path / "again.csv"), ok=False,
    )  # fmt: skip
    assert refunded.returncode == 1 and "computation_refunded" in refunded.stderr
    assert "came back to your account at once" in " ".join(refunded.stderr.split())
    assert balance(buyer) == paid_before and not (tmp_path / "again.csv").exists()

    # two wallets, one data directory: each command uses its own wallet's session
    sam = json.loads(run(seller, "whoami", "--json").stdout)
    rhea = json.loads(run(buyer, "whoami", "--json").stdout)
    assert (sam["name"], rhea["name"]) == ("Sam", "Rhea")
    assert sam["account"] != rhea["account"] and sam["account"].startswith("0x")
    log = tmp_path / "runs.csv"
    log.write_text("day,km\n" + "".join(f"2026-03-{d:02d},{d}.5\n" for d in range(1, 20)))
    file = json.loads(
        run(
            seller, "sell", "file", str(log), "--price", "3", "--purpose", "research", "--json"
        ).stdout
    )
    assert file["listed"]
    stream = json.loads(
        run(
            seller, "sell", "stream", "--title", "Air quality Turin", "--price-per-second",
            "0.0001", "--purpose", "research", "--json",
        ).stdout
    )  # fmt: skip
    assert stream["listed"]

    bought = json.loads(run(buyer, "trade", "buy", file["product"], "--json").stdout)
    opened = tmp_path / "opened.csv"
    run(
        buyer, "files", "fetch", file["product"], "--purchase", str(bought["purchase_id"]),
        "--out", str(opened),
    )  # fmt: skip
    assert opened.read_bytes() == log.read_bytes()
