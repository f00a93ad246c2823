"""The committed contract artifacts are what the pinned compiler makes of the sources."""

from __future__ import annotations

from kraken_market.ledger.contracts import CONTRACTS, artifact
from kraken_market.ledger.contracts.build import stale

EIP170_LIMIT = 24_576
"""Largest runtime code a chain accepts (EIP-170); the deployment code bounds it."""


def test_artifacts_match_their_sources() -> None:
    assert stale() == [], "run 'make contracts' and commit the artifacts"


def test_every_contract_fits_on_any_evm_chain() -> None:
    for name in CONTRACTS:
        built = artifact(name)
        assert built.compiler == "vyper 0.4.3"
        assert (len(built.bytecode) - 2) // 2 < EIP170_LIMIT, name
