"""The marketplace's smart contracts (Vyper 0.4) and their compiled artifacts.

Sources live beside this file; ``artifacts/<Name>.json`` holds each
contract's ABI and deployment bytecode, compiled offline by
``python -m kraken_market.ledger.contracts.build`` (``make contracts``) and
committed, so running the marketplace needs no compiler. A test recompiles
every source and fails when an artifact does not match it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SOURCES = Path(__file__).parent
ARTIFACTS = SOURCES / "artifacts"
CONTRACTS = ("DataToken", "Faucet", "Authority", "Registry", "Market")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    compiler: str
    source_sha256: str


@cache
def artifact(name: str) -> Artifact:
    """The committed artifact of contract ``name`` (one of ``CONTRACTS``)."""
    if name not in CONTRACTS:
        raise KeyError(f"no contract named {name!r}; known: {', '.join(CONTRACTS)}")
    data = json.loads((ARTIFACTS / f"{name}.json").read_text(encoding="utf-8"))
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"],
        compiler=data["compiler"],
        source_sha256=data["source_sha256"],
    )
