"""``kraken-market unions``: pool products into Data Unions.

A union is sold by the chain, which needs every member owner's consent signed
from their own account: ``create`` and ``consent`` record it in the catalog and
then on chain from your wallet (:mod:`kraken_market.trade.unions`), so nobody
needs the Python ledger client. Runs on the owner's machine: the wallet signs here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kraken_market.catalog.schemas import LIST_PRICE
from kraken_market.catalog.vocabulary import AccessMode
from kraken_market.cli.common import (
    JsonOption,
    client,
    err,
    fails_cleanly,
    out,
    print_json,
    table,
)
from kraken_market.cli.desk import WalletEmployee
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption, api_token, shown
from kraken_market.client import MarketClient
from kraken_market.errors import KrakenError

if TYPE_CHECKING:
    from kraken_market.ledger.client import Ledger

app = typer.Typer(help="Form Data Unions of products and consent to them.", no_args_is_help=True)


def _member(spec: str) -> dict[str, Any]:
    product_id, _, weight = spec.partition(":")
    if weight and not weight.isdigit():
        raise typer.BadParameter(f"{spec!r}: write PRODUCT_ID or PRODUCT_ID:WEIGHT (whole number)")
    return {"product_id": product_id, "weight": int(weight) if weight else 1}


STATUS_WORDS = {
    "pending": "waiting for consent",
    "awaiting_chain": "waiting for the chain",
    "active": "active",
}
"""The API's union status in a person's words."""

Wait = Annotated[
    float, typer.Option(help="Seconds to wait for the chain's union to be indexed (active)")
]


def _status(union: dict[str, Any]) -> str:
    status = str(union["status"])
    return STATUS_WORDS.get(status, status)


UNIT = {
    AccessMode.BATCH: "access",
    AccessMode.STREAM: "second",
    AccessMode.ANALYTICS: "computation",
}


def _show(union: dict[str, Any], api: MarketClient) -> None:
    """The union, its members and their list prices; a union costs the sum of its
    members' prices (the chain adds them up), split among them by weight."""
    out.print(
        f"[bold]{union['title']}[/bold]  {union['id']}  ({_status(union)}, {union['access_mode']})"
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
    if union["status"] == "pending":
        waiting = [m["owner"] for m in union["members"] if not m["consented"]]
        out.print(
            f"waiting for consent: the owners of the other members ({', '.join(waiting)}) run "
            f"'kraken-market unions consent {union['id']}'",
            markup=False,
            soft_wrap=True,
        )
    elif union["status"] == "awaiting_chain":
        out.print(
            "waiting for the chain: every owner consented; the union is for sale once the "
            f"chain has created it (run 'kraken-market unions consent {union['id']}' again "
            "if a consent on chain failed)",
            markup=False,
            soft_wrap=True,
        )


def _signer(dev_account: int | None, key_file: Path | None) -> Ledger:
    """The chain client that signs for the owner, checked before the catalog changes
    (no wallet, no chain: nothing is recorded anywhere)."""
    from kraken_market.cli.ledger_common import ledger

    return ledger(dev_account, key_file, signs=True)


def _can_sign(api: MarketClient, products: list[str], employee: WalletEmployee) -> None:
    """Acting for a company, its Depute tool must be there to sign on chain: checked
    before the catalog changes."""
    from kraken_market.trade.unions import company_desk

    company = api.me().get("company")
    if company:
        company_desk(api, str(company), products, employee)


def _on_chain(
    api: MarketClient, chain: Ledger, union_id: str, wait: float, employee: WalletEmployee
) -> dict[str, Any]:
    """Propose or consent on chain from the signer's account, or from the company's
    through its Depute tool when acting for one; the union as the API shows it
    afterwards. A failure says that the catalog step stands and what to run."""
    from kraken_market.trade.unions import join_for_session

    try:
        done = join_for_session(api, chain, union_id, employee, wait=wait)
    except KrakenError:
        err.print(
            f"union {union_id} is recorded in the catalog, but not on chain: once the cause "
            f"below is fixed, run 'kraken-market unions consent {union_id}'",
            markup=False,
            soft_wrap=True,
        )
        raise
    if done is not None and done.sent:
        by = f" by {done.company}'s Depute tool" if done.company else ""
        err.print(f"on chain: {done.sent} sent{by} ({done.transaction})", markup=False)
    return api.union(union_id)


@app.command()
@fails_cleanly
def create(
    title: Annotated[str, typer.Option(help="Name of the union")],
    member: Annotated[list[str], typer.Option(help="PRODUCT_ID[:WEIGHT]; repeat, at least 2")],
    description: Annotated[str, typer.Option()] = "",
    wait: Wait = 30.0,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Propose a union, in the catalog and on chain (your wallet signs); owners of the
    other members then run 'unions consent'. It is for sale once every owner consented."""
    members = [_member(m) for m in member]
    body = {"title": title, "description": description, "members": members}
    chain = _signer(dev_account, key_file)
    employee = WalletEmployee()
    with client() as api:
        _can_sign(api, [m["product_id"] for m in members], employee)
        union = api.create_union(body)
        union = _on_chain(api, chain, union["id"], wait, employee)
        print_json(union) if as_json else _show(union, api)


@app.command()
@fails_cleanly
def consent(
    union_id: str,
    wait: Wait = 30.0,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Consent to a union for every member product you own, in the catalog and on chain
    (your wallet signs; proposes it on chain if nobody has yet). Harmless to run again."""
    chain = _signer(dev_account, key_file)
    employee = WalletEmployee()
    with client() as api:
        _can_sign(api, [m["product_id"] for m in api.union(union_id)["members"]], employee)
        api.consent(union_id)
        union = _on_chain(api, chain, union_id, wait, employee)
        print_json(union) if as_json else _show(union, api)


@app.command()
@fails_cleanly
def reject(
    union_id: str, dev_account: DevAccountOption = None, key_file: KeyFileOption = None
) -> None:
    """Withdraw a pending union as the owner of one of its members, in the catalog and on
    chain (its members may then be proposed again, with other weights)."""
    from kraken_market.cli.ledger_common import ledger
    from kraken_market.trade.unions import withdraw_on_chain

    chain = ledger(dev_account, key_file, signs=True)
    with client() as api:
        api.reject_union(union_id)
    sent = withdraw_on_chain(chain, union_id)
    out.print(f"union {union_id} withdrawn" + (f" (on chain: {sent})" if sent else ""))


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
        [u["id"][:18] + "…", u["title"], u["access_mode"], _status(u), len(u["members"])]
        for u in page["items"]
    ]
    table(f"{len(rows)} unions", ["id", "title", "mode", "status", "members"], rows)
    if page["next_cursor"]:
        out.print(f"more: --cursor {page['next_cursor']}")
