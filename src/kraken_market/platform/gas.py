"""Gas money for the platform's accounts on a chain that ``up`` does not own.

Runs in ``up``'s process. On the embedded chain every platform account is funded
at genesis (``chain serve --fund``). On an external chain (``KRAKEN_CHAIN_URL``:
anvil, a Besu network, Gnosis Chain) nobody here can mint the chain's own
currency, and no well-known key may pay for it: before ``up`` deploys or
registers anything it checks that every account that will sign has enough for a
working start, and refuses otherwise, naming each account, what it holds and
what it needs. The operator funds them from an account of their own and starts
again; the keys stay where they are, so the addresses do not change.

"Enough" is a number of typical transactions at the chain's current fee: a
cushion for the first hours, not a budget. The treasury only receives, and no
process signs with the relayer's key yet, so neither needs anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from web3 import Web3

from kraken_market.platform.errors import AccountsUnfunded

TRANSACTION_GAS = 300_000
"""A generous typical call (publish, grant, attest, rule use 60k-250k)."""
DEPLOY_GAS = 25_000_000
"""Every contract and its roles (measured about 12M on the embedded chain), doubled."""
WORKING_START = 20
"""Transactions each signer should be able to pay for at today's fee."""


@dataclass(frozen=True)
class Signer:
    """An account that will sign transactions, and for what (in words)."""

    name: str
    address: str
    does: str
    transactions: int = WORKING_START
    deploys: bool = False


@dataclass(frozen=True)
class Shortfall:
    signer: Signer
    balance: int
    needed: int


def fee_per_gas(w3: Web3) -> int:
    """What one unit of gas may cost now (EIP-1559: twice the base fee plus the tip, as
    the ledger client offers; the legacy gas price on chains without a base fee)."""
    latest = w3.eth.get_block("latest")
    base = latest.get("baseFeePerGas")
    if base is None:
        return int(w3.eth.gas_price)
    return 2 * int(base) + int(w3.eth.max_priority_fee)


def needed(signer: Signer, per_gas: int) -> int:
    gas = signer.transactions * TRANSACTION_GAS + (DEPLOY_GAS if signer.deploys else 0)
    # A chain with a zero fee (a permissioned network) still needs a non-zero balance
    # on some clients; one wei says "funded".
    return max(1, gas * per_gas)


def shortfalls(w3: Web3, signers: list[Signer]) -> list[Shortfall]:
    per_gas = fee_per_gas(w3)
    short = []
    for signer in signers:
        balance = int(w3.eth.get_balance(w3.to_checksum_address(signer.address)))
        want = needed(signer, per_gas)
        if balance < want:
            short.append(Shortfall(signer, balance, want))
    return short


def ether(wei: int) -> str:
    """Wei in whole units of the chain's currency, without trailing zeros."""
    text = format(Decimal(wei) / Decimal(10**18), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def require_gas(w3: Web3, signers: list[Signer], chain: str, keys_dir: str) -> None:
    """Refuse (AccountsUnfunded) unless every signer can pay for a working start."""
    short = shortfalls(w3, signers)
    if not short:
        return
    lines = "; ".join(
        f"{s.signer.name} {s.signer.address} ({s.signer.does}) holds {ether(s.balance)}, "
        f"needs at least {ether(s.needed)}"
        for s in short
    )
    raise AccountsUnfunded(
        f"on the chain at {chain} these platform accounts need the chain's own currency "
        f"to pay for gas: {lines}. Send it from an account of yours, then run "
        f"'kraken-market up' again: nothing was deployed or registered, and the keys stay "
        f"in {keys_dir} (the nodes' in their own directories)",
        details={
            "accounts": [
                {
                    "name": s.signer.name,
                    "address": s.signer.address,
                    "balance_wei": str(s.balance),
                    "needed_wei": str(s.needed),
                }
                for s in short
            ]
        },
    )
