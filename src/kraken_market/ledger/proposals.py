"""A contract call checked as one account would make it, without signing it.

Before the operator's commands ask for confirmation, the change is run as a call
(``eth_call``) from the account that would send it, so a refusal (not an admin,
already paused, a bad argument) is told in the contract's words before anything
is asked or sent. When that account is a multisig (a Safe, say), nobody here can
sign for it: the checked call is handed over as a :class:`Proposal` (target,
value, call data) for its owners to propose and sign in the multisig's own app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from requests.exceptions import ConnectionError as RequestsConnectionError
from web3.types import TxParams

from kraken_market.ledger.client import Ledger
from kraken_market.ledger.errors import ChainUnavailable, reverted
from kraken_market.ledger.reverts import revert_reason
from kraken_market.ledger.transactions import REVERT_ERRORS


@dataclass(frozen=True)
class Change:
    """A state change of one of the deployment's contracts, and what it does in words
    (``grant the arbiter role to 0x…``): shown before it is confirmed, and the
    ``action`` an error names."""

    action: str
    contract: str
    function: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """A transaction for someone else to sign: ``to``, ``value`` (wei) and ``data``."""

    sender: str
    to: str
    data: str
    value: int = 0
    signature: str = ""
    """The function called, as ``name(types)``: what multisig apps ask for with an ABI."""

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.sender,
            "to": self.to,
            "value": str(self.value),
            "data": self.data,
            "function": self.signature,
        }


def check(ledger: Ledger, change: Change, sender: str) -> Proposal:
    """``change`` run as a call from ``sender`` (nothing is sent): the contract's
    refusal as a :class:`~kraken_market.ledger.errors.Reverted` subclass, else the
    transaction that would make it."""
    contract = ledger.contracts[change.contract]
    function = contract.functions[change.function](*change.args)
    data = contract.encode_abi(change.function, args=list(change.args))
    params: TxParams = {"from": to_checksum_address(sender), "to": contract.address, "data": data}
    try:
        ledger.w3.eth.call(params)
    except REVERT_ERRORS as exc:
        reason = revert_reason(exc)
        if reason is None:
            raise
        raise reverted(reason, change.action) from exc
    except RequestsConnectionError as exc:
        raise ChainUnavailable(f"{change.action}: the chain node does not answer") from exc
    types = ",".join(str(item["type"]) for item in function.abi["inputs"])
    return Proposal(
        sender=to_checksum_address(sender),
        to=contract.address,
        data=str(data),
        signature=f"{change.function}({types})",
    )
