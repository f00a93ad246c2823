"""Compile the contracts into the committed artifacts (development only).

    python -m kraken_market.ledger.contracts.build           # write artifacts/
    python -m kraken_market.ledger.contracts.build --check   # exit 1 if stale

Needs the ``vyper`` and ``snekmate`` packages of the ``dev`` extra (pinned in
``constraints.txt``: the bytecode depends on the exact compiler version).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from typing import Any

from kraken_market.ledger.contracts import ARTIFACTS, CONTRACTS, SOURCES


def compile_contract(name: str) -> dict[str, Any]:
    """ABI and deployment bytecode of ``name`` as the pinned Vyper compiles it."""
    import vyper
    from vyper.cli.vyper_compile import compile_files

    path = SOURCES / f"{name}.vy"
    # Imports (snekmate's modules) resolve through sys.path, as the vyper CLI does.
    output = compile_files([str(path)], ("abi", "bytecode"), paths=[str(SOURCES)])
    (compiled,) = output.values()
    return {
        "contract": name,
        "compiler": f"vyper {vyper.__version__}",
        "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "abi": compiled["abi"],
        "bytecode": compiled["bytecode"],
    }


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def stale() -> list[str]:
    """Names of contracts whose committed artifact differs from a fresh compile."""
    names = []
    for name in CONTRACTS:
        path = ARTIFACTS / f"{name}.json"
        if not path.exists() or path.read_text(encoding="utf-8") != render(compile_contract(name)):
            names.append(name)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check, exit 1 if stale")
    args = parser.parse_args()
    if args.check:
        names = stale()
        for name in names:
            print(f"artifact of {name} does not match its source: run 'make contracts'")
        return 1 if names else 0
    ARTIFACTS.mkdir(exist_ok=True)
    for name in CONTRACTS:
        artifact = compile_contract(name)
        (ARTIFACTS / f"{name}.json").write_text(render(artifact), encoding="utf-8")
        size = (len(artifact["bytecode"]) - 2) // 2
        print(f"{name}: {size} bytes of deployment code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
