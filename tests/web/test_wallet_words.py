"""The web wallet and the CLI wallet put a transaction in the same words: the tables of
``kraken_market/ledger/calls.py`` and those of ``@kraken/core/contracts`` (whose
``describeCall`` the wallet app's ``pages/signing.ts`` uses) are the same, entry by
entry."""

from __future__ import annotations

import re
from pathlib import Path

from kraken_market.ledger.calls import ACTIONS, AMOUNT_INPUTS, CONTRACT_WORDS

WEB = Path(__file__).parents[2] / "web"
CONTRACTS = WEB / "packages" / "core" / "src" / "contracts.ts"


def _table(source: str, name: str) -> str:
    start = source.index(f"const {name}")
    return source[start : source.index("};", start)]


def test_the_same_actions_and_contract_words() -> None:
    source = CONTRACTS.read_text()
    actions = re.findall(r'"(\w+)\.(\w+)":\s*"([^"]+)"', _table(source, "ACTIONS"))
    assert {(c, f): text for c, f, text in actions} == ACTIONS
    words = re.findall(r'(\w+): "([^"]+)"', _table(source, "CONTRACT_WORDS"))
    assert dict(words) == CONTRACT_WORDS


def test_the_same_amount_arguments() -> None:
    source = CONTRACTS.read_text()
    start = source.index("const AMOUNT_INPUTS")
    listed = source[start : source.index("]);", start)]
    assert set(re.findall(r'"(\w+)"', listed)) == AMOUNT_INPUTS
