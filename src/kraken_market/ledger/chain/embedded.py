"""The embedded durable chain: py-evm through eth-tester, state in SQLite.

``DurableBackend`` is eth-tester's ``PyEVMBackend`` with two changes (the
backend takes no database argument, hence the subclass):

- genesis: the first start builds eth-tester's default genesis (funded dev
  accounts) in memory and copies it into the SQLite store; later starts
  reopen the chain from the store at its last committed block;
- mining: every mined block is committed to disk before ``mine_blocks``
  returns, so a transaction whose hash was acknowledged (eth-tester mines it
  before answering) survives a kill -9 of the process.

The dev account keys are eth-tester's well-known deterministic test keys:
for development chains only, never for a chain holding value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth_tester import PyEVMBackend
from eth_tester.backends.pyevm.main import setup_tester_chain

from kraken_market.ledger.chain.store import SqliteKeyValue

DEV_ACCOUNTS = 10


class DurableBackend(PyEVMBackend):  # type: ignore[misc]
    def __init__(self, path: Path, accounts: int = DEV_ACCOUNTS) -> None:
        self.store = SqliteKeyValue(path)
        genesis_state = PyEVMBackend.generate_genesis_state(num_accounts=accounts)
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
        # Same chain class (rules, chain id), opened on the durable store at its head.
        self.chain = type(template)(AtomicDB(self.store))

    def mine_blocks(self, num_blocks: int = 1, coinbase: Any = None) -> tuple[bytes, ...]:
        kwargs = {} if coinbase is None else {"coinbase": coinbase}
        hashes: tuple[bytes, ...] = super().mine_blocks(num_blocks, **kwargs)
        self.store.commit()
        return hashes

    def close(self) -> None:
        self.store.close()
