"""``kraken-market trade``: publish on chain, buy, compute, approve, claim, rule.

Each command signs with the account in your wallet (or ``--dev-account`` /
``--key-file``) and talks to the API with the session ``kraken-market login``
saved: the API checks your credentials (grants), the chain takes your payment.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from kraken_market.cli.common import (
    JsonOption,
    client,
    err,
    fails_cleanly,
    out,
    print_json,
    settings,
    table,
)
from kraken_market.cli.desk import company_desk
from kraken_market.cli.ledger_common import (
    BaseUnitsOption,
    DevAccountOption,
    KeyFileOption,
    amount,
    api_token,
    ledger,
    product_key,
    shown,
)
from kraken_market.client import MarketClient
from kraken_market.errors import InvalidRequest
from kraken_market.ledger.amounts import PRICE_AMOUNTS, Token

if TYPE_CHECKING:
    from kraken_market.ledger.client import Ledger
    from kraken_market.ledger.model import Prices

if TYPE_CHECKING:
    from kraken_market.trade.publish import Publication

app = typer.Typer(
    help="Trade: publish a product on chain with its stake, buy access, subscribe, "
    "buy computations (results as CSV), reclaim an undelivered computation's payment, "
    "approve, file claims, rule on them (arbiters).",
    no_args_is_help=True,
)
Purpose = Annotated[str, typer.Option(help="Purpose of use, as the product's policy allows")]


def publish_product(
    api: MarketClient,
    product: str,
    stake: int | None,
    wait: float,
    dev_account: int | None,
    key_file: Path | None,
) -> Publication:
    """Publish ``product`` on chain: from your account, or a company's product from the
    company's account through its Depute tool."""
    from kraken_market.trade.publish import Publication, publish_on_chain

    desk = company_desk(api, product)
    if desk is None:
        chain = ledger(dev_account, key_file, signs=True)
        return publish_on_chain(api, chain, product, stake=stake, wait=wait)
    answer = desk.publish(product, stake=stake, wait=wait)
    return Publication(
        product, answer["account"], answer["transaction"], int(answer["stake"]), answer["listed"]
    )


