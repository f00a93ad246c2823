"""``kraken-market chain``: the embedded durable chain."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from kraken_market.cli.common import err, settings
from kraken_market.logs import configure_logging

app = typer.Typer(
    help="Run the embedded durable chain (py-evm, state in SQLite).", no_args_is_help=True
)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default: KRAKEN_CHAIN_HOST)")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: KRAKEN_CHAIN_PORT, 8545)")
    ] = None,
    block_interval: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=10,
            help="Longest wait (s) for concurrent sends to join a block "
            "(default: KRAKEN_CHAIN_BLOCK_INTERVAL, 0.02)",
        ),
    ] = None,
) -> None:
    """Serve the chain over Ethereum JSON-RPC; state lives in DATA_DIR/chain.db and every
    acknowledged transaction is on disk. Transactions sent concurrently share a block and
    its one disk commit (group commit). Dev accounts (eth-tester's well-known test keys)
    are funded at genesis: a development chain, never one that holds value."""
    # Imported here, not at the top: py-evm raises the process's recursion limit to
    # 100,000 (see kraken_market.jsondepth), which every other command (notably
    # the API, which parses JSON bodies) must not inherit.
    from kraken_market.ledger.chain.embedded import DurableBackend
    from kraken_market.ledger.chain.rpc_server import ChainNode, create_rpc_app

    config = settings()
    configure_logging(config)
    interval = config.chain_block_interval if block_interval is None else block_interval
    node = ChainNode(DurableBackend(config.chain_file), block_interval=interval)
    bind_host, bind_port = host or config.chain_host, port or config.chain_port
    err.print(f"chain JSON-RPC on http://{bind_host}:{bind_port} (state: {config.chain_file})")
    uvicorn.run(
        create_rpc_app(node), host=bind_host, port=bind_port, log_config=None, access_log=False
    )
