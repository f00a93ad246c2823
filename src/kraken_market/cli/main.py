"""The ``kraken-market`` command: every command group of the platform."""

from __future__ import annotations

import typer

from kraken_market import __version__
from kraken_market.cli import (
    analytics,
    api,
    chain,
    companies,
    depute,
    files,
    issuer,
    ledger,
    node,
    products,
    sell,
    streams,
    trade,
    unions,
    wallet,
    wallet_answer,
)
from kraken_market.cli.demo import demo
from kraken_market.cli.deploy import deploy
from kraken_market.cli.session import login, logout, whoami
from kraken_market.cli.up import up

app = typer.Typer(
    name="kraken-market",
    help=(
        "Kraken Market: a marketplace for personal and institutional data.\n\n"
        "Start everything with 'kraken-market up', create a wallet with "
        "'kraken-market wallet create', get a PersonCredential from the demo issuer with "
        "'kraken-market issuer issue person --name NAME --wallet PATH' (development), "
        "log in with 'kraken-market login', then sell data with "
        "'kraken-market sell analytics|file|stream'. Settings come from KRAKEN_* variables or the "
        "TOML file named by KRAKEN_CONFIG."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command(help="Start the whole platform locally; Ctrl-C stops it.")(up)
app.add_typer(api.app, name="api")
app.add_typer(sell.app, name="sell")
app.add_typer(products.app, name="products")
app.add_typer(unions.app, name="unions")
app.add_typer(companies.app, name="companies")
wallet.app.command(name="answer")(wallet_answer.answer)
app.add_typer(wallet.app, name="wallet")
app.add_typer(issuer.app, name="issuer")
app.add_typer(depute.app, name="depute")
app.add_typer(analytics.app, name="analytics")
app.add_typer(node.app, name="node")
app.add_typer(trade.app, name="trade")
app.add_typer(files.app, name="files")
app.add_typer(streams.app, name="streams")
app.command(help="Run the whole story against a running 'up', printing each step.")(demo)
app.command()(login)
app.command()(logout)
app.command()(whoami)
chain.app.command(name="deploy")(deploy)
app.add_typer(chain.app, name="chain")
app.add_typer(ledger.app, name="ledger")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)
