"""Transactions a person's wallet signs, prepared and broadcast by the API (runs in the API).

The wallet holds the key; the API holds the chain connection. It fills what the wallet
cannot know without a node (chain id, the account's next nonce, a gas limit from
``eth_estimateGas`` and EIP-1559 fees from the latest block), and sends the signed raw
transaction with ``eth_sendRawTransaction``: the browser never needs to reach the
chain's JSON-RPC server (it may run on another host, and answers no cross-origin
request). A call that would revert is refused when it is prepared, before anyone signs
or pays a fee for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from eth_tester.exceptions import TransactionFailed
from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError as EvmValidationError
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import RequestException
from web3.exceptions import TransactionNotFound, Web3RPCError

from kraken_market.errors import Conflict
from kraken_market.ledger.amounts import Token
from kraken_market.ledger.client import Ledger
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import ChainUnavailable, LedgerError, reverted
from kraken_market.ledger.reverts import revert_reason
from kraken_market.ledger.transactions import GAS_MARGIN, REVERT_ERRORS


class TransactionRejected(LedgerError, Conflict):
    """The chain node did not take a signed transaction (its nonce was used meanwhile,
    the account cannot pay the gas, …): nothing was sent."""

    code = "transaction_rejected"
    status = 409


@dataclass(frozen=True)
class Prepared:
    """What a wallet needs besides the call to sign an EIP-1559 transaction."""

    chain_id: int
    nonce: int
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


class WalletChain(Protocol):
    """What the API's wallet requests need of the chain (a ``Broadcaster``, or the lazily
    connected ``ConfiguredLedger``)."""

    def deployment(self) -> Deployment: ...

    def token(self) -> Token: ...

    def prepare(self, sender: str, to: str, data: str) -> Prepared: ...

    def broadcast(self, raw: str) -> str: ...

    def receipt_status(self, tx_hash: str) -> bool | None: ...


class Broadcaster:
    """``WalletChain`` over a ledger client's connection and deployment (it signs nothing)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.w3 = ledger.w3

    def deployment(self) -> Deployment:
        return self.ledger.deployment

    def token(self) -> Token:
        return self.ledger.token()

    def prepare(self, sender: str, to: str, data: str) -> Prepared:
        """Fields for ``sender`` to call ``to`` with ``data``; refused as the contract
        would refuse it (``Reverted`` subclasses) when it would revert now."""
        action = "prepare the transaction"
        params = {"from": to_checksum_address(sender), "to": to_checksum_address(to), "data": data}
        try:
            gas = self.w3.eth.estimate_gas(params)  # type: ignore[arg-type]
            nonce = self.w3.eth.get_transaction_count(params["from"], "pending")  # type: ignore[arg-type]
            base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            tip = int(self.w3.eth.max_priority_fee)
            chain_id = int(self.w3.eth.chain_id)
        except (*REVERT_ERRORS, EvmValidationError) as exc:
            reason = revert_reason(exc)
            lowered = str(exc).lower()
            # geth and most nodes say "insufficient funds"; py-evm "cannot afford txn gas"
            if reason is None and ("insufficient funds" in lowered or "cannot afford" in lowered):
                reason = "insufficient_gas_funds"
            if reason is None:
                raise TransactionRejected(
                    f"{action}: the chain refuses this call: {str(exc)[:200]}"
                ) from exc
            raise reverted(reason, action) from exc
        except RequestsConnectionError as exc:
            raise ChainUnavailable(f"{action}: the chain node does not answer") from exc
        return Prepared(chain_id, nonce, int(gas * GAS_MARGIN) + 10_000, 2 * base + tip, tip)

    def broadcast(self, raw: str) -> str:
        """Send a signed raw transaction; its hash. ``TransactionRejected``: the node said
        no, nothing was sent; ``ChainUnavailable``: no answer, it may have been sent."""
        try:
            sent = self.w3.eth.send_raw_transaction(HexStr(raw))
        except (Web3RPCError, ValueError, EvmValidationError, TransactionFailed) as exc:
            message = str(exc)
            raise TransactionRejected(
                f"the chain node did not take the transaction: {message[:200]}"
            ) from exc
        except RequestException as exc:  # dropped, timed out: maybe after the node took it
            raise ChainUnavailable(
                f"send the transaction: the chain node did not answer ({type(exc).__name__}); "
                "it may have been sent"
            ) from exc
        return "0x" + bytes(sent).hex()

    def receipt_status(self, tx_hash: str) -> bool | None:
        """True once mined and succeeded, False once mined and reverted, None before."""
        try:
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None
        except RequestsConnectionError as exc:
            raise ChainUnavailable("read the receipt: the chain node does not answer") from exc
        return bool(receipt["status"] == 1)
