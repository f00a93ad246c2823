"""``kraken-market api``: run the marketplace API."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from kraken_market.api.app import create_app
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
) -> None:
    """Serve the REST API (OpenAPI docs at /docs); migrations are applied first."""
    config = settings()
    configure_logging(config)
    application = create_app(config)
    bind_host, bind_port = host or config.api_host, port or config.api_port
    err.print(f"API on http://{bind_host}:{bind_port}  (docs: /docs)")
    uvicorn.run(application, host=bind_host, port=bind_port, log_config=None, access_log=False)
