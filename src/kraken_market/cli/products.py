"""``kraken-market products``: publish, find, change and retire data products."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kraken_market.cli.common import JsonOption, client, err, fails_cleanly, out, print_json, table
from kraken_market.cli.insight import insight, price_suggestion
from kraken_market.cli.ledger_common import BaseUnitsOption, amount, api_token, shown
from kraken_market.ledger.amounts import Token, product_in_tokens

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


PRICE_OPTIONS = {
    "access": "--price-access",
    "computation": "--price-computation",
    "subscription_per_second": "--price-per-second",
}
PriceOption = Annotated[str | None, typer.Option(help="In DATA, e.g. 2.5")]


def _prices(
    token: Token | None,
    base_units: bool,
    typed: dict[str, str | None],
    min_seconds: int | None,
) -> dict[str, Any]:
    """The API's prices (base-unit strings) from the DATA amounts typed per price."""
    prices: dict[str, Any] = {
        name: str(amount(text, PRICE_OPTIONS[name], token, base_units))
        for name, text in typed.items()
        if text is not None
    }
    if min_seconds is not None:
        prices["subscription_min_seconds"] = min_seconds
    return prices


def _json(product: dict[str, Any], token: Token | None) -> dict[str, Any]:
    """The API's product (amounts in base units, for scripts) with ``prices_data`` and
    ``stake_data``: the same amounts in DATA, when the token is known."""
    return product_in_tokens(product, token) if token is not None else product


def _stake(product: dict[str, Any], token: Token | None) -> str:
    where = (
        "held on chain"
        if product.get("stake_on_chain")
        else "declared: 'trade publish' locks it on chain"
    )
    return f"{shown(product['stake'], token)} ({where})"


def _price_list(prices: dict[str, Any], token: Token | None) -> str:
    return ", ".join(
        f"{name} {shown(value, token) if name in PRICE_OPTIONS else f'{value} s'}"
        for name, value in prices.items()
        if value is not None
    )


