"""``kraken-market unions``: pool products into Data Unions."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kraken_market.catalog.schemas import LIST_PRICE
from kraken_market.catalog.vocabulary import AccessMode
from kraken_market.cli.common import JsonOption, client, fails_cleanly, out, print_json, table
from kraken_market.cli.ledger_common import api_token, shown
from kraken_market.client import MarketClient

app = typer.Typer(help="Form Data Unions of products and consent to them.", no_args_is_help=True)


def _member(spec: str) -> dict[str, Any]:
    product_id, _, weight = spec.partition(":")
    if weight and not weight.isdigit():
        raise typer.BadParameter(f"{spec!r}: write PRODUCT_ID or PRODUCT_ID:WEIGHT (whole number)")
    return {"product_id": product_id, "weight": int(weight) if weight else 1}


UNIT = {
    AccessMode.BATCH: "access",
    AccessMode.STREAM: "second",
    AccessMode.ANALYTICS: "computation",
}


def _show(union: dict[str, Any], api: MarketClient) -> None:
    """The union, its members and their list prices; a union costs the sum of its
    members' prices (the chain adds them up), split among them by weight."""
    out.print(
        f"[bold]{union['title']}[/bold]  {union['id']}  ({union['status']}, {union['access_mode']})"
    )
    mode = AccessMode(union["access_mode"])
    token = api_token(api)
    prices = [api.product(m["product_id"])["prices"][LIST_PRICE[mode]] for m in union["members"]]
    rows = [
        [
            m["product_id"],
            m["owner"],
            m["weight"],
            "yes" if m["consented"] else "no",
            shown(p, token),
        ]
        for m, p in zip(union["members"], prices, strict=True)
    ]
    table("members", ["product", "owner", "weight", "consented", f"per {UNIT[mode]}"], rows)
    total = sum(int(p or 0) for p in prices)
    out.print(f"a buyer pays {shown(total, token)} per {UNIT[mode]} for the union", markup=False)


@app.command()
@fails_cleanly
def create(
    title: Annotated[str, typer.Option(help="Name of the union")],
    member: Annotated[list[str], typer.Option(help="PRODUCT_ID[:WEIGHT]; repeat, at least 2")],
    description: Annotated[str, typer.Option()] = "",
    as_json: JsonOption = False,
) -> None:
    """Propose a union; owners of the other members then run 'unions consent'."""
    body = {"title": title, "description": description, "members": [_member(m) for m in member]}
    with client() as api:
        union = api.create_union(body)
        print_json(union) if as_json else _show(union, api)


@app.command()
@fails_cleanly
def consent(union_id: str, as_json: JsonOption = False) -> None:
    """Consent to a union for every member product you own."""
    with client() as api:
        union = api.consent(union_id)
        print_json(union) if as_json else _show(union, api)


@app.command()
@fails_cleanly
def reject(union_id: str) -> None:
    """Withdraw a pending union as the owner of one of its members (its members may then
    be proposed again, with other weights)."""
    with client() as api:
        api.reject_union(union_id)
    out.print(f"union {union_id} withdrawn")


@app.command()
@fails_cleanly
def show(union_id: str, as_json: JsonOption = False) -> None:
    """Show a union and its members."""
    with client() as api:
        union = api.union(union_id)
        print_json(union) if as_json else _show(union, api)


@app.command("list")
@fails_cleanly
def list_(
    member: Annotated[str | None, typer.Option(help="Only unions holding this product")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOption = False,
) -> None:
    """List unions, newest first."""
    with client() as api:
        page = api.unions(member=member, limit=limit, cursor=cursor)
    if as_json:
        print_json(page)
        return
    rows = [
        [u["id"][:18] + "…", u["title"], u["access_mode"], u["status"], len(u["members"])]
        for u in page["items"]
    ]
    table(f"{len(rows)} unions", ["id", "title", "mode", "status", "members"], rows)
    if page["next_cursor"]:
        out.print(f"more: --cursor {page['next_cursor']}")
