"""``kraken-market chain serve``: the embedded durable chain over Ethereum JSON-RPC.

Requests (single or batch, JSON-RPC 2.0) are dispatched to eth-tester through
web3's ``EthereumTesterProvider`` together with its own request/result
middleware, then encoded in the Ethereum wire format (quantities and byte
strings as ``0x`` hex). A lock serialises access to the chain. Malformed
requests get JSON-RPC error objects (-32700 parse error, including non-UTF-8;
-32600 invalid request, including bodies over 4 MiB and JSON nested deeper
than 64 levels; -32601 unknown method; 3 revert, with its revert data as geth
sends it; -32000 other execution errors), never a crash.

**Only the standard methods a wallet and a client need** (``PUBLIC_METHODS``):
reading state, blocks, transactions, receipts and logs, gas and fees, and
``eth_sendRawTransaction`` of a transaction signed by its sender. The node holds
no unlocked account: ``eth_accounts`` is empty and ``eth_sendTransaction``,
``eth_sign*`` do not exist. eth-tester's development methods (``evm_snapshot``,
``evm_revert``, ``evm_mine``, ``testing_timeTravel``) would let anyone undo
purchases after decrypting what they bought or make every grant expire; they
exist only on a node made with ``development=True`` (``chain serve
--development``, loopback only), which ``kraken-market up`` never makes. Tests
move time through the in-process chain. Log filters (``eth_newFilter``…) are
left out too: each is state kept per caller and scanned at every block; clients
poll ``eth_getLogs`` instead.

A transaction is answered only once its block is committed to disk, so an
acknowledged transaction survives a kill -9. Two ways to get there:

- group commit (the default, what ``chain serve`` runs): a send is validated
  and executed into the pending block at once (a refused one is answered with
  its error at once), then waits, without holding the chain lock, while a
  miner thread seals the pending block and commits it, one fsync for all its
  transactions. The miner seals as soon as the block has a transaction and no
  other send is on its way into it: a lone sender waits for nothing, and
  concurrent senders share blocks, because sends that arrive while a block is
  being committed queue up for the next one. ``block_interval`` bounds how
  long a transaction waits for such latecomers. A send that finds the block
  out of gas seals it first. Nonces count the pending block
  (``eth_getTransactionCount(address, "pending")``); a nonce gap is refused,
  not queued; receipts exist once the block is mined (``null`` before);
  balances, ``eth_call`` and ``eth_estimateGas`` on "latest" see mined
  blocks, on "pending" the pending block too. A pending transaction that the chain drops (after
  ``evm_revert``, time travel, or a block that failed to mine) is answered
  with an error, never with its hash.
- auto-mining (``group_commit=False``): eth-tester mines one block per
  transaction before answering, one fsync each.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed, TransactionNotFound
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from web3 import EthereumTesterProvider, Web3

from kraken_market.jsondepth import MAX_DEPTH, too_deep
from kraken_market.ledger.chain.embedded import DurableBackend, PendingBlockFull
from kraken_market.logs import get_logger

log = get_logger(__name__)
MAX_BATCH = 100
ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string), Solidity's and Vyper's revert
MAX_BODY = 4 * 1024 * 1024  # far above any contract deployment; bounds memory per request
SEND_METHODS = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})
PUBLIC_METHODS = frozenset(
    {
        "web3_clientVersion",
        "web3_sha3",
        "net_version",
        "net_listening",
        "net_peerCount",
        "eth_protocolVersion",
        "eth_syncing",
        "eth_chainId",
        "eth_blockNumber",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_blobBaseFee",
        "eth_getBalance",
        "eth_getStorageAt",
        "eth_getTransactionCount",
        "eth_getCode",
        "eth_call",
        "eth_estimateGas",
        "eth_getBlockByHash",
        "eth_getBlockByNumber",
        "eth_getBlockTransactionCountByHash",
        "eth_getBlockTransactionCountByNumber",
        "eth_getUncleCountByBlockHash",
        "eth_getUncleCountByBlockNumber",
        "eth_getTransactionByHash",
        "eth_getTransactionByBlockHashAndIndex",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getTransactionReceipt",
        "eth_getLogs",
        "eth_sendRawTransaction",
    }
)
"""What the chain answers to anyone: standard Ethereum JSON-RPC, nothing that signs
for an account, rewrites history or moves the clock."""
NO_ACCOUNTS = frozenset({"eth_accounts"})  # answered with an empty list: none is unlocked
MINING_METHODS = frozenset({"evm_mine", "testing_timeTravel"})  # they seal the pending block
ACK_TIMEOUT = 60.0  # a safety net: the miner answers every waiting send long before

Answer = dict[str, Any]


def wire(value: Any) -> Any:
    """Python values from eth-tester in JSON-RPC wire format (hex quantities and data)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [wire(item) for item in value]
    return str(value)


def _error(id_: Any, code: int, message: str) -> Answer:
    return {"jsonrpc": "2.0", "id": id_, "error": {"code": code, "message": message}}