@app.command()
@fails_cleanly
def publish(
    product: Annotated[str, typer.Argument(help="Your catalog product's id")],
    stake: Annotated[
        str | None, typer.Option(help="DATA to lock as quality stake (default: as described)")
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the listing")] = 30.0,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    base_units: BaseUnitsOption = False,
    as_json: JsonOption = False,
) -> None:
    """Publish a product on chain from your account, locking its stake; it is listed
    once the marketplace's indexer sees the publication. A company's product is
    published by the company's Depute tool from the company's own account (you must be
    authorised to publish for it; the stake comes from the company)."""
    product_key(product)
    with client() as api:
        token = api_token(api)
        locked = None if stake is None else amount(stake, "--stake", token, base_units)
        done = publish_product(api, product, locked, wait, dev_account, key_file)
    if as_json:
        shown_stake = {"stake_data": token.amount(done.stake)} if token is not None else {}
        print_json(vars(done) | {"stake": str(done.stake)} | shown_stake)
        return
    how = "already on chain" if done.transaction is None else f"tx {done.transaction}"
    seen = "listed" if done.listed else "not indexed yet (see 'trade status')"
    out.print(f"published {product} ({how}), stake {shown(done.stake, token)}: {seen}")


@app.command()
@fails_cleanly
def sync(
    product: Annotated[str, typer.Argument(help="Your published product's id")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Apply the catalog's availability, prices, metadata and policy to the chain record
    (after 'products update'): a pause or a new price holds for the next purchase."""
    from kraken_market.trade.publish import sync_on_chain

    product_key(product)
    with client() as api:
        desk = company_desk(api, product)
        if desk is not None:
            changed = list(desk.sync(product)["changed"])
        else:
            changed = sync_on_chain(api, ledger(dev_account, key_file, signs=True), product)
    out.print(f"on chain: {', '.join(changed)}" if changed else "the chain already matches")


@app.command()
@fails_cleanly
def status(
    product: Annotated[str, typer.Argument(help="Product id")], as_json: JsonOption = False
) -> None:
    """What the chain says about a product: listed, owner, stake, quality status, and
    whether the catalog still says the same (else: 'trade sync')."""
    product_key(product)
    with client() as api:
        state = api.chain_state(product)
        token = api_token(api)
    if as_json:
        if token is not None:
            state["stake_data"] = token.amount(state["stake"])
            prices = state["prices"] or {}
            state["prices_data"] = {
                n: token.amount(prices[n]) for n in PRICE_AMOUNTS if n in prices
            }
        print_json(state)
        return
    if not state["published"]:
        out.print(f"{product} is not published on chain (or not indexed yet)")
        return
    claims = state["claims"]
    prices = state["prices"] or {}
    differs = state["differs"]
    rows = [
        ["owner", f"{state['owner']} ({state['owner_did'] or 'no DID bound'})"],
        ["availability", state["availability"]],
        [
            "prices",
            ", ".join(
                f"{n} {shown(prices[n], token)}" for n in PRICE_AMOUNTS if int(prices.get(n, 0))
            ),
        ],
        ["quality", state["quality"]],
        ["stake", shown(state["stake"], token)],
        ["approvals", state["approvals"]],
        [
            "claims",
            f"{claims['open']} open, {claims['upheld']} upheld, {claims['rejected']} rejected",
        ],
        ["catalog matches chain", "yes" if not differs else f"no: {', '.join(differs)} differ"],
    ]
    table(f"product {product} on chain", ["", ""], rows)
    if differs:
        err.print(
            f"the catalog's {', '.join(differs)} differ from the chain's (buyers pay against "
            f"the chain): apply them with 'kraken-market trade sync {product}'",
            style="yellow",
            markup=False,
        )


@app.command()
@fails_cleanly
def buy(
    product: Annotated[str, typer.Argument(help="Batch product (or union) id")],
    purpose: Purpose = "research",
    again: Annotated[
        bool, typer.Option("--again", help="Pay again for a file this account bought before")
    ] = False,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buy access to a batch file: the API checks your credentials and records a grant,
    then you pay its price (shown first; never more) from your account. A file your
    account bought before is not paid for again unless you say --again."""
    from kraken_market.trade.buy import buy_access

    product_key(product)
    chain = ledger(dev_account, key_file, signs=True)
    price = _quoted(chain, product, lambda prices: prices.access, "for access")
    with client() as api:
        bought = buy_access(api, chain, product, purpose, max_amount=price, again=again)
    _bought(bought, chain.token(), as_json, "bought access to")


@app.command()
@fails_cleanly
def subscribe(
    product: Annotated[str, typer.Argument(help="Stream product (or union) id")],
    seconds: Annotated[int, typer.Option(min=1, help="Seconds of the stream to buy")],
    purpose: Purpose = "research",
    extend: Annotated[
        bool,
        typer.Option("--extend", "--again", help="Add the time to a subscription still paid"),
    ] = False,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buy time on a stream; its price is shown first, and never more is paid. While
    your paid time has not run out, say --extend to add the seconds to it (it tells you
    until when it is paid)."""
    from kraken_market.trade.buy import subscribe as pay

    product_key(product)
    chain = ledger(dev_account, key_file, signs=True)
    price = _quoted(
        chain, product, lambda prices: prices.subscription_per_second * seconds, f"for {seconds} s"
    )
    with client() as api:
        bought = pay(api, chain, product, purpose, seconds, max_amount=price, extend=extend)
    _bought(bought, chain.token(), as_json, f"subscribed {seconds} s to")
    if not as_json and bought.paid_until is not None:
        err.print(f"paid until {datetime.fromtimestamp(bought.paid_until, UTC).isoformat()}")


def _quoted(chain: Ledger, item: str, price_of: Callable[[Prices], int], what: str) -> int | None:
    """The price the chain asks for ``item`` now, told before paying (the most that is
    paid); None when the item is not on chain (the purchase then says why)."""
    mode, _listed, prices = chain.terms(item)
    if mode is None:
        return None
    price = price_of(prices)
    err.print(f"price of {item} {what}: {chain.token().show(price)}", markup=False)
    return price


def _bought(bought: Any, token: Token, as_json: bool, what: str) -> None:
    if as_json:
        print_json(
            vars(bought)
            | {"amount": str(bought.amount), "amount_data": token.amount(bought.amount)}
        )
        return
    out.print(
        f"{what} {bought.item}: purchase {bought.purchase_id}, "
        f"{token.show(bought.amount)} (tx {bought.transaction})"
    )


def _read_spec(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read the computation JSON from {path}: {exc}") from exc
    return data


def _items(product: list[str] | None, union: str | None) -> None:
    if bool(product) == bool(union):
        raise InvalidRequest("give the products (--product, repeatable) or one --union")
    for item in [*(product or []), *([union] if union else [])]:
        product_key(item)


def _show_quote(quote: dict[str, Any], token: Token | None) -> None:
    """The quote in words: what is bought, its rows, the price; problems and warnings."""
    price = "unknown" if quote["price"] is None else shown(int(quote["price"]), token)
    rows = "unknown" if quote["rows"] is None else str(quote["rows"])
    err.print(
        f"quote: {quote['function']} over {len(quote['products'])} product(s), {rows} rows "
        f"(minimum cohort {quote['min_cohort']}), {price}"
    )
    for label, said in [
        *(("[red]will fail[/red]", p) for p in quote["problems"]),
        *(("[yellow]warning[/yellow]", w) for w in quote["warnings"]),
    ]:
        text = escape("[" + str(said["code"]) + "]: " + str(said["message"]))
        err.print(f"  {label} {text}")


@app.command()
@fails_cleanly
def quote(
    spec: Annotated[Path, typer.Option(help='The computation: JSON {"function": "mean@1", ...}')],
    product: Annotated[
        list[str] | None, typer.Option("--product", help="Product id (repeat for several)")
    ] = None,
    union: Annotated[
        str | None, typer.Option(help="A Data Union's id: compute over all its members")
    ] = None,
    purpose: Purpose = "research",
    as_json: JsonOption = False,
) -> None:
    """What a computation would cost and what would make it fail, without paying:
    the function against the catalogue and the products' schemas, each share set,
    your eligibility and the minimum cohort. Exits 1 when the job would fail."""
    _items(product, union)
    with client() as api:
        answer = api.quote_computation(_read_spec(spec), product or [], purpose, union)
        token = None if as_json else api_token(api)
    if as_json:
        print_json(answer)
    else:
        _show_quote(answer, token)
    if not answer["payable"]:
        raise typer.Exit(1)


@app.command()
@fails_cleanly
def compute(
    spec: Annotated[Path, typer.Option(help='The computation: JSON {"function": "mean@1", ...}')],
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write the result to")],
    product: Annotated[
        list[str] | None, typer.Option("--product", help="Product id (repeat for several)")
    ] = None,
    union: Annotated[
        str | None, typer.Option(help="A Data Union's id: compute over all its members")
    ] = None,
    purpose: Purpose = "research",
    request_id: Annotated[
        str | None, typer.Option(help="Resume a request: the id printed before (never pays twice)")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the result")] = 900,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Buy a computation over analytics products and write its result as CSV. The
    marketplace quotes it first (nothing is paid when the quote finds a problem: see
    'trade quote'); the job goes to the marketplace, your payment (at most the quoted
    price) to the chain; the nodes compute once they see it paid, and only you can
    open the result."""
    from kraken_market.smpc.functions.spec import ComputationSpec
    from kraken_market.trade.results import compute_via_market

    computation = ComputationSpec.model_validate(_read_spec(spec))
    _items(product, union)
    rid = request_id or "0x" + secrets.token_hex(32)
    err.print(f"request {rid} (to resume: --request-id {rid})")
    folder = settings().data_dir / "analytics"
    chain = ledger(dev_account, key_file, signs=True)
    with client() as api:
        members = [m["product_id"] for m in api.union(union)["members"]] if union else None
        outcome = compute_via_market(
            api,
            chain,
            computation,
            members or product or [],
            purpose,
            rid,
            folder,
            items=[union] if union else None,
            timeout=timeout,
            on_quote=lambda quoted: _show_quote(quoted, chain.token()),
        )
    if outcome.table is None:
        err.print(
            f"suppressed: fewer than {computation.min_cohort} rows match; nothing else is revealed"
        )
        raise typer.Exit(3)
    outcome.table.to_csv(out_file)
    about = out_file.with_name(out_file.name + ".json")
    # What a CSV cannot hold: the function, its parameters, the rows, the accuracy bound,
    # a regression summary's n, R² and residual standard error (DataFrame.attrs).
    about.write_text(json.dumps(outcome.table.attrs, indent=2, default=str) + "\n")
    out.print(
        f"{computation.function} written to {out_file} (nodes {list(outcome.nodes)}); "
        f"what it is and how exact: {about}"
    )


from kraken_market.cli import trade_claims, trade_reclaim  # noqa: E402 - needs the app above

trade_claims.register(app)
trade_reclaim.register(app)
