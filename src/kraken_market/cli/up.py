"""``kraken-market up``: the whole platform on one machine, with one data directory.

It starts the embedded chain (deploying the contracts on the first start),
the API (with KCIT and the revocation registry), the event indexer, the
compute nodes (set up and registered on chain on the first start) and the
demo company's Depute tool (the company identified in KCIT by the demo
admin); waits until each answers; prints one table of URLs and accounts
(``--json``: the same as JSON, also kept in ``<data_dir>/platform.json``).
Ctrl-C, SIGTERM or SIGHUP stop every child in reverse start order; a child
that dies is reported with its log (``<data_dir>/logs/<name>.log``) and the
others are stopped, with exit status 1. A restart reuses every key,
account, registration and database: it resumes with all state.

It is a development platform (dev accounts with well-known keys, the demo
issuer), so it refuses to run with ``KRAKEN_ENVIRONMENT=production``; a
deployment runs each process on its own (``chain``, ``api``, ``node``,
``depute`` commands).
"""

from __future__ import annotations

import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import TYPE_CHECKING

import typer

from kraken_market.cli.common import JsonOption, err, out, print_json, settings
from kraken_market.errors import KrakenError
from kraken_market.settings import Settings

if TYPE_CHECKING:
    from kraken_market.platform.supervisor import Child, Supervisor

# kraken_market.platform is imported in up() only: it imports web3, which raises the
# recursion limit (kraken_market.jsondepth) of every process importing this module, and
# costs most of a second.

GRACE_SECONDS = 10.0


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        # As the servers bind: connections of the last run in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _ports(config: Settings, local: str) -> list[tuple[str, int, str]]:
    """Every port ``up`` listens on, with the setting that moves it (an external chain,
    KRAKEN_CHAIN_URL, is not started here)."""
    ports = []
    if config.chain_is_embedded:
        ports.append((config.chain_host, config.chain_port, "KRAKEN_CHAIN_PORT"))
    ports += [
        (config.api_host, config.api_port, "KRAKEN_API_PORT"),
        (local, config.depute_port, "KRAKEN_DEPUTE_PORT"),
    ]
    return ports + [
        (local, config.node_base_port + i, "KRAKEN_NODE_BASE_PORT") for i in range(config.nodes)
    ]


def _refuse(message: str, status: int = 1) -> typer.Exit:
    err.print(f"[red]error[/red]: {message}", highlight=False)
    return typer.Exit(status)


def _check_database(config: Settings) -> None:
    """Before anything starts: the database answers and belongs to this data directory's
    chain (``platform.database``), else say so, and what to do, and exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from kraken_market.db.engine import make_engine
    from kraken_market.platform.database import check_database, shown_url

    engine = make_engine(config.resolved_database_url)
    try:
        check_database(config, engine)
    except KrakenError as exc:
        err.print(f"error [{exc.code}]: {exc.message}", style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        shown = shown_url(config.resolved_database_url)
        raise _refuse(
            f"the database {shown} does not answer ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}); start it, or set KRAKEN_DATABASE_URL"
        ) from None
    finally:
        engine.dispose()


def _report_failure(exc: KrakenError, supervisor: Supervisor) -> None:
    from kraken_market.platform.errors import ProcessFailed

    err.print(f"error [{exc.code}]: {exc.message}", style="red", markup=False, highlight=False)
    if isinstance(exc, ProcessFailed):
        name = exc.details["name"]
        child = next(c for c in supervisor.children if c.name == name)
        for line in child.tail():
            err.print(f"  {name} | {line}", markup=False, highlight=False)


def up(
    ready_timeout: float = typer.Option(60.0, help="Seconds each process may take to be ready"),
    as_json: JsonOption = False,
) -> None:
    """Start the whole platform locally (chain, API, indexer, compute nodes, the demo
    company's Depute tool); print its URLs and accounts; Ctrl-C stops it. With
    KRAKEN_CHAIN_URL set it uses that chain instead of starting one: it first checks
    that the platform's accounts hold gas money there."""
    from kraken_market.platform.database import shown_url
    from kraken_market.platform.errors import StopRequested
    from kraken_market.platform.launch import Launch
    from kraken_market.platform.nodes import HOST
    from kraken_market.platform.report import platform_file, print_platform, write_platform
    from kraken_market.platform.supervisor import Supervisor

    config = settings()
    if config.environment == "production":
        raise _refuse(
            "'kraken-market up' is the development platform (dev accounts, demo issuer); "
            "in production run 'chain', 'api', 'node' and 'depute' serve on their own",
            2,
        )
    for host, port, variable in _ports(config, HOST):
        if not _port_free(host, port):
            raise _refuse(
                f"{host}:{port} is in use (another 'kraken-market up'?); stop it or set {variable}"
            )
    data_dir = config.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # A platform.json left by an 'up' killed with kill -9 would tell scripts (the demo)
    # that a platform is ready: remove it until this one is.
    platform_file(data_dir).unlink(missing_ok=True)
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    supervisor = Supervisor(data_dir / "logs", stop, grace=GRACE_SECONDS)
    launch = Launch(config, supervisor, ready_timeout)

    def say(line: str) -> None:  # progress, on stderr: stdout is the table or the JSON
        err.print(f"  {line}", markup=False, highlight=False)

    supervisor.on_ready = lambda child: say(f"{child.name} ready ({launch.elapsed()})")
    failed = False
    err.print(f"starting Kraken Market in {data_dir} (logs in {supervisor.logs_dir})")
    say(f"database {shown_url(config.resolved_database_url)}")
    _check_database(config)  # before any process starts
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo") as pool:
        try:
            info = launch.run(pool, say)
            write_platform(platform_file(data_dir), info)
            if as_json:
                print_json(info.model_dump(mode="json"))
            else:
                print_platform(out, info)

            def restarted(old: Child, new: Child, status: int) -> None:
                say(f"{old.name} exited with status {status}; restarted (its log: {old.log})")
                info.processes[new.name] = new.process.pid
                write_platform(platform_file(data_dir), info)

            supervisor.watch(on_restart=restarted)
        except StopRequested:
            pass
        except KrakenError as exc:
            _report_failure(exc, supervisor)
            failed = True
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            supervisor.stop()
            platform_file(data_dir).unlink(missing_ok=True)
    err.print("stopped (some process failed: see above)" if failed else "stopped")
    if failed:
        raise typer.Exit(1)
