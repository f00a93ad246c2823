"""Every revert reason of the contracts is mapped to an error, and a test provokes it.

The contracts refuse with short stable strings (``assert ..., "reason"``);
``errors.REASONS`` turns each into a ``Reverted`` subclass with a message.
Here the sources are parsed, so a new ``assert`` without a mapping, or a
mapping left behind by a removed one, fails; and the contract tests
(``test_token`` ... ``test_escrow``) are read for each reason as a string
literal (they assert ``.reason == "..."``, directly or from a table of
cases), so that a reason no test provokes fails too. No chain is needed.
"""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path

import pytest

from kraken_market.ledger.contracts import CONTRACTS, SOURCES
from kraken_market.ledger.errors import (
    REASONS,
    InsufficientFunds,
    InvalidTransaction,
    NotPermitted,
    Reverted,
    reverted,
)

ASSERT = re.compile(r"^\s*assert\b(?P<rest>.*)$", re.MULTILINE)
REASON = re.compile(r',\s*"(?P<reason>[^"]+)"\s*$')
LITERAL = re.compile(r'"(?P<reason>[^"\n]+)"')
CONTRACT_TESTS = (
    "test_token.py",
    "test_authority.py",
    "test_registry.py",
    "test_market.py",
    "test_escrow.py",
    "test_security.py",
)

SNEKMATE_REASONS = {
    # the Market pulls stakes, prices and bonds with transferFrom
    "tokens/erc20.vy": {
        "erc20: insufficient allowance",
        "erc20: transfer amount exceeds balance",
        # the client's own DataToken transfer / approve
        "erc20: transfer to the zero address",
        "erc20: approve to the zero address",
    },
    # Authority.grantRole / revokeRole by an account that is not admin, renounceRole
    # for another account
    "auth/access_control.vy": {
        "access_control: account is missing role",
        "access_control: can only renounce roles for itself",
    },
}
"""snekmate's reasons that a user of the client can meet, by snekmate module."""

CLIENT_REASONS = {"insufficient_gas_funds"}
"""Reasons the client gives itself (the node refused the sender), not a contract."""


def asserts(path: Path) -> list[str]:
    """The text after ``assert`` of every assert statement in a Vyper source."""
    return [match["rest"] for match in ASSERT.finditer(path.read_text(encoding="utf-8"))]


def reasons_in(path: Path) -> set[str]:
    found = set()
    for statement in asserts(path):
        reason = REASON.search(statement)
        if reason:
            found.add(reason["reason"])
    return found


def contract_reasons() -> set[str]:
    return set().union(*(reasons_in(SOURCES / f"{name}.vy") for name in CONTRACTS))


def snekmate_source(module: str) -> Path:
    spec = find_spec("snekmate")  # a namespace package: no __file__
    assert spec is not None
    assert spec.submodule_search_locations is not None
    (package,) = spec.submodule_search_locations
    return Path(package) / module


@pytest.mark.parametrize("name", CONTRACTS)
def test_every_assert_has_a_reason(name: str) -> None:
    missing = [s.strip() for s in asserts(SOURCES / f"{name}.vy") if not REASON.search(s)]
    assert missing == []


def test_the_parser_finds_the_contracts_reasons() -> None:
    found = contract_reasons()
    # a few from each contract: the parser reads them all, not none
    assert {"drip_out_of_range", "too_many_nodes", "mixed_modes", "claim_open"} <= found
    assert len(found) > 60


def test_every_contract_reason_is_mapped() -> None:
    assert sorted(contract_reasons() - REASONS.keys()) == []


@pytest.mark.parametrize("module", sorted(SNEKMATE_REASONS))
def test_snekmate_reasons_exist_and_are_mapped(module: str) -> None:
    expected = SNEKMATE_REASONS[module]
    # a snekmate upgrade that rewords one is caught here
    assert expected <= reasons_in(snekmate_source(module))
    assert sorted(expected - REASONS.keys()) == []


def test_no_mapping_without_a_reason() -> None:
    known = contract_reasons() | set().union(*SNEKMATE_REASONS.values()) | CLIENT_REASONS
    assert sorted(REASONS.keys() - known) == []


def test_every_reason_is_provoked_by_a_contract_test() -> None:
    here = Path(__file__).parent
    provoked = set()
    for name in CONTRACT_TESTS:
        provoked |= {m["reason"] for m in LITERAL.finditer((here / name).read_text("utf-8"))}
    expected = contract_reasons() | set().union(*SNEKMATE_REASONS.values()) | CLIENT_REASONS
    assert sorted(expected - provoked) == []


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_reverted_keeps_the_reason_and_says_what_to_do(reason: str) -> None:
    kind, message = REASONS[reason]
    error = reverted(reason, "publish")
    assert type(error) is kind
    assert issubclass(kind, Reverted)
    assert error.reason == reason
    assert error.details == {"reason": reason}
    assert error.message == f"publish: {message}"


def test_unknown_reason_is_a_plain_revert() -> None:
    error = reverted("something new", "publish")
    assert type(error) is Reverted
    assert error.reason == "something new"
    assert "something new" in error.message


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("erc20: insufficient allowance", InsufficientFunds),
        ("erc20: transfer amount exceeds balance", InsufficientFunds),
        ("access_control: account is missing role", NotPermitted),
        ("erc20: transfer to the zero address", InvalidTransaction),
    ],
)
def test_snekmate_reasons_fit_the_error_tree(reason: str, kind: type[Reverted]) -> None:
    assert isinstance(reverted(reason, "x"), kind)
