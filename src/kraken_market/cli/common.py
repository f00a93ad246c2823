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

from kraken_market.cli import messages, session_store
from kraken_market.cli.session_store import SelectedWallet
from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import KrakenError, ValidationFailed, validation_details
from kraken_market.identity.wallet_errors import WrongPassphrase
from kraken_market.settings import Settings, get_settings

P = ParamSpec("P")
R = TypeVar("R")

out = Console(emoji=False)  # ":key:" in "did:key:..." is no emoji
err = Console(stderr=True, emoji=False, soft_wrap=True)  # messages stay greppable

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


def selected_wallet(config: Settings, wallet: Path | None = None) -> SelectedWallet:
    """The wallet a command acts for: ``wallet`` (--wallet), else KRAKEN_WALLET, else
    data_dir/wallet.json; its session is the one the command sends."""
    return session_store.select(config, wallet)


def read_session(config: Settings, wallet: Path | None = None) -> dict[str, Any] | None:
    """The session 'kraken-market login' saved for the selected wallet, or None;
    refused if others may read it."""
    selected = selected_wallet(config, wallet)
    return None if selected.did is None else session_store.read(config, selected.did)


def save_session(config: Settings, session: dict[str, Any]) -> Path:
    """Keep a login's tokens as the session of its DID's wallet (0600, atomically)."""
    return session_store.save(config, session)


def _refreshed(config: Settings, session: dict[str, Any], selected: SelectedWallet) -> str | None:
    try:
        with MarketClient.connect(config.resolved_api_url) as api:
            fresh = api.refresh(session["refresh_token"])
    except ApiError as exc:
        again = session_store.read(config, session["did"])  # refreshed meanwhile elsewhere?
        if (
            again
            and again["session_token"] != session["session_token"]
            and session_store.moment(again["expires_at"]) > datetime.now(UTC) + SESSION_MARGIN
        ):
            return str(again["session_token"])
        err.print(
            f"the session of {selected.describe()} could not be refreshed ({exc.roll_up()}); "
            f"log in again: {selected.login_command}",
            style="yellow",
            markup=False,
        )
        return None
    save_session(config, fresh)
    return str(fresh["session_token"])


def saved_token(config: Settings, wallet: Path | None = None) -> str | None:
    """KRAKEN_API_TOKEN, else the selected wallet's saved session token, refreshed if
    it has expired while its refresh token is still valid. Without a usable session
    the command goes on anonymously (reads work; writes get the API's 401)."""
    if config.api_token is not None:
        return config.api_token.get_secret_value()
    selected = selected_wallet(config, wallet)
    if selected.did is None:
        return None
    session = session_store.read(config, selected.did)
    if session is None:
        return None
    if session.get("api_url") != config.resolved_api_url:
        err.print(
            f"the session of {selected.describe()} is for {session.get('api_url')}, not "
            f"{config.resolved_api_url}; log in to this API: {selected.login_command}",
            style="yellow",
            markup=False,
        )
        return None
    now = datetime.now(UTC)
    if session_store.moment(session["expires_at"]) > now + SESSION_MARGIN:
        return str(session["session_token"])
    if session_store.moment(session["refresh_expires_at"]) <= now + SESSION_MARGIN:
        err.print(
            f"your session has expired ({selected.describe()}); "
            f"log in again: {selected.login_command}",
            style="yellow",
            markup=False,
        )
        return None
    return _refreshed(config, session, selected)


def client(wallet: Path | None = None) -> MarketClient:
    """The API client, sending the session of the selected wallet (``--wallet``,
    KRAKEN_WALLET, data_dir/wallet.json) or KRAKEN_API_TOKEN."""
    config = settings()
    return MarketClient.connect(config.resolved_api_url, saved_token(config, wallet))


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


LOGIN_CODES = frozenset({"unauthenticated", "session_invalid", "session_ended"})
"""Refusals a login cures (not a wrong passphrase, nor a credential the API refused)."""


def _login_advice(exc: KrakenError, wallet: Any) -> str | None:
    """The refusal in the user's words: which wallet is not logged in, what to run."""
    try:
        config = get_settings()
        selected = selected_wallet(config, wallet if isinstance(wallet, Path) else None)
    except (ValidationError, OSError, ValueError, KrakenError):
        return None  # the advice never hides the refusal itself
    if config.api_token is not None:
        return (
            f"{exc.message}; the token in KRAKEN_API_TOKEN was not accepted: set a valid "
            "one, or unset it and run 'kraken-market login'"
        )
    if selected.did is None:
        return (
            f"you are not logged in, and there is no wallet at {selected.path}: create one "
            "('kraken-market wallet create') or choose yours (--wallet or KRAKEN_WALLET), "
            "then run 'kraken-market login'"
        )
    if isinstance(exc, ApiError) and exc.api_code == "unauthenticated":
        return f"you are not logged in with {selected.describe()}: run '{selected.login_command}'"
    said = exc.message.removesuffix("; log in again")
    return f"{said}; log in with {selected.describe()}: run '{selected.login_command}'"


def report(
    exc: KrakenError, given: dict[str, Any], command: Callable[..., Any] | None = None
) -> None:
    """Print ``error [code]: message`` in the user's words (``cli.messages``), naming the
    options of ``command`` called with ``given``; with ``--json`` the API's details
    follow as JSON, for scripts."""
    params = messages.parameters(command, given) if command else {}
    code, lines = messages.explain(exc, params)
    if code in LOGIN_CODES and not isinstance(exc, WrongPassphrase):
        lines = [_login_advice(exc, given.get("wallet")) or lines[0], *lines[1:]]
    err.print(f"error [{code}]: {lines[0]}", style="red", markup=False, highlight=False)
    for line in lines[1:]:
        err.print(line, style="red", markup=False, highlight=False)
    if exc.details and (given.get("as_json") or messages.problems(exc.details, params) is None):
        err.print(json.dumps(exc.details, indent=2, default=str), highlight=False)


def fails_cleanly(command: Callable[P, R]) -> Callable[P, R]:
    """Print a Kraken error as ``error [code]: message`` in the user's words and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except KrakenError as exc:
            report(exc, kwargs, command)
            raise typer.Exit(1) from exc
        except ValidationError as exc:  # a file the command reads itself (a spec...)
            details = validation_details(exc.errors())
            report(ValidationFailed("the input is not valid", details=details), kwargs)
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
