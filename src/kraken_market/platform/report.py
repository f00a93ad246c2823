"""What the local platform runs and where: ``<data_dir>/platform.json`` and ``up``'s table.

``platform.json`` is written (atomically) once every process is ready and
removed when ``up`` stops, so a script (the demo) that finds it can rely on
it; ``pid`` tells whether the ``up`` that wrote it still runs after a crash.
Read it with ``PlatformInfo.model_validate_json``. No secret is in it: the
wallets' passphrase is named by its file (mode 0600).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from rich.console import Console
from rich.markup import escape
from rich.table import Table

FORMAT = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainInfo(_Model):
    url: str
    """The chain's JSON-RPC URL; of an external chain, only its scheme, host and port
    (a hosted provider's API key is in the rest): scripts read the full URL from
    KRAKEN_CHAIN_URL."""
    chain_id: int
    embedded: bool = True
    """The embedded chain ``up`` runs, or an external one (KRAKEN_CHAIN_URL)."""
    confirmations: int = 0
    """Blocks the indexer waits before it trusts an event."""
    deployment_file: str
    contracts: dict[str, str]
    deployed_now: bool
    """True on the first start (contracts deployed), False when reused."""
    roles: dict[str, str]
    """The platform's accounts by role (admin, arbiter, verifier, treasury, relayer)."""
    keys_dir: str
    """Where their keys are (mode 0600; never printed)."""


class ApiInfo(_Model):
    url: str
    api: str
    docs: str
    health: str
    marketplace: str = ""
    """The web marketplace (served by the API)."""
    wallet_app: str = ""
    """The wallet app (served by the API)."""


class NodeInfo(_Model):
    index: int
    url: str
    account: str
    hpke_public_key: str
    data_dir: str


class DeputeInfo(_Model):
    url: str
    company: str
    legal_name: str
    country: str
    directory: str
    account: str
    """The company's own ledger account: its products' owner on chain."""


class WalletInfo(_Model):
    role: str
    path: str
    did: str
    account: str


class DevAccount(_Model):
    index: int
    address: str
    role: str


class PlatformInfo(_Model):
    format: int = FORMAT
    data_dir: str
    database: str
    """The database URL, its password shown as ***."""
    pid: int
    started_at: datetime
    ready_in_seconds: float
    first_start: bool
    chain: ChainInfo
    api: ApiInfo
    nodes: list[NodeInfo]
    depute: DeputeInfo
    wallets: list[WalletInfo]
    wallet_passphrase_file: str
    dev_accounts: list[DevAccount]
    logs: dict[str, str]
    processes: dict[str, int]
    """Each child's pid, by name (the names of ``logs``)."""


def platform_file(data_dir: Path) -> Path:
    return data_dir / "platform.json"


def write_platform(path: Path, info: PlatformInfo) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(info.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def _chain_notes(info: PlatformInfo) -> str:
    chain = info.chain
    if chain.embedded:
        return f"JSON-RPC, embedded durable chain {chain.chain_id}"
    return (
        f"JSON-RPC, external chain {chain.chain_id} (KRAKEN_CHAIN_URL); events trusted "
        f"after {chain.confirmations} confirmations"
    )


def _rows(info: PlatformInfo) -> list[tuple[str, str, str]]:
    chain, api, depute = info.chain, info.api, info.depute
    rows = [
        ("marketplace", api.marketplace, "the web marketplace: open it in a browser"),
        ("wallet app", api.wallet_app, "your DID, account and credentials, in the browser"),
        ("chain", chain.url, _chain_notes(info)),
        ("API", api.api, f"health {api.health}"),
        ("API docs", api.docs, "OpenAPI; KCIT and the revocation registry are in it"),
    ]
    rows += [(f"node {n.index}", n.url, f"account {n.account}") for n in info.nodes]
    rows.append(("Depute tool", depute.url, f"{depute.legal_name} ({depute.company})"))
    rows.append(("company account", depute.account, f"owns {depute.legal_name}'s products"))
    rows += [(f"{w.role} wallet", w.path, f"{w.did}, account {w.account}") for w in info.wallets]
    rows.append(("wallet passphrase", info.wallet_passphrase_file, "both wallets, mode 0600"))
    rows += [
        (f"dev account {a.index}", a.address, f"{a.role}: --dev-account {a.index}")
        for a in info.dev_accounts
    ]
    roles = ", ".join(f"{role} {address}" for role, address in info.chain.roles.items())
    rows.append(("platform keys", info.chain.keys_dir, f"mode 0600: {roles}"))
    where = "SQLite" if info.database.startswith("sqlite") else "set by KRAKEN_DATABASE_URL"
    rows.append(("database", info.database, f"{where}; belongs to this data directory's chain"))
    rows.append(("logs", str(Path(info.data_dir) / "logs"), "one file per process"))
    return rows


def print_platform(console: Console, info: PlatformInfo) -> None:
    """One table of URLs and accounts, then how to start; Ctrl-C stops."""
    view = Table(title=f"Kraken Market ({escape(info.data_dir)})", show_lines=False)
    for column in ("what", "where", "notes"):
        view.add_column(column, overflow="fold")
    for row in _rows(info):
        view.add_row(*(escape(cell) for cell in row))
    # Piped output keeps whole URLs on one line (Rich would fold them at 80 columns).
    wide = console if console.is_terminal else Console(file=console.file, width=240, emoji=False)
    wide.print(view)
    admin = next(w for w in info.wallets if w.role == "admin")
    console.print(
        "Act as the admin (sessions belong to wallets: every command run with this "
        f"KRAKEN_WALLET acts as the admin): export KRAKEN_WALLET={admin.path} "
        f'KRAKEN_WALLET_PASSPHRASE="$(cat {info.wallet_passphrase_file})"; kraken-market login\n'
        "Or get started yourself: kraken-market wallet create; kraken-market issuer issue "
        "person --name NAME --wallet PATH; kraken-market login."
        + (
            " DATA for a dev account: kraken-market ledger faucet 1000 --dev-account 7"
            if info.chain.embedded
            else ""
        ),
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    state = "first start" if info.first_start else "restart: state resumed"
    console.print(
        f"[bold green]ready in {info.ready_in_seconds:.1f} s[/bold green] ({state}); "
        f"open the marketplace at {escape(info.api.marketplace or info.api.url)} ; "
        "press Ctrl-C to stop",
        highlight=False,
    )
