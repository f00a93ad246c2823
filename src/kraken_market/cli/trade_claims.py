"""``kraken-market trade approve|claim|claims|rule``: quality after a purchase."""

from __future__ import annotations

from typing import Annotated

import typer

from kraken_market.cli.common import JsonOption, client, fails_cleanly, out, print_json, table
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption, ledger, product_key


@fails_cleanly
def approve(
    purchase: Annotated[int, typer.Argument(min=1, help="Your purchase id")],
    product: Annotated[str, typer.Argument(help="The product you approve")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Approve a product you bought: its stake is released to the seller."""
    receipt = ledger(dev_account, key_file, signs=True).approve_product(
        purchase, product_key(product)
    )
    out.print(f"approved {product} (tx {receipt.tx_hash})")


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
    if as_json:
        print_json(found)
        return
    rows = [[c["purchase_id"], c["status"], c["claimant"], c["statement"] or "?"] for c in found]
    table(f"claims on {product}", ["purchase", "status", "claimant", "statement"], rows)


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
    for command in (approve, claim, claims, rule):
        app.command()(command)
