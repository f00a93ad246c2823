"""The embedded durable chain: py-evm through eth-tester, state in SQLite.

``DurableBackend`` is eth-tester's ``PyEVMBackend`` with three changes (the
backend takes no database or chain argument, hence the subclass):

- genesis: the first start builds eth-tester's default genesis (funded dev
  accounts) in memory and copies it into the SQLite store; later starts
  reopen the chain from the store at its last committed block;
- mining: every mined block is committed to disk before ``mine_blocks``
  returns, so a transaction whose hash was acknowledged after its block was
  mined survives a kill -9 of the process; a block that fails to mine is
  rolled back, the chain reopens at the last committed block;
- block building: a send executes the transaction into a :class:`PendingBlock`
  at once (a refused one leaves it unchanged) and ``mine_blocks`` seals it, so
  a block of many transactions (group commit, see ``rpc_server``) costs about
  what its transactions cost, not their square; the pending block's state
  answers "pending" queries (nonces, balances, calls); each block is stamped
  with the time it is built.

Use it with eth-tester auto-mining (one block per transaction, what tests and
in-process callers do) or with ``rpc_server.ChainNode``'s group commit; not
with eth-tester's own non-auto-mining mode, which re-sends its pending
transactions at mining time. Transaction look-ups use py-evm's hash index
instead of eth-tester's scan of every block from the head down.

The dev account keys are eth-tester's well-known deterministic test keys:
for development chains only, never for a chain holding value.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth.abc import (
    BlockAndMetaWitness,
    BlockAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
)
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth.exceptions import InvalidInstruction as EVMInvalidInstruction
from eth.exceptions import Revert as EVMRevert
from eth.exceptions import TransactionNotFound as UnknownTransactionHash
from eth.vm.spoof import SpoofTransaction
from eth_tester import PyEVMBackend
from eth_tester.backends.pyevm.main import setup_tester_chain
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_tester.constants import BLOB_TX_TYPE
from eth_tester.exceptions import TransactionFailed, TransactionNotFound
from eth_utils.address import to_canonical_address
from eth_utils.decorators import replace_exceptions

from kraken_market.ledger.chain.estimator import optimistic_gas_search
from kraken_market.ledger.chain.store import SqliteKeyValue
from kraken_market.logs import get_logger

log = get_logger(__name__)
DEV_ACCOUNTS = 10
ZERO_ADDRESS = bytes(20)
GENESIS_FUNDS = 10**24
"""Gas money (1,000,000 ETH) for each account ``funded`` at genesis, as eth-tester gives its
dev accounts."""


class PendingBlockFull(Exception):
    """The block being built has no gas left for this transaction: seal it, then retry."""


class PendingBlock:
    """The next block, transactions executed but not sealed.

    py-evm's ``MiningChain.apply_transaction`` rebuilds the whole pending block
    for every transaction (reads back its transactions and receipts, rebuilds
    both tries, persists the state): O(n) per transaction, O(n^2) per block.
    Here each transaction runs once on one VM, as ``VM.apply_all_transactions``
    does when a block is imported, and the tries and the state root are made
    once, when the block is sealed or when a query asks for the pending block.
    Post-Byzantium receipts carry a status, not an intermediate state root, so
    the block is the same either way.
    """

    def __init__(self, chain: MiningChain) -> None:
        self._chain = chain
        self.base = chain.header  # the header this block was started on
        self.header = chain.header  # running: gas used, bloom, blob gas
        self._vm = chain.get_vm(self.header)
        self.transactions: list[SignedTransactionAPI] = []
        self.receipts: list[ReceiptAPI] = []
        self._view: BlockAPI | None = None
        self.sound = True

    def add(self, transaction: SignedTransactionAPI) -> tuple[ReceiptAPI, ComputationAPI]:
        """Execute ``transaction`` into the block; if it is refused, the block is unchanged."""
        if self.transactions and self.header.gas_used + transaction.gas > self.header.gas_limit:
            raise PendingBlockFull(f"{self.header.gas_used} of {self.header.gas_limit} gas used")
        # Refusals (signature, nonce, balance, fees, block gas) come from these
        # read-only checks, which apply_transaction repeats: state untouched.
        self._vm.validate_transaction_against_header(self.header, transaction)
        self._vm.state.get_transaction_executor().validate_transaction(transaction)
        try:
            receipt, computation = self._vm.apply_transaction(self.header, transaction)
        except BaseException:
            # Failed half-way (py-evm cannot revert across its apply_transaction):
            # the chain rebuilds this block from the transactions it already holds.
            self.sound = False
            raise
        header = self._vm.add_receipt_to_header(self.header, receipt)
        self.header = self._vm.increment_blob_gas_used(header, transaction)
        self.transactions.append(transaction)
        self.receipts.append(receipt)
        self._view = None
        return receipt, computation

    def block(self) -> BlockAPI:
        """The block as queries see it ("pending"): state root and tries made now.

        The VM then restarts on the persisted header, exactly as
        ``MiningChain.apply_transaction`` continues after each transaction.
        """
        if self._view is None:
            self._vm.state.persist()
            header = self.header.copy(state_root=self._vm.state.state_root)
            self._view = self._filled(header)
            self.header = header
            self._vm = self._chain.get_vm(header)
        return self._view

    def seal(self, *args: Any, **fields: Any) -> BlockAndMetaWitness:
        """Finish the block (``fields`` as for ``VM.mine_block``: coinbase, mix_hash...)."""
        return self._vm.mine_block(self._filled(self.header), *args, **fields)

    def _filled(self, header: Any) -> BlockAPI:
        return self._vm.set_block_transactions_and_withdrawals(
            self._vm.get_block(), header, self.transactions, self.receipts
        )


class BlockBuildingChain(MiningChain):
    """A ``MiningChain`` whose pending block is a :class:`PendingBlock`.

    ``header`` stays the empty header the pending block was started on. When
    something else replaces it (eth-tester's time travel, revert to a
    snapshot), the pending transactions are executed again on the new header
    and those that are no longer valid are dropped, as a node drops them from
    its pool: they were never acknowledged, their block was not mined.
    """

    _pending: PendingBlock | None = None

    def include(self, transaction: SignedTransactionAPI) -> tuple[ReceiptAPI, ComputationAPI]:
        """Execute ``transaction`` into the pending block (may raise :class:`PendingBlockFull`)."""
        return self._building().add(transaction)

    def pending_transactions(self) -> tuple[SignedTransactionAPI, ...]:
        if self._pending is None or not self._pending.transactions:
            return ()
        return tuple(self._building().transactions)

    def apply_transaction(
        self, transaction: SignedTransactionAPI
    ) -> tuple[BlockAPI, ReceiptAPI, ComputationAPI]:
        receipt, computation = self.include(transaction)
        return self.get_block(), receipt, computation

    def get_block(self) -> BlockAPI:
        if self._pending is None or not self._pending.transactions:
            return super().get_block()
        return self._building().block()

    def mine_block_extended(self, *args: Any, **kwargs: Any) -> BlockAndMetaWitness:
        mined = self._building().seal(*args, **kwargs)
        self.validate_block(mined.block)
        self.chaindb.persist_block(mined.block)
        self.header = self.create_header_from_parent(mined.block.header)
        self._pending = None
        return mined

    def _building(self) -> PendingBlock:
        pending = self._pending
        if pending is not None and pending.sound and pending.base is self.header:
            return pending
        # A block carries the time it is built, not the time its parent was sealed
        # (py-evm stamps the next header when the previous block is mined).
        now = int(time.time())
        if self.header.timestamp < now:
            self.header = self.header.copy(timestamp=now)
        fresh = PendingBlock(self)
        for transaction in pending.transactions if pending is not None else ():
            try:
                fresh.add(transaction)
            except Exception as exc:
                log.warning(
                    "pending_transaction_dropped", tx=transaction.hash.hex(), error=str(exc)
                )
        self._pending = fresh
        return fresh


class DurableBackend(PyEVMBackend):  # type: ignore[misc]
    """eth-tester's py-evm backend on a SQLite store, building blocks with :class:`PendingBlock`."""

    def __init__(
        self,
        path: Path,
        accounts: int = DEV_ACCOUNTS,
        *,
        store: SqliteKeyValue | None = None,
        funded: Sequence[str] = (),
    ) -> None:
        """``store`` replaces the SQLite file at ``path`` (tests pass a failing disk);
        ``funded``: addresses given :data:`GENESIS_FUNDS` when the chain is created (the
        platform's own accounts, so that no well-known key needs to pay their gas)."""
        self.store = store if store is not None else SqliteKeyValue(path)
        self.mined_transactions: frozenset[bytes] = frozenset()  # by the last mine_blocks
        genesis_state = PyEVMBackend.generate_genesis_state(num_accounts=accounts)
        for address in funded:
            genesis_state[to_canonical_address(address)] = {
                "balance": GENESIS_FUNDS,
                "nonce": 0,
                "code": b"",
                "storage": {},
            }
        super().__init__(genesis_state=genesis_state)

    def reset_to_genesis(
        self,
        genesis_params: Any = None,
        genesis_state: Any = None,
        num_accounts: Any = None,
        vm_configuration: Any = None,
        mnemonic: Any = None,
        hd_path: Any = None,
    ) -> None:
        keys, template = setup_tester_chain(
            genesis_params, genesis_state, num_accounts, vm_configuration, mnemonic, hd_path
        )
        if self.store.is_empty():
            memory = template.chaindb.db.wrapped_db
            assert isinstance(memory, MemoryDB)
            for key, value in memory.kv_store.items():
                self.store[key] = value
            self.store.commit()
        self.account_keys = keys
        # Same rules and chain id as eth-tester's chain, building blocks our way,
        # opened on the durable store at its head.
        # and estimating gas in two runs, not py-evm's thirteen (see estimator.py).
        self._chain_class = type(
            "DurableChain",
            (BlockBuildingChain, type(template)),
            {"gas_estimator": staticmethod(optimistic_gas_search)},
        )
        self.chain = self._chain_class(AtomicDB(self.store))

    # Transactions go into the pending block without eth-tester's detour through
    # the latest block (which decodes all its transactions for every send).

    def send_raw_transaction(self, raw_transaction: bytes) -> bytes:
        if raw_transaction[0] == BLOB_TX_TYPE:  # eth-tester strips the blob sidecar
            hash_: bytes = super().send_raw_transaction(raw_transaction)
            return hash_
        builder = self.chain.get_vm_class(self.chain.header).get_transaction_builder()
        transaction = builder.decode(raw_transaction)
        self.chain.include(transaction)
        return bytes(transaction.hash)

    def send_signed_transaction(
        self, signed_transaction: Any, block_number: Any = "pending"
    ) -> bytes:
        normalized = self._normalize_transaction(signed_transaction, block_number)
        transaction = self._create_type_aware_signed_transaction(normalized)
        self.chain.include(transaction)
        return bytes(transaction.hash)

    def send_transaction(self, transaction: Any) -> bytes:
        # The nonce, when not given, counts the pending block's transactions too.
        signed = self._get_normalized_and_signed_evm_transaction(transaction, "pending")
        self.chain.include(signed)
        return bytes(signed.hash)

    def mine_blocks(self, num_blocks: int = 1, coinbase: bytes = ZERO_ADDRESS) -> tuple[bytes, ...]:
        """Seal the pending block (then empty ones), commit them to disk at once.

        As eth-tester's, with a random ``mix_hash`` standing in for the beacon
        chain's randomness; the blob gas is already counted by the pending block.
        """
        try:
            blocks = [
                self.chain.mine_block(coinbase=coinbase, mix_hash=os.urandom(32))
                for _ in range(num_blocks)
            ]
            self.store.commit()
        except BaseException:
            self._reopen()
            raise
        self.mined_transactions = frozenset(
            bytes(transaction.hash) for block in blocks for transaction in block.transactions
        )
        return tuple(bytes(block.hash) for block in blocks)

    @replace_exceptions({EVMInvalidInstruction: TransactionFailed, EVMRevert: TransactionFailed})
    def estimate_gas(self, transaction: Any, block_number: Any = "latest") -> Any:
        """As eth-tester's, and on "pending" too: on top of the pending block's state."""
        if block_number != "pending":
            return super().estimate_gas(transaction, block_number)
        unsigned = self._get_normalized_and_unsigned_evm_transaction(
            {**transaction, "gas": 21000}, "pending"
        )
        spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
        return self.chain.estimate_gas(spoofed, self.chain.get_block().header)

    def revert_to_snapshot(self, snapshot: Any) -> None:
        super().revert_to_snapshot(snapshot)
        self.store.commit()  # the new head is as durable as a mined one

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        block, transaction, index, pending = self._find_transaction(transaction_hash)
        return serialize_transaction(block, transaction, index, pending)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        """As eth-tester's: a pending transaction's receipt has no block (web3: null).

        Its logs are numbered by their position in the block, as the JSON-RPC
        specification's ``logIndex`` is (eth-tester numbers them within the
        transaction, so two transactions of one block gave logs the same index, and
        whoever keyed logs by block and index, as the indexer does, lost some).
        ``eth_getLogs`` and log filters read their logs from here.
        """
        block, transaction, index, pending = self._find_transaction(transaction_hash)
        receipts = block.get_receipts(self.chain.chaindb)
        serialized = serialize_transaction_receipt(
            block, receipts, transaction, index, pending, self.chain.get_vm()
        )
        before = sum(len(receipt.logs) for receipt in receipts[:index])
        if before:
            logs = [{**log, "log_index": log["log_index"] + before} for log in serialized["logs"]]
            serialized = {**serialized, "logs": logs}
        return serialized

    def _find_transaction(
        self, transaction_hash: bytes
    ) -> tuple[BlockAPI, SignedTransactionAPI, int, bool]:
        for index, transaction in enumerate(self.chain.pending_transactions()):
            if transaction.hash == transaction_hash:
                return self.chain.get_block(), transaction, index, True
        try:
            number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        except UnknownTransactionHash:
            raise TransactionNotFound(f"no transaction 0x{transaction_hash.hex()}") from None
        block = self.chain.get_canonical_block_by_number(number)
        return block, block.transactions[index], index, False

    def _reopen(self) -> None:
        """Back to the last committed block, forgetting everything since (never acknowledged)."""
        self.store.rollback()
        self.chain = self._chain_class(AtomicDB(self.store))

    def close(self) -> None:
        self.store.close()
