"""A gas estimator for the embedded chain that usually needs two runs, not thirteen.

py-evm's default estimator binary-searches the gas limit between the
intrinsic gas and the block gas limit (30M) to a 21,000 tolerance: about
thirteen executions of the transaction, which made ``eth_estimateGas`` cost
more than ten times the transaction itself on this chain. Like geth, this one
first runs the transaction with the block's gas limit, then tries the gas it
used, grossed up for the 63/64 rule of nested calls (EIP-150) and the 2,300
stipend; only if that optimistic limit fails does it fall back to a binary
search from there. The answer is always a limit at which the transaction was
seen to succeed (or the block limit), as py-evm's is.
"""

from __future__ import annotations

from typing import cast

from eth.abc import SignedTransactionAPI, StateAPI
from eth.exceptions import VMError
from eth.vm.spoof import SpoofTransaction

TOLERANCE = 1000
NESTING_ALLOWANCE = 4
"""Call depth the optimistic guess covers (each level keeps back 1/64 of the gas)."""


def _run(
    state: StateAPI, transaction: SignedTransactionAPI, gas: int
) -> tuple[VMError | None, int]:
    trial = cast("SignedTransactionAPI", SpoofTransaction(transaction, gas=gas, gas_price=0))
    snapshot = state.snapshot()
    try:
        computation = state.apply_transaction(trial)
        # The message's gas excludes the intrinsic gas the transaction also pays.
        used = transaction.intrinsic_gas + computation.get_gas_used()
        return (computation.error if computation.is_error else None), used
    finally:
        state.revert(snapshot)


def optimistic_gas_search(state: StateAPI, transaction: SignedTransactionAPI) -> int:
    """The gas limit ``transaction`` needs; raises its error if it fails at the block limit."""
    if not hasattr(transaction, "sender"):
        raise TypeError("estimating gas needs the sender (a SpoofTransaction with 'from')")
    ceiling = state.gas_limit
    error, used = _run(state, transaction, ceiling)
    if error is not None:
        raise error
    if used <= transaction.intrinsic_gas:  # a plain transfer: no code ran
        return transaction.intrinsic_gas
    guess = used + 2300
    for _ in range(NESTING_ALLOWANCE):
        guess = guess * 64 // 63 + 1
    guess = max(min(guess, ceiling), transaction.intrinsic_gas)
    if _run(state, transaction, guess)[0] is None:
        return guess
    failing, succeeding = guess, ceiling
    while succeeding - failing > TOLERANCE:
        middle = (failing + succeeding) // 2
        if _run(state, transaction, middle)[0] is None:
            succeeding = middle
        else:
            failing = middle
    return succeeding
