"""``kraken-market products``: publish, find, change and retire data products."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kraken_market.cli.common import JsonOption, client, err, fails_cleanly, out, print_json, table
from kraken_market.cli.insight import insight, price_suggestion

app = typer.Typer(
    help="Describe, search, change and retire data products (talks to the API).",
    no_args_is_help=True,
)

Purposes = Annotated[
    list[str] | None,
    typer.Option(
        "--purpose",
        help="Allowed purpose; repeat (research, public-health, commercial, marketing, education)",
    ),
]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="Tag (a-z, 0-9, -); repeat")]
BuyerCategories = Annotated[
    list[str] | None,
    typer.Option(
        "--buyer-category",
        help="Allowed buyer category; repeat (individual, "
        "company, research-institution, public-body) (default: all)",
    ),
]
CredentialTypes = Annotated[
    list[str] | None, typer.Option("--credential-type", help="Credential buyers must hold; repeat")
]
Regions = Annotated[
    list[str] | None,
    typer.Option("--region", help="ISO 3166-1 alpha-2 code, EU or EEA; repeat (default: anywhere)"),
]
Parents = Annotated[
    list[str] | None, typer.Option("--parent", help="Product this one is derived from; repeat")
]
Links = Annotated[list[str] | None, typer.Option("--link", help="Storage link (opaque); repeat")]
Availabilities = Annotated[
    list[str] | None,
    typer.Option("--availability", help="listed, paused, retired; repeat (default: listed)"),
]


def _read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from ``path`` (the API checks its content)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read {what} JSON from {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} must hold a JSON object ({{...}}) for the {what}")
    return data


def _prices(
    access: str | None, computation: str | None, per_second: str | None, min_seconds: int | None
) -> dict[str, Any]:
    prices: dict[str, Any] = {
        "access": access,
        "computation": computation,
        "subscription_per_second": per_second,
        "subscription_min_seconds": min_seconds,
    }
    return {k: v for k, v in prices.items() if v is not None}


def _show(product: dict[str, Any]) -> None:
    prices = ", ".join(f"{k}={v}" for k, v in product["prices"].items() if v is not None)
    policy = product["policy"]
    rows = [
        ["id", product["id"]],
        ["title", product["title"]],
        ["owner", product["owner"]],
        ["mode", product["access_mode"]],
        ["availability", product["availability"]],
        ["prices", prices],
        ["stake", product["stake"]],
        ["purposes", ", ".join(policy["purposes"])],
        ["buyers", ", ".join(policy["buyer_categories"])],
        ["regions", ", ".join(policy["regions"]) or "anywhere"],
        ["tags", ", ".join(product["tags"])],
        ["parents", "\n".join(product["parents"])],
        ["version", product["version"]],
        ["updated", product["updated_at"]],
    ]
    table(product["title"], ["field", "value"], rows)


@app.command()
@fails_cleanly
def create(
    title: Annotated[str | None, typer.Option(help="Title shown to buyers")] = None,
    mode: Annotated[str | None, typer.Option(help="batch | stream | analytics")] = None,
    purpose: Purposes = None,
    description: Annotated[str | None, typer.Option()] = None,
    tag: Tags = None,
    buyer_category: BuyerCategories = None,
    credential_type: CredentialTypes = None,
    region: Regions = None,
    expires: Annotated[str | None, typer.Option(help="Policy expiry, ISO 8601 with zone")] = None,
    price_access: Annotated[str | None, typer.Option(help="Per access (batch), base units")] = None,
    price_computation: Annotated[
        str | None, typer.Option(help="Per computation (analytics)")
    ] = None,
    price_per_second: Annotated[str | None, typer.Option(help="Per second (stream)")] = None,
    min_seconds: Annotated[int | None, typer.Option(help="Minimum subscription (stream)")] = None,
    stake: Annotated[str | None, typer.Option(help="Quality stake, base units")] = None,
    parent: Parents = None,
    link: Links = None,
    schema: Annotated[Path | None, typer.Option(help='JSON file with {"columns": [...]}')] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", help="JSON body; options override its fields")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Describe a new data product. Example:

    kraken-market products create --title "Heart rate 2026" --mode batch
    --price-access 5000 --purpose research --tag health
    """
    body: dict[str, Any] = _read_json(from_file, "product") if from_file else {}
    for part in ("policy", "prices"):
        if not isinstance(body.get(part, {}), dict):
            raise typer.BadParameter(f"{part} in {from_file} must be a JSON object")
    policy: dict[str, Any] = dict(body.get("policy", {}))
    for key, value in (
        ("purposes", purpose),
        ("buyer_categories", buyer_category),
        ("credential_types", credential_type),
        ("regions", region),
    ):
        if value:
            policy[key] = value
    if expires:
        policy["expires_at"] = expires
    prices = {
        **body.get("prices", {}),
        **_prices(price_access, price_computation, price_per_second, min_seconds),
    }
    options = {
        "title": title,
        "access_mode": mode,
        "description": description,
        "tags": tag,
        "stake": stake,
        "parents": parent,
        "storage_links": link,
    }
    body.update({k: v for k, v in options.items() if v is not None})
    body["policy"], body["prices"] = policy, prices
    if schema:
        body["schema"] = _read_json(schema, "schema")
    with client() as api:
        product = api.create_product(body)
    if as_json:
        print_json(product)
    else:
        out.print(f"created [bold]{product['id']}[/bold]")