def revert_data(exc: BaseException) -> str | None:
    """The revert output (ABI-encoded ``Error(string)``) of a reverted call, hex.

    web3 reads a revert's reason from the error's ``data``, as geth sends it;
    eth-tester keeps the raw output as the bytes argument of its
    ``TransactionFailed``, somewhere in the exception chain.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TransactionFailed) and seen.args and isinstance(seen.args[0], bytes):
            return "0x" + seen.args[0].hex()
        seen = seen.__cause__ or seen.__context__
    marker = "execution reverted: "
    message = str(exc)
    if marker in message:
        reason = message.split(marker, 1)[1]
        return "0x" + (ERROR_SELECTOR + abi_encode(["string"], [reason])).hex()
    return None


def _failure(id_: Any, method: str, exc: Exception) -> Answer:
    log.info("rpc_call_failed", method=method, error=type(exc).__name__)
    message = (str(exc) or type(exc).__name__)[:500]
    data = revert_data(exc)
    if data is not None:  # as geth answers a revert: code 3, the revert data
        return {"jsonrpc": "2.0", "id": id_, "error": {"code": 3, "message": message, "data": data}}
    return _error(id_, -32000, message)


class _DeferredTester(EthereumTester):  # type: ignore[misc]
    """eth-tester whose sends leave the transaction in the pending block.

    The same methods without eth-tester's auto-mining decorator: the node's
    miner seals the block. (eth-tester's own non-auto-mining mode executes each
    send on the latest block and then reverts it, so a second pending
    transaction from one account fails on its nonce.)
    """

    send_raw_transaction = inspect.unwrap(EthereumTester.send_raw_transaction)
    send_transaction = inspect.unwrap(EthereumTester.send_transaction)


@dataclass(eq=False)
class _Block:
    """The transactions sent into the block being built, and how that block ended."""

    hashes: list[str] = field(default_factory=list)
    opened: float = 0.0  # monotonic time of its first transaction
    mined: frozenset[str] = frozenset()
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def add(self, tx_hash: str) -> None:
        if not self.hashes:
            self.opened = time.monotonic()
        self.hashes.append(tx_hash)

    def settle(self, mined: frozenset[str], error: str | None = None) -> None:
        self.mined, self.error = mined, error
        self.done.set()


@dataclass(frozen=True)
class Ack:
    """A send accepted into the pending block: its answer once the block is on disk."""

    id_: Any
    tx_hash: str
    block: _Block

    def wait(self) -> Answer:
        if not self.block.done.wait(ACK_TIMEOUT):
            return _error(self.id_, -32000, "transaction not mined in time")
        if self.tx_hash in self.block.mined:
            return {"jsonrpc": "2.0", "id": self.id_, "result": self.tx_hash}
        reason = self.block.error or "dropped from the pending block"
        return _error(self.id_, -32000, f"transaction not mined: {reason}")


def settle(submitted: Answer | Ack) -> Answer:
    """The answer to a submitted call, waiting for its block if it is a send."""
    return submitted.wait() if isinstance(submitted, Ack) else submitted


class ChainNode:
    """One durable chain answering JSON-RPC calls, one at a time, mining by group commit."""

    def __init__(
        self,
        backend: PyEVMBackend,
        *,
        group_commit: bool = True,
        block_interval: float = 0.02,
        development: bool = False,
    ) -> None:
        """``backend``: a :class:`DurableBackend`; any eth-tester backend without group
        commit. ``development``: also answer eth-tester's development methods and sign
        for its unlocked dev accounts (tests and local experiments only)."""
        if group_commit and not isinstance(backend, DurableBackend):
            raise TypeError("group commit builds blocks with DurableBackend")
        self.backend = backend
        self.group_commit = group_commit
        self.block_interval = block_interval
        self.development = development
        self._tester = _DeferredTester(backend) if group_commit else EthereumTester(backend)
        provider = EthereumTesterProvider(self._tester)
        w3 = Web3(provider, middleware=[])
        self._request = provider.request_func(w3, w3.middleware_onion)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a send joined the block, or closing
        self._block = _Block()
        self._arriving = 0  # sends on their way into the block, not yet executed
        self._arriving_lock = threading.Lock()
        self._closing = False
        self._miner: threading.Thread | None = None
        if group_commit:
            self._miner = threading.Thread(target=self._mine, name="chain-miner", daemon=True)
            self._miner.start()

    def handle(self, call: Any) -> Answer:
        """Answer one JSON-RPC call; a send, once its block is on disk."""
        return settle(self.submit(call))

    def submit(self, call: Any) -> Answer | Ack:
        """Execute one call; a send accepted by group commit comes back as an :class:`Ack`."""
        if not isinstance(call, dict) or call.get("jsonrpc") != "2.0":
            return _error(None, -32600, "invalid request: expected a JSON-RPC 2.0 object")
        id_, method, params = call.get("id"), call.get("method"), call.get("params", [])
        if not isinstance(method, str) or not isinstance(params, list):
            return _error(id_, -32600, "invalid request: method must be a string, params a list")
        if not self.development:
            if method in NO_ACCOUNTS:
                return {"jsonrpc": "2.0", "id": id_, "result": []}
            if method not in PUBLIC_METHODS:
                return _error(id_, -32601, f"the method {method[:64]} does not exist on this chain")
        if self.group_commit and method in SEND_METHODS:
            return self._send(id_, method, params)
        with self._lock:
            return self._call(id_, method, params)

    def close(self) -> None:
        """Mine what is pending (its senders get their answers), then close the store."""
        with self._lock:
            self._closing = True
            self._changed.notify_all()
        if self._miner is not None:
            self._miner.join()
        with self._lock:
            if isinstance(self.backend, DurableBackend):
                self.backend.close()

    def _call(self, id_: Any, method: str, params: list[Any]) -> Answer:
        """eth-tester's answer to one call, in wire format (lock held)."""
        block = self._block
        try:
            response = self._dispatch(method, params)
        except Exception as exc:  # eth-tester raises many types for bad calls and reverts
            return _failure(id_, method, exc)
        finally:
            if self.group_commit and method in MINING_METHODS:
                self._settle_after_foreign_mining(block)
        if "error" in response:
            return {"jsonrpc": "2.0", "id": id_, "error": dict(response["error"])}
        return {"jsonrpc": "2.0", "id": id_, "result": wire(response.get("result"))}

    def _dispatch(self, method: str, params: list[Any]) -> Any:
        try:
            return self._request(method, params)
        except PendingBlockFull:
            if not self.group_commit:
                raise
            self._seal()  # mine the full block now; this transaction opens the next one
            return self._request(method, params)

    def _send(self, id_: Any, method: str, params: list[Any]) -> Answer | Ack:
        with self._arriving_lock:
            self._arriving += 1
        with self._lock:
            try:
                if self._closing:
                    return _error(id_, -32000, "the chain is shutting down")
                answer = self._call(id_, method, params)
            finally:
                with self._arriving_lock:
                    self._arriving -= 1
                self._changed.notify_all()
            if "result" not in answer:
                return answer
            tx_hash = str(answer["result"]).lower()
            self._block.add(tx_hash)
            return Ack(id_, tx_hash, self._block)

    def _mine(self) -> None:
        """The miner thread: seal the pending block whenever it holds a transaction."""
        with self._lock:
            while True:
                self._changed.wait_for(lambda: bool(self._block.hashes) or self._closing)
                if not self._block.hashes:
                    return  # closing, nothing pending
                # Sends already on their way (queued on the lock) join this block,
                # for at most block_interval after its first transaction.
                linger = self._block.opened + self.block_interval - time.monotonic()
                self._changed.wait_for(
                    lambda: self._arriving == 0 or self._closing, timeout=max(0.0, linger)
                )
                self._seal()

    def _seal(self) -> None:
        """Mine the pending block and commit it (lock held); answer its senders."""
        block, self._block = self._block, _Block()
        try:
            self._tester.mine_blocks(1)  # through eth-tester: it feeds block and log filters
        except Exception as exc:  # DurableBackend rolled back: the block is not on disk
            log.error("block_not_mined", transactions=len(block.hashes), error=str(exc))
            block.settle(frozenset(), error=str(exc) or type(exc).__name__)
            return
        block.settle(frozenset("0x" + tx.hex() for tx in self.backend.mined_transactions))

    def _settle_after_foreign_mining(self, block: _Block) -> None:
        """evm_mine or time travel sealed (or failed to seal) the pending block."""
        if block is not self._block or not block.hashes:
            return
        self._block = _Block()
        block.settle(frozenset(tx for tx in block.hashes if self._is_mined(tx)))

    def _is_mined(self, tx_hash: str) -> bool:
        try:
            receipt = self._tester.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return False
        return receipt.get("block_number") is not None


def create_rpc_app(node: ChainNode) -> Starlette:
    async def rpc(request: Request) -> Response:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                return JSONResponse(
                    _error(None, -32600, f"requests are limited to {MAX_BODY} bytes")
                )
        if too_deep(raw):  # see kraken_market.jsondepth: this process imports py-evm
            return JSONResponse(_error(None, -32600, f"JSON nested deeper than {MAX_DEPTH}"))
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON or not UTF-8
            return JSONResponse(_error(None, -32700, "parse error: the body is not JSON"))
        if isinstance(body, list):
            if not body or len(body) > MAX_BATCH:
                return JSONResponse(_error(None, -32600, f"a batch holds 1 to {MAX_BATCH} calls"))
            # Every send of a batch joins the pending block before any waits for it.
            submitted = [await run_in_threadpool(node.submit, call) for call in body]
            return JSONResponse([await run_in_threadpool(settle, each) for each in submitted])
        return JSONResponse(await run_in_threadpool(node.handle, body))

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        node.close()

    routes = [Route("/", rpc, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    return Starlette(routes=routes, lifespan=lifespan)
