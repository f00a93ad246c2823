"""``kraken-market accounts``: interim accounts and bearer tokens (administrator side).

These commands write to the marketplace database directly (they are run by
whoever operates the API), and are replaced by wallet-based login in the
identity issue.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from kraken_market.accounts.service import AccountService
from kraken_market.cli.common import (
    JsonOption,
    err,
    fails_cleanly,
    out,
    print_json,
    save_token,
    settings,
    table,
)
from kraken_market.db.engine import make_engine, make_session_factory, write_session
from kraken_market.db.migrate import upgrade

app = typer.Typer(
    help="Create accounts and their API tokens (run where the API runs).", no_args_is_help=True
)

SaveOption = Annotated[
    bool, typer.Option("--save", help="Also store the token for this CLI (data dir, mode 0600)")
]


@contextmanager
def _service(*, writes: bool = True) -> Iterator[AccountService]:
    config = settings()
    engine = make_engine(config.resolved_database_url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        with write_session(factory) if writes else factory() as session:
            yield AccountService(session)
    finally:
        engine.dispose()


@app.command()
@fails_cleanly
def create(
    name: Annotated[str, typer.Argument(help="lowercase name, e.g. alice")],
    save: SaveOption = False,
    as_json: JsonOption = False,
) -> None:
    """Create an account and print its bearer token (shown once, never stored in clear)."""
    with _service() as service:
        account, token = service.create(name)
        service.session.commit()
    if save:
        path = save_token(settings(), token)
        err.print(f"token saved to {path}")
    if as_json:
        print_json({"account": account.id, "name": account.name, "token": token})
    else:
        out.print(f"account [bold]{account.id}[/bold]\ntoken   {token}")


@app.command()
@fails_cleanly
def token(name: str, save: SaveOption = False, as_json: JsonOption = False) -> None:
    """Issue another token for an existing account."""
    with _service() as service:
        value = service.issue_token(f"acct_{name}")
        service.session.commit()
    if save:
        err.print(f"token saved to {save_token(settings(), value)}")
    print_json({"account": f"acct_{name}", "token": value}) if as_json else out.print(value)


@app.command()
@fails_cleanly
def revoke(name: str) -> None:
    """Revoke every token of an account at once."""
    with _service() as service:
        count = service.revoke_tokens(f"acct_{name}")
        service.session.commit()
    out.print(f"revoked {count} token(s) of acct_{name}")


@app.command("list")
@fails_cleanly
def list_(as_json: JsonOption = False) -> None:
    """List accounts."""
    with _service(writes=False) as service:
        accounts = service.list()
    if as_json:
        print_json(
            [{"account": a.id, "name": a.name, "created_at": a.created_at} for a in accounts]
        )
        return
    table(
        "accounts", ["account", "name", "created"], [[a.id, a.name, a.created_at] for a in accounts]
    )
