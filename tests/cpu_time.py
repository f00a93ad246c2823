"""Where the suite's CPU goes, per test module (opt-in: ``KRAKEN_TEST_CPU=DIR``).

``make test`` must stay within its CI budget on two cores, where the CPU time a module
takes, not its wall time on a loaded machine, decides what the suite costs. Each
worker appends, per test, the CPU seconds of its own process and of the child
processes it reaped (platforms, MPC parties, CLI calls) to ``DIR/<worker>.tsv``; a
module's fixtures are torn down in its last test, so its platforms count there.
``python -m tests.cpu_time DIR`` sums them per module."""

from __future__ import annotations

import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    folder = os.environ.get("KRAKEN_TEST_CPU")
    if not folder:
        yield
        return
    cpu, wall = _cpu(), time.monotonic()
    yield
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(Path(folder) / f"{worker}.tsv", "a") as out:
        out.write(f"{item.nodeid}\t{_cpu() - cpu:.2f}\t{time.monotonic() - wall:.2f}\n")


def main(folder: str) -> None:
    cpu: dict[str, float] = defaultdict(float)
    wall: dict[str, float] = defaultdict(float)
    for path in Path(folder).glob("*.tsv"):
        for line in path.read_text().splitlines():
            nodeid, used, took = line.split("\t")
            module = nodeid.split("::", 1)[0]
            cpu[module] += float(used)
            wall[module] += float(took)
    total = sum(cpu.values())
    print(f"{total / 60:.1f} min CPU in all, {sum(wall.values()) / 60:.1f} min of test time")
    for module, seconds in sorted(cpu.items(), key=lambda kv: -kv[1])[:40]:
        print(f"{seconds:8.1f} s CPU {wall[module]:8.1f} s wall  {module}")


if __name__ == "__main__":
    main(sys.argv[1])
