"""``kraken-market sell analytics|file|stream``: a product for sale in one command.

Selling takes four steps that each have their own low-level command (kept for
scripts): describe the product in the catalog (``products create``), put the
data where the compute nodes read it, encrypted to them (``analytics share``,
``files publish``), point the product at it, and publish it on chain with its
stake (``trade publish``). ``sell`` runs them in that order from the wallet
(its DID signs, its account stakes), with amounts in DATA, the nodes and their
keys read from the chain, and a schema read off the data for analytics. The
data is made ready before the product is listed on chain, so nobody can pay
for a product whose data is not there yet (a file's key shares go to the nodes
right after the listing: the nodes accept a deposit only from the owner the
chain knows).

Each step says what it did; if one fails, the product already described is
kept and ``--product ID`` goes on from where it stopped. Runs on the seller's
machine: the data is encrypted here, the backend only ever sees ciphertext.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kraken_market.cli.analytics import (
    chain_nodes,
    manifest_link,
    owner_signer,
    read_json,
    schema_of,
    share_data,
)
from kraken_market.cli.common import JsonOption, client, err, fails_cleanly, out, print_json, table
from kraken_market.cli.ledger_common import (
    DevAccountOption,
    KeyFileOption,
    amount,
    api_token,
    product_key,
    shown,
)
from kraken_market.cli.products import BuyerCategories, CredentialTypes, Purposes, Regions, Tags
from kraken_market.client import MarketClient
from kraken_market.errors import InvalidRequest, KrakenError
from kraken_market.ledger.amounts import Token

app = typer.Typer(
    help="Sell data in one command: describe the product, encrypt the data for the compute "
    "nodes, and publish it on chain with its stake (from your wallet).",
    no_args_is_help=True,
)

Title = Annotated[str | None, typer.Option(help="Title shown to buyers (default: the file's name)")]
Description = Annotated[str | None, typer.Option(help="What buyers get, in a few sentences")]
Stake = Annotated[
    str, typer.Option(help="DATA locked on chain as your quality stake (returned on approval)")
]
Resume = Annotated[
    str | None,
    typer.Option("--product", help="Go on with this product (printed by an interrupted run)"),
]
Wait = Annotated[float, typer.Option(help="Seconds to wait for the listing to be indexed")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm the schema")]


def _policy(
    purpose: list[str] | None,
    buyer_category: list[str] | None,
    credential_type: list[str] | None,
    region: list[str] | None,
) -> dict[str, Any]:
    if not purpose:
        raise InvalidRequest(
            "say what buyers may use the data for: --purpose (repeat), e.g. --purpose research"
        )
    policy: dict[str, Any] = {"purposes": purpose}
    for key, value in (
        ("buyer_categories", buyer_category),
        ("credential_types", credential_type),
        ("regions", region),
    ):
        if value:
            policy[key] = value
    return policy


def _describe(
    api: MarketClient, resume: str | None, body: dict[str, Any], mode: str
) -> dict[str, Any]:
    """The product: described now, or the one an interrupted run described."""
    if resume is None:
        product: dict[str, Any] = api.create_product(body)
        err.print(
            f"1. described [bold]{product['title']}[/bold] in the catalog: {product['id']} "
            f"(if a later step fails, add --product {product['id']} to go on)",
            soft_wrap=True,
        )
        return product
    product_key(resume)
    product = api.product(resume)
    if product["access_mode"] != mode:
        raise InvalidRequest(
            f"product {resume} is a {product['access_mode']} product, not {mode}: "
            f"use 'kraken-market sell {_COMMAND[product['access_mode']]}'"
        )
    err.print(
        f"1. going on with {product['title']} ({resume}), at the prices and stake it was "
        "described with",
        soft_wrap=True,
    )
    return product


def _token(api: MarketClient) -> Token:
    """The token amounts are typed in (its decimals, read from its contract by the API)."""
    token = api_token(api)
    if token is None:
        raise InvalidRequest(
            "the marketplace has no chain to sell on yet (its contracts are not deployed): "
            "start it with 'kraken-market up' and try again"
        )
    return token


_COMMAND = {"analytics": "analytics", "batch": "file", "stream": "stream"}


def _publish(
    api: MarketClient,
    product: dict[str, Any],
    stake: int,
    wait: float,
    dev_account: int | None,
    key_file: Path | None,
    step: int,
) -> dict[str, Any]:
    from kraken_market.cli.trade import publish_product

    done = publish_product(api, product["id"], stake, wait, dev_account, key_file)
    how = "already on chain" if done.transaction is None else f"tx {done.transaction}"
    seen = "listed" if done.listed else "not indexed yet (see 'kraken-market trade status')"
    err.print(
        f"{step}. published on chain ({how}), stake {shown(done.stake, api_token(api))}: {seen}",
        soft_wrap=True,
    )
    return vars(done) | {"stake": str(done.stake)}


def _show_schema(inferred: Any) -> None:
    rows = []
    for column in inferred.schema.columns:
        if column.type == "numeric":
            low, high = inferred.observed[column.name]
            what = f"{column.min:g} to {column.max:g} (seen {low:g} to {high:g})"
        else:
            what = ", ".join(column.categories[:12]) + (" …" if len(column.categories) > 12 else "")
        named = f"{column.label} (as {column.name})" if column.label else column.name
        rows.append([named, column.type, what, "yes" if column.nullable else "no"])
    for left in inferred.left_out:
        rows.append([left.column, "not shared", left.reason, ""])
    table(
        f"schema read off the data ({inferred.rows} rows)",
        ["column", "type", "declared range or categories", "missing values"],
        rows,
        console=err,
    )


def _schema(data: Path, schema: Path | None, yes: bool) -> dict[str, Any]:
    """The product schema: from ``schema``, or read off ``data`` and confirmed."""

    from kraken_market.smpc.infer import infer_schema

    if schema is not None:
        given = schema_of(read_json(schema, "schema"), str(schema))
        return given.model_dump(mode="json", exclude_none=True)
    inferred = infer_schema(data)
    _show_schema(inferred)
    err.print(
        "Ranges are rounded outward so the schema does not reveal the exact extremes; "
        "buyers see this schema, never the data."
    )
    if not yes:
        if not typer.get_text_stream("stdin").isatty():
            raise InvalidRequest(
                "confirm the schema shown: run again with --yes, or give --schema FILE"
            )
        if not typer.confirm("Sell with this schema?", default=True, err=True):
            raise typer.Exit(1)
    return inferred.schema.model_dump(mode="json", exclude_none=True)


@app.command()
@fails_cleanly
def analytics(
    data: Annotated[Path, typer.Argument(help="The table: a .csv (header row) or .parquet file")],
    price: Annotated[str, typer.Option(help="DATA a buyer pays per computation")],
    purpose: Purposes = None,
    stake: Stake = "0",
    title: Title = None,
    description: Description = None,
    tag: Tags = None,
    buyer_category: BuyerCategories = None,
    credential_type: CredentialTypes = None,
    region: Regions = None,
    schema: Annotated[
        Path | None,
        typer.Option(help='Use this schema (JSON {"columns": [...]}) instead of reading one'),
    ] = None,
    yes: Yes = False,
    product: Resume = None,
    wait: Wait = 30.0,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sell computations over a table whose rows nobody but you will see.

    Reads a schema off the table (shown for you to confirm), describes the product,
    splits the table into secret shares encrypted to the compute nodes registered on
    chain, signs the share set with your wallet's DID key, puts it in the platform's
    storage, and publishes the product on chain with your stake.

    Example:

    kraken-market sell analytics visits.csv --title "Clinic visits 2026"
    --price 2.5 --purpose research --stake 10
    """
    if not data.is_file():
        raise InvalidRequest(f"no data file at {data}")
    policy = _policy(purpose, buyer_category, credential_type, region)
    with client() as api:
        token = _token(api)
        amounts = {"computation": amount(price, "--price", token)}
        locked = amount(stake, "--stake", token)
        if product is None:
            body = {
                "title": title or data.stem.replace("_", " "),
                "access_mode": "analytics",
                "description": description or "",
                "tags": tag or [],
                "prices": {k: str(v) for k, v in amounts.items()},
                "policy": policy,
                "stake": str(locked),
                "schema": _schema(data, schema, yes),
            }
        else:
            body = {}
        described = _describe(api, product, body, "analytics")
        link, rows = _shared(api, described, data)
        stake_now = locked if product is None else int(described["stake"])
        published = _publish(api, described, stake_now, wait, dev_account, key_file, 3)
    _done(described, published, as_json, {"rows": rows, "storage_link": link})


