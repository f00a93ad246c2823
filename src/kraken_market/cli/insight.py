"""``kraken-market products insight`` and ``products price-suggestion``: how a product
sells, and what to ask for one (both talk to the API; amounts shown in DATA)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kraken_market.cli.common import JsonOption, client, fails_cleanly, out, print_json, table
from kraken_market.cli.ledger_common import api_token, figure, unit
from kraken_market.ledger.amounts import Token

Bucket = Annotated[str, typer.Option(help="day | week | month")]
Day = Annotated[str | None, typer.Option(help="UTC day, YYYY-MM-DD (inclusive)")]


def _slices(title: str, slices: dict[str, dict[str, Any]], token: Token | None) -> None:
    rows = [
        [name, s["purchases"], figure(s["gross"], token), figure(s["net"], token)]
        for name, s in slices.items()
    ]
    table(title, ["", "purchases", f"gross {unit(token)}", f"net {unit(token)}"], rows)


@fails_cleanly
def insight(
    product_id: Annotated[str, typer.Argument(help="Product id (0x…) you own")],
    start: Annotated[
        str | None, typer.Option("--from", help="First UTC day, YYYY-MM-DD (default: by bucket)")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last UTC day (default: today)")] = None,
    bucket: Bucket = "day",
    as_json: JsonOption = False,
) -> None:
    """Views, purchases, computations and revenue of a product you own, per day, week
    or month, by buyer category and purpose."""
    given = {"from": start, "to": end, "bucket": bucket}
    params = {name: value for name, value in given.items() if value is not None}
    with client() as api:
        report = api.insight(product_id, **params)
        token = None if as_json else api_token(api)
    if as_json:
        print_json(report)
        return
    rows = [
        [
            b["start"],
            b["views"],
            sum(n for kind, n in b["purchases"].items() if kind != "via_union"),
            figure(b["revenue"]["gross"], token),
            figure(b["revenue"]["net"], token),
            figure(b["union_revenue"]["net"], token),
        ]
        for b in [*report["buckets"], {**report["totals"], "start": "total"}]
    ]
    symbol = unit(token)
    columns = ["from", "views", "bought", f"gross {symbol}", f"net {symbol}", "via unions"]
    table(f"{report['product'][:18]}… by {report['bucket']}", columns, rows)
    done = report["totals"]["computations"]
    if done["requested"]:
        out.print(
            f"computations: {done['requested']} paid for, {done['delivered']} delivered, "
            f"{done['reclaimed']} reclaimed after the deadline, {done['refunded']} refunded "
            "because a compute node refused your shares"
            + (
                f" (the reasons: 'kraken-market ledger history {product_id}')"
                if done["refunded"]
                else ""
            ),
            markup=False,
            highlight=False,
        )
        _slices("by buyer category", report["totals"]["by_category"], token)
    _slices("by purpose", report["totals"]["by_purpose"], token)


@fails_cleanly
def price_suggestion(
    product_id: Annotated[
        str | None, typer.Argument(help="Suggest for this product (its mode, tags, columns)")
    ] = None,
    mode: Annotated[str | None, typer.Option(help="batch | stream | analytics")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag; repeat")] = None,
    column: Annotated[
        list[str] | None, typer.Option("--column", help="Column name; repeat")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A price from what comparable products sold for. Example:

    kraken-market products price-suggestion --mode batch --tag health --column age
    """
    if product_id is not None and (mode or tag or column):
        raise typer.BadParameter("give a product id, or --mode with --tag/--column; not both")
    if product_id is None and mode is None:
        raise typer.BadParameter("give a product id, or --mode (and --tag/--column)")
    with client() as api:
        if product_id is not None:
            answer = api.price_suggestion(product_id)
        else:
            params = {"access_mode": mode, "tags": tag or [], "columns": column or []}
            answer = api.price_suggestion(None, **params)
        token = None if as_json else api_token(api)
    if as_json:
        print_json(answer)
        return
    out.print(answer["summary"], markup=False, highlight=False)
    symbol = unit(token)
    if answer["suggested"] is not None:
        values = [figure(answer[k], token) for k in ("suggested", "low", "high")]
        columns = [f"suggested {symbol}", f"low {symbol}", f"high {symbol}", "from"]
        basis = answer["basis"].replace("_", " ")
        table(f"price per {answer['unit']}", columns, [[*values, basis]])
    rows = [
        [p["id"][:18] + "…", p["title"], p["similarity"], _price(p["listed_price"], token)]
        for p in answer["products"]
    ]
    if rows:
        table("most similar products", ["id", "title", "similarity", f"listed {symbol}"], rows)


def _price(value: str | None, token: Token | None) -> str:
    return "" if value is None else figure(value, token)
