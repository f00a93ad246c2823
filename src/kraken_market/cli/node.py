"""``kraken-market node``: run one SMPC compute node (certs, init, register, serve)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from kraken_market.cli.common import err, fails_cleanly, out, print_json
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption, read_key_file, signer

app = typer.Typer(
    help="Run an SMPC compute node: it computes only what the chain shows was paid for and "
    "granted, never sees data in the clear, and returns result shares encrypted to the buyer.",
    no_args_is_help=True,
)
DataDir = Annotated[Path, typer.Option("--data-dir", help="The node's own directory")]


@app.callback()
def node() -> None:
    """SMPC compute node."""


@app.command()
@fails_cleanly
def certs(
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write the CA and certificates")],
    parties: Annotated[int, typer.Option(min=3, max=32, help="Number of nodes m")] = 3,
) -> None:
    """Create a deployment's TLS CA and one certificate per node ("MPyC party i")."""
    from kraken_market.smpc.node.tls import make_deployment

    make_deployment(out_dir, parties)
    out.print(f"CA and {parties} node certificates in {out_dir}; keep {out_dir / 'ca.key'} offline")


@app.command()
@fails_cleanly
def init(
    index: Annotated[int, typer.Option(min=0, help="This node's index i (0-based)")],
    data_dir: DataDir,
    parties: Annotated[str, typer.Option(help="Every node's MPC host:base_port, comma-separated")],
    certs_dir: Annotated[Path, typer.Option("--certs", help="Directory from 'node certs'")],
    storage: Annotated[
        str,
        typer.Option(
            help="Share storage: a directory, or s3://bucket/prefix (add ?endpoint=URL for "
            "MinIO, Ceph, ...; credentials from the AWS environment or ~/.aws)"
        ),
    ],
    chain_url: Annotated[str, typer.Option(help="JSON-RPC URL of the chain")],
    deployment: Annotated[Path, typer.Option(help="Deployment file of the contracts")],
    port: Annotated[int, typer.Option(help="HTTP port of this node's API")] = 8800,
    host: Annotated[str, typer.Option(help="HTTP interface")] = "127.0.0.1",
    threshold: Annotated[
        int | None, typer.Option("--t", help="Threshold (default (m-1)//2)")
    ] = None,
    join_timeout: Annotated[float, typer.Option(help="Seconds to wait for peers")] = 30.0,
    job_timeout: Annotated[float, typer.Option(help="Seconds a computation may take")] = 900.0,
    min_cohort: Annotated[int, typer.Option(help="Smallest min_cohort accepted")] = 10,
    ssl: Annotated[bool, typer.Option(help="Mutual TLS between nodes")] = True,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create the node's keys (HPKE key, ledger account: given, or new), install its TLS
    certificate and write DATA_DIR/node.json."""
    from kraken_market.smpc.config import NodeConfig
    from kraken_market.smpc.node import identity, tls
    from kraken_market.smpc.storage import open_storage

    open_storage(storage)  # refuses a malformed location now, not at the first job
    try:
        config = NodeConfig(
            index=index,
            data_dir=data_dir,
            parties=tuple(p.strip() for p in parties.split(",")),
            storage=storage,
            chain_url=chain_url,
            deployment_file=deployment,
            t=threshold,
            host=host,
            port=port,
            join_timeout=join_timeout,
            job_timeout=job_timeout,
            min_cohort_floor=min_cohort,
            ssl=ssl,
        )
    except ValueError as exc:  # parties, threshold, ports: say which
        raise typer.BadParameter(str(exc), param_hint="--parties/--t") from exc
    account_key = None
    if dev_account is not None:
        account_key = signer(dev_account, None).key.hex()
    elif key_file is not None:
        account_key = read_key_file(key_file)
    identity.create_keys(config.hpke_key_file, config.account_key_file, account_key)
    if ssl:
        tls.install(certs_dir, index, config.mpc_dir)
    config.mpc_dir.mkdir(parents=True, exist_ok=True)
    config.save()
    hpke = identity.load_hpke(config.hpke_key_file).public_key.raw.hex()
    account = identity.load_account(config.account_key_file).address
    if as_json:
        print_json({"index": index, "account": account, "hpke_public_key": hpke})
        return
    out.print(f"node {index}: account {account}, HPKE public key {hpke}")
    out.print(f"register it: kraken-market node register --data-dir {data_dir} --endpoint URL")


@app.command()
@fails_cleanly
def register(
    data_dir: DataDir,
    endpoint: Annotated[str, typer.Option(help="The node's public HTTP URL")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Register this node on chain (signed by the admin): account, HPKE key, endpoint."""
    from kraken_market.ledger.client import Ledger, connect
    from kraken_market.ledger.deployment import Deployment
    from kraken_market.smpc.config import NodeConfig
    from kraken_market.smpc.node import identity

    config = NodeConfig.load(data_dir)
    admin = Ledger(
        connect(config.chain_url),
        Deployment.load(config.deployment_file),
        signer(dev_account, key_file),
    )
    account = identity.load_account(config.account_key_file).address
    key = identity.load_hpke(config.hpke_key_file).public_key.raw
    admin.register_node(account, key, endpoint)
    out.print(f"registered node {config.index} ({account}) at {endpoint}")


@app.command()
@fails_cleanly
def serve(data_dir: DataDir) -> None:
    """Serve the node's API; MPC runs in one child process per job."""
    import uvicorn

    from kraken_market.ledger.client import Ledger, connect
    from kraken_market.ledger.deployment import Deployment
    from kraken_market.smpc.config import NodeConfig
    from kraken_market.smpc.node import identity
    from kraken_market.smpc.node.app import create_app
    from kraken_market.smpc.node.authorise import LedgerChain
    from kraken_market.smpc.node.service import NodeService

    config = NodeConfig.load(data_dir)
    ledger = Ledger(
        connect(config.chain_url),
        Deployment.load(config.deployment_file),
        identity.load_account(config.account_key_file),
    )
    service = NodeService(config, LedgerChain(ledger), identity.load_hpke(config.hpke_key_file))
    err.print(
        f"node {config.index} on http://{config.host}:{config.port} ({json.dumps(config.parties)})"
    )
    uvicorn.run(
        create_app(service), host=config.host, port=config.port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    app()
