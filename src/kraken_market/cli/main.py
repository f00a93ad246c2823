"""The ``kraken-market`` command: every command group of the platform."""

from __future__ import annotations

import typer

from kraken_market import __version__
from kraken_market.cli import accounts, api, chain, ledger, products, unions
from kraken_market.cli.deploy import deploy
from kraken_market.cli.up import up

app = typer.Typer(
    name="kraken-market",
    help=(
        "Kraken Market: a marketplace for personal and institutional data.\n\n"
        "Start everything with 'kraken-market up', create an account with "
        "'kraken-market accounts create NAME --save', then publish with "
        "'kraken-market products create'. Settings come from KRAKEN_* variables or the "
        "TOML file named by KRAKEN_CONFIG."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command(help="Start the whole platform locally; Ctrl-C stops it.")(up)
app.add_typer(api.app, name="api")
app.add_typer(products.app, name="products")
app.add_typer(unions.app, name="unions")
app.add_typer(accounts.app, name="accounts")
chain.app.command(name="deploy")(deploy)
app.add_typer(chain.app, name="chain")
app.add_typer(ledger.app, name="ledger")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)
