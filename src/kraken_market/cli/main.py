"""The ``kraken-market`` command: every command group of the platform, each imported
only when it runs.

Importing every group costs about five seconds of CPU (the API application, the
Depute tool, the analytics with pandas and pyarrow, the ledger with web3), which
``kraken-market whoami`` would pay as much as ``kraken-market api serve``. So the
top-level group knows its commands by name and imports a group's module when that
group is asked for (click's documented lazy-loading pattern, over Typer's group
class); ``kraken-market --help`` still imports them all to list them.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
import typer.main
from typer._click import Command
from typer.core import TyperGroup

from kraken_market import __version__

COMMANDS: dict[str, str] = {
    "up": "kraken_market.cli.up:up",
    "api": "kraken_market.cli.api:app",
    "sell": "kraken_market.cli.sell:app",
    "products": "kraken_market.cli.products:app",
    "unions": "kraken_market.cli.unions:app",
    "companies": "kraken_market.cli.companies:app",
    "wallet": "kraken_market.cli.wallet:app",
    "issuer": "kraken_market.cli.issuer:app",
    "depute": "kraken_market.cli.depute:app",
    "analytics": "kraken_market.cli.analytics:app",
    "node": "kraken_market.cli.node:app",
    "trade": "kraken_market.cli.trade:app",
    "files": "kraken_market.cli.files:app",
    "streams": "kraken_market.cli.streams:app",
    "demo": "kraken_market.cli.demo:demo",
    "login": "kraken_market.cli.session:login",
    "logout": "kraken_market.cli.session:logout",
    "whoami": "kraken_market.cli.session:whoami",
    "chain": "kraken_market.cli.chain:app",
    "ledger": "kraken_market.cli.ledger:app",
    "operator": "kraken_market.cli.operator:app",
}
"""Command name -> ``module:attribute``, a Typer app (a group) or a function (one
command), in the order ``--help`` lists them."""

SHORT_HELP = {
    "up": "Start the whole platform locally; Ctrl-C stops it.",
    "demo": "Run the whole story against a running 'up', printing each step.",
}
"""What the listing shows of commands whose docstring is long (their own --help shows
it whole)."""


def load(name: str) -> Command:
    """The click command ``name`` stands for, its module imported now."""
    module, attribute = COMMANDS[name].split(":")
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        command: Command = typer.main.get_group(target)
    else:
        # a command of the group, not a program: no completion options of its own
        single = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
        single.command(name=name, short_help=SHORT_HELP.get(name))(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyCommands(MutableMapping[str, Command]):
    """A group's commands by name: those of :data:`COMMANDS` are loaded on first use.
    Everything click and Typer do with a group's commands (run one, list them, suggest
    one for a typo) goes through this mapping."""

    def __init__(self, loaded: MutableMapping[str, Command]) -> None:
        self._loaded = dict(loaded)

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded and name in COMMANDS:
            self._loaded[name] = load(name)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._loaded if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS.keys() | self._loaded.keys())

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._loaded


class LazyGroup(TyperGroup):
    """Typer's group over :class:`LazyCommands`."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.commands)


app = typer.Typer(
    name="kraken-market",
    cls=LazyGroup,
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


@app.callback()
def main() -> None:
    """Kraken Market's command line (the group's help is the app's)."""


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def load_all() -> list[Command]:
    """Every command, imported (what ``--help`` does; tests check them all)."""
    return [load(name) for name in COMMANDS]
