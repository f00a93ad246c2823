"""How ``up`` runs a child: ``python -m kraken_market.platform.child --parent PID GROUP ...``.

A child needs one command group, so this imports only that one (as
``cli.main`` does for a command) without the top-level group around it: the
commands and their options are the CLI's own.

Children run in their own process groups (so that ``up`` alone decides the
order of shutdown), which also means nothing stops them if ``up`` itself is
killed (SIGKILL, a crash). So each child watches for ``up``, its parent, to
go away and then stops itself as ``up`` would have (SIGTERM): no orphan
keeps the platform's ports.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from kraken_market.cli.main import load

GROUPS = ("api", "chain", "depute", "ledger", "node")
"""The command groups ``up`` runs as children (``cli.main`` loads each the same way)."""
USAGE = f"usage: python -m kraken_market.platform.child --parent PID {{{','.join(GROUPS)}}} ..."
WATCH_SECONDS = 1.0


def exit_with_parent(parent: int) -> None:
    """SIGTERM this process once ``parent`` is no longer its parent (it died: the
    process was re-parented). Polled: portable, unlike Linux's PR_SET_PDEATHSIG."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[0] != "--parent" or not argv[1].isdigit() or argv[2] not in GROUPS:
        sys.exit(USAGE)
    exit_with_parent(int(argv[1]))
    group, *args = argv[2:]
    load(group).main(args=args, prog_name=f"kraken-market {group}")


if __name__ == "__main__":
    main(sys.argv[1:])
