"""Domain value types shared by every part of the marketplace (web3.py style ``NewType``s)."""

from __future__ import annotations

from typing import NewType

ProductId = NewType("ProductId", str)
"""A product's id: 32 bytes as ``0x`` + 64 lowercase hex digits, the ``bytes32`` the ledger uses."""

UnionId = NewType("UnionId", str)
"""A Data Union's id: keccak-256 of its sorted member ids, same form as :data:`ProductId`."""

AccountRef = NewType("AccountRef", str)
"""Whom an owner check or history entry refers to: a person's or a company's DID."""

UINT256_MAX = 2**256 - 1
"""Largest amount the ledger can hold: every price and stake fits a ``uint256``."""
