"""``kraken-market trade``: publish on chain, buy, compute, approve, claim, rule.

Each command signs with the account in your wallet (or ``--dev-account`` /
``--key-file``) and talks to the API with the session ``kraken-market login``
saved: the API checks your credentials (grants), the chain takes your payment.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

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
    DevAccountOption,
    KeyFileOption,
    format_amount,
    ledger,
    parse_amount,
    product_key,
)
from kraken_market.errors import InvalidRequest

app = typer.Typer(
    help="Trade: publish a product on chain with its stake, buy access, subscribe, "
    "buy computations (results as CSV), reclaim an undelivered computation's payment, "
    "approve, file claims, rule on them (arbiters).",
    no_args_is_help=True,
)
Purpose = Annotated[str, typer.Option(help="Purpose of use, as the product's policy allows")]


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
    as_json: JsonOption = False,
) -> None:
    """Publish a product on chain from your account, locking its stake; it is listed
    once the marketplace's indexer sees the publication. A company's product is
    published by the company's Depute tool from the company's own account (you must be
    authorised to publish for it; the stake comes from the company)."""
    from kraken_market.trade.publish import Publication, publish_on_chain

    product_key(product)
    amount = None if stake is None else parse_amount(stake)
    with client() as api:
        desk = company_desk(api, product)
        if desk is not None:
            answer = desk.publish(product, stake=amount, wait=wait)
            done = Publication(
                product,
                answer["account"],
                answer["transaction"],
                int(answer["stake"]),
                answer["listed"],
            )
        else:
            done = publish_on_chain(
                api, ledger(dev_account, key_file, signs=True), product, stake=amount, wait=wait
            )
    if as_json:
        print_json(vars(done) | {"stake": str(done.stake)})
        return
    how = "already on chain" if done.transaction is None else f"tx {done.transaction}"
    seen = "listed" if done.listed else "not indexed yet (see 'trade status')"
    out.print(f"published {product} ({how}), stake {format_amount(done.stake)} DATA: {seen}")


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
    """What the chain says about a product: listed, owner, stake, quality status."""
    product_key(product)
    with client() as api:
        state = api.chain_state(product)
    if as_json:
        print_json(state)
        return
    if not state["published"]:
        out.print(f"{product} is not published on chain (or not indexed yet)")
        return
    claims = state["claims"]
    rows = [
        ["owner", f"{state['owner']} ({state['owner_did'] or 'no DID bound'})"],
        ["availability", state["availability"]],
        ["quality", state["quality"]],
        ["stake", f"{format_amount(int(state['stake']))} DATA"],
        ["approvals", state["approvals"]],
        [
            "claims",
            f"{claims['open']} open, {claims['upheld']} upheld, {claims['rejected']} rejected",
        ],
        ["catalog matches chain", state["metadata_matches"] and state["policy_matches"]],
    ]
    table(f"product {product} on chain", ["", ""], rows)


@app.command()
@fails_cleanly
def buy(
    product: Annotated[str, typer.Argument(help="Batch product (or union) id")],
    purpose: Purpose = "research",
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buy access to a batch file: the API checks your credentials and records a grant,
    then you pay its price from your account."""
    from kraken_market.trade.buy import buy_access

    product_key(product)
    with client() as api:
        bought = buy_access(api, ledger(dev_account, key_file, signs=True), product, purpose)
    _bought(bought, as_json, "bought access to")


@app.command()
@fails_cleanly
def subscribe(
    product: Annotated[str, typer.Argument(help="Stream product (or union) id")],
    seconds: Annotated[int, typer.Option(min=1, help="Seconds of the stream to buy")],
    purpose: Purpose = "research",
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buy time on a stream (added to any paid time left)."""
    from kraken_market.trade.buy import subscribe as pay

    product_key(product)
    with client() as api:
        bought = pay(api, ledger(dev_account, key_file, signs=True), product, purpose, seconds)
    _bought(bought, as_json, f"subscribed {seconds} s to")


def _bought(bought: Any, as_json: bool, what: str) -> None:
    if as_json:
        print_json(vars(bought) | {"amount": str(bought.amount)})
        return
    out.print(
        f"{what} {bought.item}: purchase {bought.purchase_id}, "
        f"{format_amount(bought.amount)} DATA (tx {bought.transaction})"
    )


def _read_spec(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read the computation JSON from {path}: {exc}") from exc
    return data


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
    """Buy a computation over analytics products and write its result as CSV. The job
    goes to the marketplace, your payment to the chain; the nodes compute once they
    see it paid, and only you can open the result."""
    from kraken_market.smpc.functions.spec import ComputationSpec
    from kraken_market.trade.results import compute_via_market

    computation = ComputationSpec.model_validate(_read_spec(spec))
    if bool(product) == bool(union):
        raise InvalidRequest("give the products (--product, repeatable) or one --union")
    for item in [*(product or []), *([union] if union else [])]:
        product_key(item)
    rid = request_id or "0x" + secrets.token_hex(32)
    err.print(f"request {rid} (to resume: --request-id {rid})")
    folder = settings().data_dir / "analytics"
    with client() as api:
        members = [m["product_id"] for m in api.union(union)["members"]] if union else None
        outcome = compute_via_market(
            api,
            ledger(dev_account, key_file, signs=True),
            computation,
            members or product or [],
            purpose,
            rid,
            folder,
            items=[union] if union else None,
            timeout=timeout,
        )
    if outcome.table is None:
        err.print(
            f"suppressed: fewer than {computation.min_cohort} rows match; nothing else is revealed"
        )
        raise typer.Exit(3)
    outcome.table.to_csv(out_file)
    out.print(f"{computation.function} written to {out_file} (nodes {list(outcome.nodes)})")


from kraken_market.cli import trade_claims, trade_reclaim  # noqa: E402 - needs the app above

trade_claims.register(app)
trade_reclaim.register(app)
