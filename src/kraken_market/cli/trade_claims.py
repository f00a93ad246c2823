"""``kraken-market trade approve|release|claim|claims|rule``: quality after a purchase."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from kraken_market.cli.common import JsonOption, client, fails_cleanly, out, print_json, table
from kraken_market.cli.ledger_common import (
    DevAccountOption,
    KeyFileOption,
    api_token,
    figure,
    ledger,
    product_key,
    unit,
)


@fails_cleanly
def approve(
    purchase: Annotated[int, typer.Argument(min=1, help="Your purchase id")],
    product: Annotated[str, typer.Argument(help="The product you approve")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Approve a product you bought (a purchase that paid at least its published price):
    its stake goes to the seller one claim window later, if no buyer objects meanwhile
    ('trade release')."""
    chain = ledger(dev_account, key_file, signs=True)
    receipt = chain.approve_product(purchase, product_key(product))
    due = datetime.fromtimestamp(chain.stake(product).release_at, UTC)
    when = f"; its stake can be released from {due:%Y-%m-%d %H:%M} UTC" if due.timestamp() else ""
    out.print(f"approved {product} (tx {receipt.tx_hash}){when}")


@fails_cleanly
def release(
    product: Annotated[str, typer.Argument(help="The approved product")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Pay an approved product's stake out to its owner, once the claim window after its
    first approval has passed with no claim open (anyone may send it; it pays the owner)."""
    chain = ledger(dev_account, key_file, signs=True)
    stake = chain.stake(product_key(product))
    receipt = chain.release_stake(product)
    out.print(
        f"released the stake of {product} ({chain.token().show(stake.amount)}) to its owner "
        f"(tx {receipt.tx_hash})",
        markup=False,
    )


@fails_cleanly
def claim(
    purchase: Annotated[int, typer.Argument(min=1, help="Your purchase id")],
    product: Annotated[str, typer.Argument(help="The product you claim against")],
    statement: Annotated[str, typer.Option(help="What is wrong, for the arbiter")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """File a quality claim: your statement is stored with the marketplace, its hash
    goes on chain with your claim bond."""
    product_key(product)
    with client() as api:
        digest = api.claim_evidence(purchase, product, statement)
    receipt = ledger(dev_account, key_file, signs=True).file_claim(
        purchase, product, bytes.fromhex(digest[2:])
    )
    out.print(f"claim filed on purchase {purchase} (evidence {digest}, tx {receipt.tx_hash})")


@fails_cleanly
def claims(
    product: Annotated[str, typer.Argument(help="Product id")], as_json: JsonOption = False
) -> None:
    """The claims on a product, with evidence and status (its owner and arbiters)."""
    product_key(product)
    with client() as api:
        found = api.claims(product)
        token = api_token(api)
    if as_json:
        if token is not None:
            found = [c | {"bond_data": token.amount(c["bond"])} for c in found]
        print_json(found)
        return
    rows = [
        [
            c["purchase_id"],
            c["status"],
            c["claimant"],
            figure(c["bond"], token),
            c["statement"] or "?",
        ]
        for c in found
    ]
    columns = ["purchase", "status", "claimant", f"bond {unit(token)}", "statement"]
    table(f"claims on {product}", columns, rows)


@fails_cleanly
def rule(
    purchase: Annotated[int, typer.Argument(min=1, help="Purchase id of the claim")],
    uphold: Annotated[
        bool,
        typer.Option(
            "--uphold/--reject",
            help="Uphold (stake slashed to the buyer, product delisted) or reject (the "
            "bond goes to the seller)",
        ),
    ],
) -> None:
    """Rule on an open claim (arbiters; the platform's arbiter key signs)."""
    with client() as api:
        ruled = api.rule(purchase, uphold=uphold)
    verdict = "upheld" if uphold else "rejected"
    out.print(f"claim on purchase {purchase} {verdict} (tx {ruled['transaction']})")


def register(app: typer.Typer) -> None:
    """Add the quality commands to the ``trade`` group."""
    for command in (approve, release, claim, claims, rule):
        app.command()(command)
