"""``kraken-market up``: the whole platform on one machine, with one data directory.

A small supervisor starts each process as a child, waits until each says it
is ready, prints where to find it, and on Ctrl-C (or when any child dies)
stops them all: SIGTERM first, SIGKILL after a grace period. For now the
platform is the chain (with the contracts, deployed on first start), the API
and the event indexer (contract events into the API's database, where
fulfilment will read its "payment notifications"); compute nodes and the
Depute tool join here.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

import httpx2
import typer

from kraken_market.cli.common import err, out, settings

GRACE_SECONDS = 10.0


@dataclass
class Service:
    name: str
    argv: list[str]
    ready_url: str | None  # None: ready once it has run a moment without exiting
    process: subprocess.Popen[bytes] | None = None


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _wait_ready(service: Service, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    settled = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        assert service.process is not None
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with status {service.process.returncode}")
        if service.ready_url is None:
            if time.monotonic() >= settled:
                return
            time.sleep(0.2)
            continue
        try:
            if httpx2.get(service.ready_url, timeout=1.0).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{service.name} not ready after {timeout:.0f} s ({service.ready_url})")


def _stop(services: list[Service]) -> None:
    running = [s for s in services if s.process and s.process.poll() is None]
    for service in reversed(running):
        assert service.process is not None
        service.process.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for service in running:
        assert service.process is not None
        try:
            service.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()


def _deploy_contracts(python: list[str], timeout: float) -> None:
    """Deploy the contracts on the embedded chain on first start; reuse them after."""
    command = [*python, "chain", "deploy", "--dev-account", "0"]
    try:
        done = subprocess.run(  # noqa: S603
            command, env=os.environ.copy(), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"deploying the contracts took over {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise RuntimeError(f"deploying the contracts failed: {done.stderr.strip()[-500:]}")


def up(
    ready_timeout: float = typer.Option(60.0, help="Seconds each process may take to be ready"),
) -> None:
    """Start the whole platform locally (embedded defaults), print its URLs; Ctrl-C stops it."""
    config = settings()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    for host, port, variable in (
        (config.chain_host, config.chain_port, "KRAKEN_CHAIN_PORT"),
        (config.api_host, config.api_port, "KRAKEN_API_PORT"),
    ):
        if not _port_free(host, port):
            err.print(
                f"[red]error[/red]: {host}:{port} is in use (another 'kraken-market up'?); "
                f"stop it or set {variable}"
            )
            raise typer.Exit(1)
    api = f"http://{config.api_host}:{config.api_port}"  # the servers started here
    chain = f"http://{config.chain_host}:{config.chain_port}"
    python = [sys.executable, "-m", "kraken_market"]
    services = [
        Service(
            "chain",
            [
                *python,
                "chain",
                "serve",
                "--host",
                config.chain_host,
                "--port",
                str(config.chain_port),
            ],
            f"{chain}/healthz",
        ),
        Service(
            "api",
            [*python, "api", "serve", "--host", config.api_host, "--port", str(config.api_port)],
            f"{api}/readyz",
        ),
        Service(  # after the API: it has migrated the database the indexer writes to
            "indexer",
            [*python, "ledger", "index", "--follow", "--interval", "0.5"],
            None,
        ),
    ]
    stopping = False

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        for service in services:
            service.process = subprocess.Popen(service.argv, env=os.environ.copy())  # noqa: S603
            _wait_ready(service, ready_timeout)
            if service.name == "chain":
                _deploy_contracts(python, ready_timeout)
        out.print(
            f"[bold green]Kraken Market is up[/bold green] (data: {config.data_dir.resolve()})\n"
            f"  API      {api}/api/v1\n  docs     {api}/docs\n  health   {api}/readyz\n"
            f"  chain    {chain} (JSON-RPC, embedded durable dev chain)\n"
            "  indexer  contract events into the API's database (printed below)\n"
            f"  contracts {config.deployment_file} (dev accounts: "
            "'kraken-market ledger --help')\n"
            "Get started: kraken-market wallet create; kraken-market issuer issue person "
            "--name NAME --wallet "
            f"{config.wallet_file}; kraken-market login\n"
            "Press Ctrl-C to stop."
        )
        while not stopping:
            for service in services:
                assert service.process is not None
                if service.process.poll() is not None:
                    err.print(f"[red]{service.name} stopped (status {service.process.returncode})")
                    stopping = True
            time.sleep(0.5)
    except RuntimeError as exc:
        err.print(f"[red]error[/red]: {exc}")
        _stop(services)
        raise typer.Exit(1) from exc
    _stop(services)
    err.print("stopped")
