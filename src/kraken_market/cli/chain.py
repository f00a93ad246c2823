"""``kraken-market chain``: the embedded durable chain."""

from __future__ import annotations

import ipaddress
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
    fund: Annotated[
        list[str] | None,
        typer.Option(
            help="An account (0x address) funded with gas money at genesis; repeat it. "
            "Used only when the chain is created ('up' passes the platform's accounts)",
        ),
    ] = None,
    development: Annotated[
        bool,
        typer.Option(
            help="Also answer eth-tester's development methods (evm_snapshot/revert/mine, "
            "testing_timeTravel) and sign for its dev accounts: anyone who reaches the port "
            "can then rewrite the chain. Loopback only; 'up' never turns it on",
        ),
    ] = False,
) -> None:
    """Serve the chain over Ethereum JSON-RPC; state lives in DATA_DIR/chain.db and every
    acknowledged transaction is on disk. Transactions sent concurrently share a block and
    its one disk commit (group commit). Only the standard methods are served and only
    signed transactions accepted. Dev accounts (eth-tester's well-known test keys) are
    funded at genesis for the development faucet: a development chain, never one that
    holds value."""
    # Imported here, not at the top: py-evm raises the process's recursion limit to
    # 100,000 (see kraken_market.jsondepth), which every other command (notably
    # the API, which parses JSON bodies) must not inherit.
    from kraken_market.ledger.chain.embedded import DurableBackend
    from kraken_market.ledger.chain.rpc_server import ChainNode, create_rpc_app

    config = settings()
    configure_logging(config)
    interval = config.chain_block_interval if block_interval is None else block_interval
    bind_host, bind_port = host or config.chain_host, port or config.chain_port
    if development and not _loopback(bind_host):
        raise typer.BadParameter(
            f"--development serves methods that rewrite the chain: bind it to 127.0.0.1 or "
            f"::1, not {bind_host}",
            param_hint="--development",
        )
    accounts = [_address(each) for each in fund or []]
    backend = DurableBackend(config.chain_file, funded=accounts)
    node = ChainNode(backend, block_interval=interval, development=development)
    if development:
        err.print("[bold yellow]development methods on: anyone on this machine can rewrite it")
    err.print(f"chain JSON-RPC on http://{bind_host}:{bind_port} (state: {config.chain_file})")
    uvicorn.run(
        create_rpc_app(node), host=bind_host, port=bind_port, log_config=None, access_log=False
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _address(text: str) -> str:
    from eth_utils.address import is_address, to_checksum_address

    if not is_address(text):
        raise typer.BadParameter(f"{text!r} is not an account address (0x + 40 hex digits)")
    return str(to_checksum_address(text))


# 'chain deploy' deploys the contracts to whichever chain is configured (a module of
# its own: it shares the ledger commands' key options).
from kraken_market.cli.deploy import deploy  # noqa: E402

app.command(name="deploy")(deploy)
