"""Sending contract transactions: local signing, nonces, gas, fees, receipts, reverts.

Every transaction is signed here with the sender's own key (no unlocked
accounts on any node) and sent raw, so the same code drives the embedded
chain and any EVM chain over JSON-RPC. Per transaction:

1. ``eth_estimateGas`` — a transaction that would revert is refused here,
   before it costs anything, with the contract's reason translated into a
   :class:`~kraken_market.ledger.errors.Reverted` subclass;
2. the nonce comes from a local counter (seeded from the ``pending`` count),
   so a client may send several transactions per block; a "nonce too low"
   answer resynchronises and retries once, and so does every refusal, timeout
   or dropped transaction: the counter is read again from the node's
   ``pending`` count before the next send, so it never stays ahead of the chain;
3. EIP-1559 fees: a max fee of twice the latest base fee plus the node's
   suggested tip, cached for a few blocks (2 x base fee covers six full blocks
   of base-fee rises, EIP-1559's 12.5 % a block);
4. the receipt is polled right away (the embedded chain and automining nodes
   have mined it already), then with a back-off that follows the chain's block
   time (measured once from the latest blocks' timestamps): a few requests per
   block, never a tight loop against a provider. A transaction the node no
   longer knows (dropped from its pool) is sent again as the very same signed
   bytes (same hash, same nonce: it cannot be mined twice); if another
   transaction took its nonce it is reported as replaced. No receipt before the
   timeout is a :class:`TransactionTimeout`; a failed one is replayed as a call
   to read its revert reason (:mod:`kraken_market.ledger.reverts`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from itertools import pairwise
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.exceptions import ValidationError as EvmValidationError
from requests.exceptions import ConnectionError as RequestsConnectionError
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import (
    ContractLogicError,
    TransactionIndexingInProgress,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import TxParams

from kraken_market.ledger.errors import (
    ChainUnavailable,
    LedgerError,
    Reverted,
    TransactionReplaced,
    TransactionTimeout,
    reverted,
)
from kraken_market.ledger.model import ChainEvent, Receipt
from kraken_market.ledger.reverts import revert_reason
from kraken_market.logs import get_logger

log = get_logger(__name__)
GAS_MARGIN = 1.25
FEE_CACHE_SECONDS = 2.0
"""The shortest time fees are reused; on a chain with slower blocks, three blocks."""
LONGEST_BLOCK_TIME = 12.0
"""The block time assumed at most (Ethereum's slot): a chain that mines only when
sent a transaction shows long idle gaps between blocks, which are not its pace."""
BLOCKS_SAMPLED = 3
"""Blocks whose timestamps give the block time."""
SLOW_BLOCKS = 0.5
"""Block times from which a receipt is not looked for at once, and polls are timed."""
BLOCK_MARGIN = 0.05
"""Seconds after a block is due before its receipt is asked for (the node's own delay)."""
UNMEASURED_BLOCK_TIME = 1.0
"""The block time assumed while the chain has too few blocks to measure it."""


REVERT_ERRORS = (ContractLogicError, Web3RPCError, TransactionFailed)
"""What a revert looks like: web3's errors over JSON-RPC, eth-tester's in process."""


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
    """Signs and sends transactions for one account; safe to share between threads.

    ``poll_latency`` is the first pause between receipt polls on a chain that
    mines at once (the embedded chain, automining nodes); on a chain with block
    times the pauses follow those (:meth:`poll_delays`).
    """

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
        self._block_time: float | None = None
        self._block_seen: float | None = None
        """When (monotonic) a block was last seen mined, to poll just after the next."""
        self._sent: dict[str, tuple[int, bytes]] = {}
        """Nonce and signed bytes of each transaction sent and not yet waited for."""

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
            raise ChainUnavailable(f"{action}: the chain node does not answer") from exc
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
                    self._nonce = None  # refused: the node's count is the truth again
                    if attempt == 1 and "nonce" in str(exc).lower():
                        continue  # another process used this account: resync
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
                sent = "0x" + bytes(tx_hash).hex()
                self._sent[sent] = (nonce, bytes(signed.raw_transaction))
                return sent
        raise AssertionError("unreachable")

    def send_value(self, to: str, wei: int) -> Receipt:
        """Send ``wei`` of the chain's own currency (gas money) to ``to``."""
        with self._lock:
            nonce = self._next_nonce()
            params: TxParams = {
                "from": self.address,
                "to": to,
                "value": wei,
                "nonce": nonce,
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
            self._nonce = nonce + 1
            sent = "0x" + bytes(tx_hash).hex()
            self._sent[sent] = (nonce, bytes(signed.raw_transaction))
        return self.wait(sent, None, "send ether")

    def wait(
        self, tx_hash: str, call: ContractFunction | ContractConstructor | None, action: str
    ) -> Receipt:
        """The receipt of ``tx_hash``, polled at the chain's pace; a dropped
        transaction is sent again as the same bytes, one replaced is reported."""
        with self._lock:
            nonce, raw = self._sent.pop(tx_hash, (None, None))
        try:
            receipt = self._poll_receipt(tx_hash, nonce, raw, action)
        except LedgerError:  # timed out, replaced, refused again, or no answer
            with self._lock:
                self._nonce = None  # the next send counts from the node's pending count
            raise
        if receipt["status"] != 1:
            raise self._failed(receipt, call, action)
        return Receipt(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            events=self.decoder.decode_all(receipt["logs"]),
            contract_address=receipt.get("contractAddress"),
        )

    def _poll_receipt(self, tx_hash: str, nonce: int | None, raw: bytes | None, action: str) -> Any:
        started = time.monotonic()
        deadline = started + self.timeout
        block = self._block_time
        if block is None or block < SLOW_BLOCKS:
            # the embedded chain and automining nodes have mined it already
            receipt = self._receipt(tx_hash)
            if receipt is not None:
                return receipt
            block = self.block_time()
        pauses = self.poll_delays()
        polled = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise TransactionTimeout(
                    f"{action}: no receipt for {tx_hash} within {self.timeout:g} s; "
                    "it may still be mined: check it before sending again",
                    details={"tx_hash": tx_hash, "nonce": nonce},
                )
            # A transaction still unmined after two blocks may have left the node's pool
            # (evicted, node restarted): look for it, at most once every two blocks.
            if raw is not None and now - started > 2 * max(block, SLOW_BLOCKS):
                self._recover(tx_hash, nonce, raw, action)
                started = time.monotonic()
            time.sleep(min(next(pauses), max(deadline - time.monotonic(), 0.0)))
            receipt = self._receipt(tx_hash)
            if receipt is not None:
                found = time.monotonic()
                self._block_seen = (polled + found) / 2  # mined between the last two polls
                return receipt
            polled = time.monotonic()

    def _receipt(self, tx_hash: str) -> Any:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except (TransactionNotFound, TransactionIndexingInProgress):
            return None
        except RequestsConnectionError as exc:
            raise ChainUnavailable(
                f"the chain node does not answer while waiting for {tx_hash}: check it before "
                "sending again"
            ) from exc

    def _recover(self, tx_hash: str, nonce: int | None, raw: bytes, action: str) -> None:
        """The node no longer knows ``tx_hash``: send its signed bytes again (the same
        transaction, never a second one), or report that its nonce was taken."""
        try:
            self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            return  # still pending: keep waiting
        except TransactionNotFound:
            pass
        if self._receipt(tx_hash) is not None:
            return  # mined in between
        log.warning("transaction_dropped", action=action, tx_hash=tx_hash, nonce=nonce)
        try:
            self.w3.eth.send_raw_transaction(raw)
        except Web3RPCError as exc:
            if self._receipt(tx_hash) is not None:
                return
            mined = self.w3.eth.get_transaction_count(self.account.address, "latest")
            if nonce is not None and mined > nonce:
                raise TransactionReplaced(
                    f"{action}: transaction {tx_hash} was dropped and another transaction of "
                    f"{self.address} took its nonce {nonce}: it will never be mined; check "
                    "what was done and send it again if it still needs doing",
                    details={"tx_hash": tx_hash, "nonce": nonce},
                ) from exc
            raise self._refused(exc, action) from exc

    def poll_delays(self) -> Iterator[float]:
        """Pauses between receipt polls. On a chain with block times: first until just
        after the next block is due (from when the last one was seen), else an eighth of
        a block; then doubling up to a quarter of a block. On a chain that mines at once:
        doubling from ``poll_latency`` up to a quarter of a second."""
        block = self.block_time()
        delay = max(self.poll_latency, block / 8)
        longest = max(block / 4, 0.25)
        if block >= SLOW_BLOCKS and self._block_seen is not None:
            now = time.monotonic()
            due = self._block_seen + block * (1 + int((now - self._block_seen) // block))
            yield max(due - now, 0.0) + BLOCK_MARGIN + block / 20
            delay = longest
        while True:
            yield delay
            delay = min(delay * 2, longest)

    def block_time(self) -> float:
        """Seconds between blocks (0 on a chain that mines at once), read once: the
        shortest gap between the latest few blocks' timestamps, since a chain that
        mines only when sent a transaction shows idle gaps that are not its pace."""
        if self._block_time is None:
            latest = self.w3.eth.get_block("latest")
            number = int(latest["number"])
            if number < BLOCKS_SAMPLED - 1:
                return UNMEASURED_BLOCK_TIME  # too few blocks yet: measured next time
            stamps = [int(latest["timestamp"])] + [
                int(self.w3.eth.get_block(n)["timestamp"])
                for n in range(number - 1, max(-1, number - BLOCKS_SAMPLED), -1)
            ]
            gaps = [later - earlier for earlier, later in pairwise(stamps[::-1])]
            self._block_time = float(min(min(gaps), LONGEST_BLOCK_TIME))
        return self._block_time

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
        keep = max(FEE_CACHE_SECONDS, 3 * (self._block_time or 0.0))
        if self._fees is None or now - self._fees[0] > keep:
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
