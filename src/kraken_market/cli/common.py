"""What every command shares: settings, the API client, output (tables or ``--json``), errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import KrakenError
from kraken_market.settings import Settings, get_settings

P = ParamSpec("P")
R = TypeVar("R")

out = Console()
err = Console(stderr=True)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
]


def settings() -> Settings:
    try:
        return get_settings()
    except (ValidationError, OSError, ValueError) as exc:  # ValueError: bad TOML
        err.print(f"[red]error[/red] configuration: {exc}")
        raise typer.Exit(2) from exc


def saved_token(config: Settings) -> str | None:
    if config.api_token is not None:
        return config.api_token.get_secret_value()
    if config.token_file.is_file():
        return config.token_file.read_text().strip() or None
    return None


def save_token(config: Settings, token: str) -> Path:
    """Keep the CLI's token readable by its owner only (0600), like any key in a wallet."""
    path = config.token_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(token + "\n")
    return path


def client() -> MarketClient:
    config = settings()
    return MarketClient.connect(config.resolved_api_url, saved_token(config))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    view = Table(title=title, show_lines=False)
    for column in columns:
        view.add_column(column, overflow="fold")
    for row in rows:
        view.add_row(*("" if v is None else str(v) for v in row))
    out.print(view)


def fails_cleanly(command: Callable[P, R]) -> Callable[P, R]:
    """Print a Kraken error as ``error [code]: message`` (and its details) and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except KrakenError as exc:
            code = exc.api_code if isinstance(exc, ApiError) else exc.code
            err.print(f"error [{code}]: {exc.message}", style="red", markup=False, highlight=False)
            if exc.details:
                err.print(json.dumps(exc.details, indent=2, default=str), highlight=False)
            raise typer.Exit(1) from exc
        except SQLAlchemyError as exc:  # commands that use the database directly
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
            err.print(
                f"error [database]: cannot use the database ({type(exc).__name__}: {reason}); "
                "check KRAKEN_DATABASE_URL",
                style="red",
                markup=False,
                highlight=False,
            )
            raise typer.Exit(1) from exc

    return wrapper