def _show(product: dict[str, Any], token: Token | None) -> None:
    prices = _price_list(product["prices"], token)
    policy = product["policy"]
    rows = [
        ["id", product["id"]],
        ["title", product["title"]],
        ["owner", product["owner"]],
        ["mode", product["access_mode"]],
        ["availability", product["availability"]],
        ["prices", prices],
        ["stake", _stake(product, token)],
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
    price_access: Annotated[
        str | None, typer.Option(help="Per access (batch), in DATA, e.g. 2.5")
    ] = None,
    price_computation: Annotated[
        str | None, typer.Option(help="Per computation (analytics), in DATA")
    ] = None,
    price_per_second: Annotated[
        str | None, typer.Option(help="Per second of subscription (stream), in DATA")
    ] = None,
    min_seconds: Annotated[int | None, typer.Option(help="Minimum subscription (stream)")] = None,
    stake: Annotated[
        str | None,
        typer.Option(help="Quality stake in DATA, locked when you 'trade publish' (default 0)"),
    ] = None,
    parent: Parents = None,
    link: Links = None,
    schema: Annotated[Path | None, typer.Option(help='JSON file with {"columns": [...]}')] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="The API's JSON body (amounts in base units); options override its fields",
        ),
    ] = None,
    base_units: BaseUnitsOption = False,
    as_json: JsonOption = False,
) -> None:
    """Describe a new data product; prices and stake in DATA. Example:

    kraken-market products create --title "Heart rate 2026" --mode batch
    --price-access 2.5 --stake 10 --purpose research --tag health
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
    typed = {
        "access": price_access,
        "computation": price_computation,
        "subscription_per_second": price_per_second,
    }
    options = {
        "title": title,
        "access_mode": mode,
        "description": description,
        "tags": tag,
        "parents": parent,
        "storage_links": link,
    }
    body.update({k: v for k, v in options.items() if v is not None})
    if schema:
        body["schema"] = _read_json(schema, "schema")
    with client() as api:
        token = api_token(api)
        body["policy"] = policy
        body["prices"] = {
            **body.get("prices", {}),
            **_prices(token, base_units, typed, min_seconds),
        }
        if stake is not None:
            body["stake"] = str(amount(stake, "--stake", token, base_units))
        product = api.create_product(body)
    if as_json:
        print_json(_json(product, token))
    else:
        out.print(
            f"created [bold]{product['id']}[/bold] ({product['access_mode']}: "
            f"{_list_price(product, token)}, stake {shown(product['stake'], token)})",
            highlight=False,
        )


@app.command()
@fails_cleanly
def update(
    product_id: Annotated[str, typer.Argument(help="Product id (0x…)")],
    title: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    tag: Tags = None,
    availability: Annotated[str | None, typer.Option(help="listed | paused")] = None,
    price_access: PriceOption = None,
    price_computation: PriceOption = None,
    price_per_second: PriceOption = None,
    min_seconds: Annotated[int | None, typer.Option()] = None,
    policy: Annotated[Path | None, typer.Option(help="JSON file with the whole new policy")] = None,
    parent: Parents = None,
    link: Links = None,
    base_units: BaseUnitsOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change a product you own; only the options you give change (prices, in DATA, and
    policy are replaced as a whole). The stake is fixed once described: 'trade publish
    --stake' locks another amount on chain."""
    changes: dict[str, Any] = {
        "title": title,
        "description": description,
        "tags": tag,
        "availability": availability,
        "parents": parent,
        "storage_links": link,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    typed = {
        "access": price_access,
        "computation": price_computation,
        "subscription_per_second": price_per_second,
    }
    if policy:
        changes["policy"] = _read_json(policy, "policy")
    if not changes and all(v is None for v in (*typed.values(), min_seconds)):
        raise typer.BadParameter("nothing to change: give at least one option")
    with client() as api:
        token = api_token(api)
        prices = _prices(token, base_units, typed, min_seconds)
        if prices:
            changes["prices"] = prices
        product = api.update_product(product_id, changes)
        on_chain = api.chain_state(product_id)["published"]
    print_json(_json(product, token)) if as_json else _show(product, token)
    if on_chain:  # the chain record is what purchases are checked against
        err.print(
            f"published on chain: apply it there with 'kraken-market trade sync {product_id}'"
        )


@app.command()
@fails_cleanly
def show(product_id: str, as_json: JsonOption = False) -> None:
    """Show one product (amounts in DATA; the stake is the one the chain holds once the
    product is published there)."""
    with client() as api:
        product = api.product(product_id)
        token = api_token(api)
    print_json(_json(product, token)) if as_json else _show(product, token)


@app.command("list")
@fails_cleanly
def list_(
    q: Annotated[
        str | None, typer.Argument(help="Search words (all required; word* = prefix)")
    ] = None,
    mode: Annotated[str | None, typer.Option(help="batch | stream | analytics")] = None,
    tag: Tags = None,
    price_min: Annotated[str | None, typer.Option(help="List price at least, in DATA")] = None,
    price_max: Annotated[str | None, typer.Option(help="List price at most, in DATA")] = None,
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
    base_units: BaseUnitsOption = False,
    as_json: JsonOption = False,
) -> None:
    """Search products (listed ones unless --availability says otherwise)."""
    items: list[dict[str, Any]] = []
    next_cursor = cursor
    with client() as api:
        token = api_token(api)
        bounds = {
            name: None if text is None else str(amount(text, option, token, base_units))
            for name, option, text in (
                ("price_min", "--price-min", price_min),
                ("price_max", "--price-max", price_max),
            )
        }
        while True:
            page = api.search_products(
                q=q,
                mode=mode,
                tag=tag,
                price_min=bounds["price_min"],
                price_max=bounds["price_max"],
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
        print_json({"items": [_json(p, token) for p in items], "next_cursor": next_cursor})
        return
    rows = [
        [
            p["id"][:18] + "…",
            p["title"],
            p["access_mode"],
            p["availability"],
            _list_price(p, token),
            ", ".join(p["tags"]),
        ]
        for p in items
    ]
    table(f"{len(items)} products", ["id", "title", "mode", "availability", "price", "tags"], rows)
    if next_cursor:
        out.print(f"more: --cursor {next_cursor}")


def _list_price(product: dict[str, Any], token: Token | None) -> str:
    prices = product["prices"]
    name, unit = {
        "batch": ("access", "access"),
        "stream": ("subscription_per_second", "second"),
        "analytics": ("computation", "computation"),
    }[product["access_mode"]]
    return f"{shown(prices.get(name), token)} per {unit}"


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
