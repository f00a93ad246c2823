"""Sending contract transactions: local signing, nonces, gas, fees, receipts, reverts.

Every transaction is signed here with the sender's own key (no unlocked
accounts on any node) and sent raw, so the same code drives the embedded
chain and any EVM chain over JSON-RPC. Per transaction:

1. ``eth_estimateGas`` — a transaction that would revert is refused here,
   before it costs anything, with the contract's reason translated into a
   :class:`~kraken_market.ledger.errors.Reverted` subclass;
2. the nonce comes from a local counter (seeded from the ``pending`` count),
   so a client may send several transactions per block; a "nonce too low"
   answer resynchronises and retries once;
3. EIP-1559 fees: a max fee of twice the latest base fee plus the node's
   suggested tip, cached for a few seconds;
4. the receipt is polled at a short interval (web3's default 0.1 s dominates
   latency on a fast chain); no receipt before the timeout is a
   :class:`TransactionTimeout`, a failed one is replayed as a call to read its
   revert reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.exceptions import ValidationError as EvmValidationError
from requests.exceptions import ConnectionError as RequestsConnectionError
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError
from web3.types import TxParams

from kraken_market.ledger.errors import (
    ChainUnavailable,
    LedgerError,
    Reverted,
    TransactionTimeout,
    reverted,
)
from kraken_market.ledger.model import ChainEvent, Receipt
from kraken_market.logs import get_logger

log = get_logger(__name__)
GAS_MARGIN = 1.25
FEE_CACHE_SECONDS = 2.0


REVERT_ERRORS = (ContractLogicError, Web3RPCError, TransactionFailed)
"""What a revert looks like: web3's errors over JSON-RPC, eth-tester's in process."""


def revert_reason(exc: Exception) -> str | None:
    """The contract's reason string in a revert error, or None if it is not a revert."""
    message = str(getattr(exc, "message", None) or exc)
    marker = "execution reverted"
    at = message.find(marker)
    if at < 0:
        return None
    return message[at + len(marker) :].lstrip(": ").strip() or "reverted"


class EventDecoder:
    """Decodes any log of the marketplace's contracts into a :class:`ChainEvent`."""

    def __init__(self, contracts: dict[str, Contract]) -> None:
        self._by_topic: dict[tuple[str, bytes], tuple[str, Contract, str]] = {}
        for contract_name, contract in contracts.items():
            for entry in contract.abi:
                if entry["type"] == "event":
                    topic = event_abi_to_log_topic(entry)
                    key = (contract.address.lower(), topic)
                    self._by_topic[key] = (contract_name, contract, entry["name"])

    def decode(self, log_entry: Any) -> ChainEvent | None:
        topics = log_entry["topics"]
        if not topics:
            return None
        key = (str(log_entry["address"]).lower(), bytes(topics[0]))
        found = self._by_topic.get(key)
        if found is None:
            return None
        contract_name, contract, event_name = found
        args = contract.events[event_name]().process_log(log_entry)["args"]
        return ChainEvent(
            name=event_name,
            contract=contract_name,
            # by key, not args.items(): an argument named "items" (ComputationRequested)
            # shadows the method on web3's AttributeDict
            args={name: _plain(args[name]) for name in args},
            block_number=int(log_entry["blockNumber"]),
            tx_hash="0x" + bytes(log_entry["transactionHash"]).hex(),
            log_index=int(log_entry["logIndex"]),
        )

    def decode_all(self, logs: Iterable[Any]) -> tuple[ChainEvent, ...]:
        events = (self.decode(entry) for entry in logs)
        return tuple(event for event in events if event is not None)