def _shared(api: MarketClient, product: dict[str, Any], data: Path) -> tuple[str, int | None]:
    """Share ``data`` for ``product`` into the platform's storage and link the product
    (unless an interrupted run did: its share set is kept)."""
    from kraken_market.catalog.schemas import DataSchema
    from kraken_market.storage.remote import MarketStorage

    storage = MarketStorage(api, product["id"])
    links = product["storage_links"]
    if links and storage.exists(links[0]):
        err.print(f"2. already shared: {links[0]}", soft_wrap=True)
        return links[0], None
    signer = owner_signer(api, product, None, None)
    keys, t = chain_nodes()
    schema = DataSchema.model_validate(product["schema"])
    signed = share_data(data, product["id"], schema, keys, storage, signer, t)
    link = manifest_link(signed)
    api.update_product(product["id"], {"storage_links": [link]})
    err.print(
        f"2. shared {signed.manifest.rows} rows among {signed.manifest.m} compute nodes "
        f"(encrypted to each), signed by {signer.owner}",
        soft_wrap=True,
    )
    return link, signed.manifest.rows


@app.command()
@fails_cleanly
def file(
    data: Annotated[Path, typer.Argument(help="The file to sell (any format)")],
    price: Annotated[str, typer.Option(help="DATA a buyer pays for access")],
    purpose: Purposes = None,
    stake: Stake = "0",
    title: Title = None,
    description: Description = None,
    tag: Tags = None,
    buyer_category: BuyerCategories = None,
    credential_type: CredentialTypes = None,
    region: Regions = None,
    product: Resume = None,
    wait: Wait = 30.0,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sell a file: buyers download it encrypted and open it with key shares the compute
    nodes hand out after checking their purchase on chain (you need not be online).

    Describes the product, publishes it on chain with your stake, encrypts the file
    under a fresh key, puts the ciphertext in the platform's storage and gives each
    compute node its share of the key, sealed to it.

    Example:

    kraken-market sell file runs.csv --title "Marathon runs" --price 5 --purpose research
    """
    from kraken_market.cli.files import object_name, publish_data_file

    if not data.is_file():
        raise InvalidRequest(f"no file at {data}")
    body = {
        "title": title or data.stem.replace("_", " "),
        "access_mode": "batch",
        "description": description or "",
        "tags": tag or [],
        "policy": _policy(purpose, buyer_category, credential_type, region),
    }
    with client() as api:
        token = _token(api)
        body["prices"] = {"access": str(amount(price, "--price", token))}
        body["stake"] = str(amount(stake, "--stake", token))
        described = _describe(api, product, {} if product else body, "batch")
        link = object_name(described["id"])
        if described["storage_links"] != [link]:  # before the listing, so its hash covers it
            described = api.update_product(described["id"], {"storage_links": [link]})
        published = _publish(
            api, described, int(described["stake"]), wait, dev_account, key_file, 2
        )
        try:  # the nodes take a key only from the owner the chain knows: after the listing
            stored = publish_data_file(api, data, described["id"], None, dev_account, key_file)
        except KrakenError:
            _pause(api, described["id"], dev_account, key_file)
            raise
    err.print(
        f"3. encrypted {stored.plaintext_length} bytes into {stored.object_name}; the key is "
        f"shared among nodes {list(stored.accepted)}",
        soft_wrap=True,
    )
    _done(described, published, as_json, {"storage_link": stored.object_name})


@app.command()
@fails_cleanly
def stream(
    title: Annotated[str, typer.Option(help="The stream's name, shown to buyers")],
    price_per_second: Annotated[
        str, typer.Option(help="DATA a subscriber pays per second of access")
    ],
    min_seconds: Annotated[
        int, typer.Option(min=1, help="Shortest subscription, in seconds")
    ] = 3600,
    purpose: Purposes = None,
    stake: Stake = "0",
    description: Description = None,
    tag: Tags = None,
    buyer_category: BuyerCategories = None,
    credential_type: CredentialTypes = None,
    region: Regions = None,
    product: Resume = None,
    wait: Wait = 30.0,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sell a stream subscription: describe it and publish it on chain with your stake;
    then send messages with 'kraken-market streams publish ID' (each epoch's key goes
    to the compute nodes, who hand it to paying subscribers).

    Example:

    kraken-market sell stream --title "Air quality, Turin" --price-per-second 0.0001
    --purpose research
    """
    body = {
        "title": title,
        "access_mode": "stream",
        "description": description or "",
        "tags": tag or [],
        "policy": _policy(purpose, buyer_category, credential_type, region),
    }
    with client() as api:
        token = _token(api)
        per_second = amount(price_per_second, "--price-per-second", token)
        body["prices"] = {
            "subscription_per_second": str(per_second),
            "subscription_min_seconds": min_seconds,
        }
        body["stake"] = str(amount(stake, "--stake", token))
        described = _describe(api, product, {} if product else body, "stream")
        published = _publish(
            api, described, int(described["stake"]), wait, dev_account, key_file, 2
        )
    _done(described, published, as_json, {})
    if not as_json:
        out.print(
            f"send messages with: kraken-market streams publish {described['id']} --from FILE "
            "(or pipe lines into it)",
            soft_wrap=True,
        )


def _pause(api: MarketClient, product: str, dev_account: int | None, key_file: Path | None) -> None:
    """Take a listed product off sale (catalog and chain) whose file could not be made
    ready, so nobody pays for it; say so, and what to do."""
    from kraken_market.cli.desk import company_desk
    from kraken_market.cli.ledger_common import ledger
    from kraken_market.trade.publish import sync_on_chain

    api.update_product(product, {"availability": "paused"})
    desk = company_desk(api, product)
    if desk is not None:
        desk.sync(product)
    else:
        sync_on_chain(api, ledger(dev_account, key_file, signs=True), product)
    err.print(
        f"the file is not ready, so product {product} is paused (nobody can buy it): once "
        f"the cause below is fixed, publish the file with 'kraken-market files publish FILE "
        f"--product {product}', then relist it with 'kraken-market products update {product} "
        f"--availability listed' and 'kraken-market trade sync {product}'",
        soft_wrap=True,
    )


def _done(
    product: dict[str, Any], published: dict[str, Any], as_json: bool, extra: dict[str, Any]
) -> None:
    if as_json:
        print_json({"product": product["id"], "title": product["title"], **extra, **published})
        return
    out.print(
        f"[bold]{product['title']}[/bold] is for sale: {product['id']}\n"
        f"buyers find it with: kraken-market products list "
        f"{' '.join(product['title'].split()[:2])}",
        soft_wrap=True,
    )