@app.command()
@fails_cleanly
def update(
    product_id: Annotated[str, typer.Argument(help="Product id (0x…)")],
    title: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    tag: Tags = None,
    availability: Annotated[str | None, typer.Option(help="listed | paused")] = None,
    price_access: Annotated[str | None, typer.Option()] = None,
    price_computation: Annotated[str | None, typer.Option()] = None,
    price_per_second: Annotated[str | None, typer.Option()] = None,
    min_seconds: Annotated[int | None, typer.Option()] = None,
    policy: Annotated[Path | None, typer.Option(help="JSON file with the whole new policy")] = None,
    parent: Parents = None,
    link: Links = None,
    as_json: JsonOption = False,
) -> None:
    """Change a product you own; only the options you give change (prices and policy are
    replaced as a whole)."""
    changes: dict[str, Any] = {
        "title": title,
        "description": description,
        "tags": tag,
        "availability": availability,
        "parents": parent,
        "storage_links": link,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    prices = _prices(price_access, price_computation, price_per_second, min_seconds)
    if prices:
        changes["prices"] = prices
    if policy:
        changes["policy"] = _read_json(policy, "policy")
    if not changes:
        raise typer.BadParameter("nothing to change: give at least one option")
    with client() as api:
        product = api.update_product(product_id, changes)
        on_chain = api.chain_state(product_id)["published"]
    print_json(product) if as_json else _show(product)
    if on_chain:  # the chain record is what purchases are checked against
        err.print(
            f"published on chain: apply it there with 'kraken-market trade sync {product_id}'"
        )


@app.command()
@fails_cleanly
def show(product_id: str, as_json: JsonOption = False) -> None:
    """Show one product."""
    with client() as api:
        product = api.product(product_id)
    print_json(product) if as_json else _show(product)


@app.command("list")
@fails_cleanly
def list_(
    q: Annotated[
        str | None, typer.Argument(help="Search words (all required; word* = prefix)")
    ] = None,
    mode: Annotated[str | None, typer.Option(help="batch | stream | analytics")] = None,
    tag: Tags = None,
    price_min: Annotated[str | None, typer.Option(help="List price at least (base units)")] = None,
    price_max: Annotated[str | None, typer.Option(help="List price at most (base units)")] = None,
    purpose: Annotated[str | None, typer.Option(help="Products allowing this purpose")] = None,
    buyer_category: Annotated[
        str | None, typer.Option(help="Products open to this buyer category")
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="Products of this owner (a DID: yours, or a company's)")
    ] = None,
    availability: Availabilities = None,
    sort: Annotated[
        str | None, typer.Option(help="relevance|newest|oldest|updated|price_asc|price_desc|title")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of a previous page")] = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow cursors to the end")] = False,
    as_json: JsonOption = False,
) -> None:
    """Search products (listed ones unless --availability says otherwise)."""
    items: list[dict[str, Any]] = []
    next_cursor = cursor
    with client() as api:
        while True:
            page = api.search_products(
                q=q,
                mode=mode,
                tag=tag,
                price_min=price_min,
                price_max=price_max,
                purpose=purpose,
                buyer_category=buyer_category,
                owner=owner,
                availability=availability,
                sort=sort,
                limit=limit,
                cursor=next_cursor,
            )
            items += page["items"]
            next_cursor = page["next_cursor"]
            if not (all_pages and next_cursor):
                break
    if as_json:
        print_json({"items": items, "next_cursor": next_cursor})
        return
    rows = [
        [
            p["id"][:18] + "…",
            p["title"],
            p["access_mode"],
            p["availability"],
            _list_price(p),
            ", ".join(p["tags"]),
        ]
        for p in items
    ]
    table(f"{len(items)} products", ["id", "title", "mode", "availability", "price", "tags"], rows)
    if next_cursor:
        out.print(f"more: --cursor {next_cursor}")


def _list_price(product: dict[str, Any]) -> str:
    prices = product["prices"]
    return {
        "batch": f"{prices.get('access')} /access",
        "stream": f"{prices.get('subscription_per_second')} /s",
        "analytics": f"{prices.get('computation')} /computation",
    }[product["access_mode"]]


@app.command()
@fails_cleanly
def retire(
    product_id: str,
    reason: Annotated[str | None, typer.Option(help="Kept in the product's history")] = None,
    as_json: JsonOption = False,
) -> None:
    """Retire a product you own, for good."""
    with client() as api:
        product = api.retire_product(product_id, reason)
    print_json(product) if as_json else out.print(f"retired {product['id']}")


@app.command()
@fails_cleanly
def history(product_id: str, as_json: JsonOption = False) -> None:
    """Every change to a product: who, when, what."""
    with client() as api:
        revisions = api.history(product_id)
    if as_json:
        print_json(revisions)
        return
    rows = [
        [r["version"], r["at"], r["actor"], r["action"], ", ".join(sorted(r["changes"]))]
        for r in revisions
    ]
    table("history", ["version", "at", "by", "action", "changed"], rows)


@app.command()
@fails_cleanly
def lineage(
    product_id: str,
    direction: Annotated[str, typer.Option(help="ancestors | descendants | both")] = "both",
    depth: Annotated[int, typer.Option(min=1, max=64)] = 16,
    as_json: JsonOption = False,
) -> None:
    """Ancestors and descendants of a product."""
    with client() as api:
        graph = api.lineage(product_id, direction, depth)
    if as_json:
        print_json(graph)
        return
    rows = [
        [n["depth"], n["id"], n["title"], n["owner"], n["availability"]] for n in graph["nodes"]
    ]
    table("lineage (depth < 0: ancestors)", ["depth", "id", "title", "owner", "availability"], rows)


app.command()(insight)
app.command(name="price-suggestion")(price_suggestion)