def _plain(value: Any) -> Any:
    """Event arguments as plain Python values (tuples for structs, bytes, ints)."""
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class Sender:
    """Signs and sends transactions for one account; safe to share between threads."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        decoder: EventDecoder,
        *,
        timeout: float = 60.0,
        poll_latency: float = 0.005,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.decoder = decoder
        self.timeout = timeout
        self.poll_latency = poll_latency
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._fees: tuple[float, int, int] | None = None
        self._chain_id: int | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def transact(self, call: ContractFunction | ContractConstructor, action: str) -> Receipt:
        """Send ``call`` as a transaction and wait for it to be mined."""
        tx_hash = self.send(call, action)
        return self.wait(tx_hash, call, action)

    def send(self, call: ContractFunction | ContractConstructor, action: str) -> str:
        """Sign and send ``call``; its hash (refused early if it would revert)."""
        try:
            gas = call.estimate_gas({"from": self.address})
        except REVERT_ERRORS as exc:
            reason = revert_reason(exc)
            if reason is None:
                raise self._refused(exc, action) from exc
            raise reverted(reason, action) from exc
        except EvmValidationError as exc:  # in process: e.g. no ether for gas
            raise self._refused(exc, action) from exc
        except RequestsConnectionError as exc:
            raise ChainUnavailable(f"{action}: the chain node does not answer: {exc}") from exc
        with self._lock:
            for attempt in (1, 2):
                nonce = self._next_nonce()
                params: TxParams = {
                    "from": self.address,
                    "nonce": nonce,
                    "gas": int(gas * GAS_MARGIN) + 10_000,
                    "chainId": self._chain(),
                    **self._fee_fields(),  # type: ignore[typeddict-item]
                }
                tx = call.build_transaction(params)
                signed = self.account.sign_transaction(tx)  # type: ignore[arg-type]
                try:
                    tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                except Web3RPCError as exc:
                    if attempt == 1 and "nonce" in str(exc).lower():
                        self._nonce = None  # another process used this account: resync
                        continue
                    raise self._refused(exc, action) from exc
                except RequestsConnectionError as exc:
                    self._nonce = None  # unknown whether it arrived
                    raise ChainUnavailable(f"{action}: the chain node does not answer") from exc
                except (ValueError, EvmValidationError) as exc:  # in-process (py-evm) refusals
                    self._nonce = None
                    if attempt == 1 and "nonce" in str(exc).lower():
                        continue  # another client of this account sent first: resync
                    raise self._refused(exc, action) from exc
                self._nonce = nonce + 1
                return "0x" + bytes(tx_hash).hex()
        raise AssertionError("unreachable")

    def send_value(self, to: str, wei: int) -> Receipt:
        """Send ``wei`` of the chain's own currency (gas money) to ``to``."""
        with self._lock:
            params: TxParams = {
                "from": self.address,
                "to": to,
                "value": wei,
                "nonce": self._next_nonce(),
                "gas": 21_000,
                "chainId": self._chain(),
                **self._fee_fields(),  # type: ignore[typeddict-item]
            }
            signed = self.account.sign_transaction(params)  # type: ignore[arg-type]
            try:
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except (Web3RPCError, ValueError, EvmValidationError) as exc:
                self._nonce = None
                raise self._refused(exc, "send ether") from exc
            except RequestsConnectionError as exc:
                self._nonce = None
                raise ChainUnavailable("send ether: the chain node does not answer") from exc
            self._nonce = int(params["nonce"]) + 1
        return self.wait("0x" + bytes(tx_hash).hex(), None, "send ether")

    def wait(
        self, tx_hash: str, call: ContractFunction | ContractConstructor | None, action: str
    ) -> Receipt:
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash,  # type: ignore[arg-type]
                timeout=self.timeout,
                poll_latency=self.poll_latency,
            )
        except TimeExhausted as exc:
            raise TransactionTimeout(
                f"{action}: no receipt for {tx_hash} within {self.timeout:g} s; "
                "it may still be mined: check it before sending again",
                details={"tx_hash": tx_hash},
            ) from exc
        if receipt["status"] != 1:
            raise self._failed(receipt, call, action)
        return Receipt(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            events=self.decoder.decode_all(receipt["logs"]),
            contract_address=receipt.get("contractAddress"),
        )

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
        return self._nonce

    def _chain(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    def _fee_fields(self) -> dict[str, int]:
        now = time.monotonic()
        if self._fees is None or now - self._fees[0] > FEE_CACHE_SECONDS:
            base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            tip = int(self.w3.eth.max_priority_fee)
            self._fees = (now, base, tip)
        _, base, tip = self._fees
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    def _refused(self, exc: Exception, action: str) -> LedgerError:
        message = str(exc)
        # geth and most nodes say "insufficient funds"; py-evm "cannot afford txn gas"
        if "insufficient funds" in message.lower() or "cannot afford" in message.lower():
            return reverted("insufficient_gas_funds", action)
        return LedgerError(f"{action}: the node refused the transaction: {message[:300]}")

    def _failed(
        self, receipt: Any, call: ContractFunction | ContractConstructor | None, action: str
    ) -> Reverted:
        """A mined but failed transaction: replay it as a call to learn the reason."""
        reason = "reverted"
        if isinstance(call, ContractFunction):
            try:
                call.call({"from": self.address}, block_identifier=receipt["blockNumber"] - 1)
            except REVERT_ERRORS as exc:
                reason = revert_reason(exc) or reason
        log.info("transaction_reverted", action=action, reason=reason)
        return reverted(reason, action)
