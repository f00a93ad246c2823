"""``kraken-market demo``'s bank: who pays the demo's people on each kind of chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from kraken_market.cli.demo import BankNeeded, _bank
from kraken_market.errors import InvalidRequest
from kraken_market.files import write_private


def test_the_embedded_chain_needs_no_bank() -> None:
    assert _bank(None, embedded=True) is None


def test_an_external_chain_asks_for_a_funded_account() -> None:
    with pytest.raises(BankNeeded) as refused:
        _bank(None, embedded=False)
    assert "--bank-key-file FILE" in refused.value.message
    assert "external chain" in refused.value.message


def test_the_bank_is_read_from_a_private_key_file(tmp_path: Path) -> None:
    account = Account.create()
    path = tmp_path / "bank.key"
    write_private(path, bytes(account.key).hex() + "\n")
    bank = _bank(path, embedded=False)
    assert bank is not None and bank.address == account.address


def test_a_key_file_others_may_read_or_without_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.key"
    write_private(path, "not a key\n")
    with pytest.raises(InvalidRequest, match="does not hold a hex private key"):
        _bank(path, embedded=False)
    path.chmod(0o644)
    with pytest.raises(InvalidRequest, match="chmod 600"):
        _bank(path, embedded=False)
