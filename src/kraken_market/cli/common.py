"""What every command shares: settings, the API client, output (tables or ``--json``), errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import InvalidRequest, KrakenError
from kraken_market.files import read_private, write_private
from kraken_market.settings import Settings, get_settings

P = ParamSpec("P")
R = TypeVar("R")

out = Console(emoji=False)  # ":key:" in "did:key:..." is no emoji
err = Console(stderr=True, emoji=False, soft_wrap=True)  # messages stay greppable

SESSION_FIELDS = (
    "session_token",
    "refresh_token",
    "expires_at",
    "refresh_expires_at",
    "did",
    "account",
    "company",
    "roles",
)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
]


def settings() -> Settings:
    try:
        return get_settings()
    except (ValidationError, OSError, ValueError) as exc:  # ValueError: bad TOML
        err.print(f"[red]error[/red] configuration: {exc}")
        raise typer.Exit(2) from exc


SESSION_MARGIN = timedelta(seconds=30)  # refresh a little early: requests take time


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_session(config: Settings) -> dict[str, Any] | None:
    """The session 'kraken-market login' saved, or None; refused if others may read it."""
    if not config.token_file.is_file():
        return None
    try:
        data = json.loads(read_private(config.token_file))
        _moment(data["expires_at"]), _moment(data["refresh_expires_at"])
    except InvalidRequest:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest(
            f"{config.token_file} is not a saved session; log in again (kraken-market login)"
        ) from exc
    session: dict[str, Any] = data
    return session


def save_session(config: Settings, session: dict[str, Any]) -> Path:
    """Keep the login's tokens readable by their owner only (0600, written atomically)."""
    kept = {k: session[k] for k in SESSION_FIELDS if k in session}
    kept["api_url"] = config.resolved_api_url  # a session is never sent to another API
    write_private(config.token_file, json.dumps(kept, indent=1, default=str) + "\n")
    return config.token_file


def _refreshed(config: Settings, session: dict[str, Any]) -> str | None:
    try:
        with MarketClient.connect(config.resolved_api_url) as api:
            fresh = api.refresh(session["refresh_token"])
    except ApiError as exc:
        again = read_session(config)  # another command may have refreshed it meanwhile
        if (
            again
            and again["session_token"] != session["session_token"]
            and _moment(again["expires_at"]) > datetime.now(UTC) + SESSION_MARGIN
        ):
            return str(again["session_token"])
        err.print(
            f"your session could not be refreshed ({exc.roll_up()}); "
            "log in again: kraken-market login",
            style="yellow",
            markup=False,
        )
        return None
    save_session(config, fresh)
    return str(fresh["session_token"])


def saved_token(config: Settings) -> str | None:
    """KRAKEN_API_TOKEN, else the saved session's token, refreshed if it has expired
    while its refresh token is still valid. Without a usable session the command
    goes on anonymously (reads work; writes get the API's 401) after a warning."""
    if config.api_token is not None:
        return config.api_token.get_secret_value()
    session = read_session(config)
    if session is None:
        return None
    if session.get("api_url") != config.resolved_api_url:
        err.print(
            f"the saved session is for {session.get('api_url')}, not {config.resolved_api_url}; "
            "log in to this API (kraken-market login)",
            style="yellow",
            markup=False,
        )
        return None
    now = datetime.now(UTC)
    if _moment(session["expires_at"]) > now + SESSION_MARGIN:
        return str(session["session_token"])
    if _moment(session["refresh_expires_at"]) <= now + SESSION_MARGIN:
        err.print(
            "your session has expired; log in again: kraken-market login",
            style="yellow",
            markup=False,
        )
        return None
    return _refreshed(config, session)


def client() -> MarketClient:
    config = settings()
    return MarketClient.connect(config.resolved_api_url, saved_token(config))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def table(
    title: str, columns: list[str], rows: list[list[Any]], *, console: Console | None = None
) -> None:
    """A Rich table of user data: cells are escaped, so a title like ``[bold]`` or
    ``[/x]`` is shown as typed instead of being read (or refused) as markup. On
    ``console`` (default: standard output; the error stream for what accompanies a
    ``--json`` answer)."""
    view = Table(title=escape(title), show_lines=False)
    for column in columns:
        view.add_column(column, overflow="fold")
    for row in rows:
        view.add_row(*("" if v is None else escape(str(v)) for v in row))
    (console or out).print(view)


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
