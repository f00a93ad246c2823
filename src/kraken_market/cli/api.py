"""``kraken-market api``: run the marketplace API."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from kraken_market.api.app import create_app
from kraken_market.api.serving import port_free, serve_workers
from kraken_market.cli.common import err, settings
from kraken_market.logs import configure_logging

app = typer.Typer(
    help="Run the marketplace API (catalog, unions, KCIT, login, the revocation registry).",
    no_args_is_help=True,
)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default: KRAKEN_API_HOST, 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: KRAKEN_API_PORT, 8700)")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (default: KRAKEN_API_WORKERS, else one per core with "
            "PostgreSQL and one with SQLite)",
        ),
    ] = None,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs); migrations are applied first."""
    config = settings()
    configure_logging(config)
    count = workers or config.resolved_api_workers
    if count > 1 and config.resolved_database_url.startswith("sqlite"):
        err.print(
            f"[red]error[/red] {count} API workers need PostgreSQL: SQLite lets one writer "
            "at a time. Set KRAKEN_DATABASE_URL to a PostgreSQL database, or use --workers 1."
        )
        raise typer.Exit(2)
    application = create_app(config)  # migrates, once, before any worker starts
    bind_host, bind_port = host or config.api_host, port or config.api_port
    err.print(f"API on http://{bind_host}:{bind_port}  (docs: /docs, {count} worker(s))")
    if count == 1:
        uvicorn.run(application, host=bind_host, port=bind_port, log_config=None, access_log=False)
        return
    if not port_free(bind_host, bind_port):
        err.print(f"[red]error[/red] port {bind_port} on {bind_host} is in use: choose another")
        raise typer.Exit(1)
    del application  # each worker builds its own, from the same settings
    raise typer.Exit(serve_workers(bind_host, bind_port, count, err.print))
