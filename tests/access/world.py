"""Three compute nodes (real node apps, in process) on the in-process chain, for the
key custody tests (not a test module). Accounts as ``tests.smpc.market_setup``:
0 admin, 2 verifier, 4-6 nodes, 7 buyer, 8 seller; 9 another buyer, 1 another seller.

The nodes are reached through one ``httpx2.Client`` whose transport hands each
request to the app of the node named by the host (``http://node<i>.test``), or
fails to connect if the test took that node down.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx2
from eth_tester import EthereumTester, PyEVMBackend
from fastapi.testclient import TestClient
from web3 import EthereumTesterProvider, Web3

from kraken_market.access.datafile import key_commitment, new_data_key
from kraken_market.access.nodes import NodeRef, nodes_from_ledger
from kraken_market.access.seller import prepare_deposits
from kraken_market.access.wire import KeyDeposit
from kraken_market.catalog.ids import new_product_id
from kraken_market.ledger.client import dev_account
from kraken_market.ledger.model import ModeCode, Prices
from kraken_market.smpc.config import NodeConfig
from kraken_market.smpc.node.app import create_app
from kraken_market.smpc.node.authorise import LedgerChain
from kraken_market.smpc.node.service import NodeService
from kraken_market.smpc.storage import LocalDirectory
from tests.smpc.market_setup import (
    ADMIN,
    BUYER,
    DATA,
    NODE_ACCOUNTS,
    PRICE,
    SELLER,
    VERIFIER,
    Market,
    deploy_market,
    node_keys,
)

OTHER_BUYER, OTHER_SELLER = 9, 1
PARTIES = ("127.0.0.1:27000", "127.0.0.1:28000", "127.0.0.1:29000")


class World:
    def __init__(self, root: Path) -> None:
        w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
        self.market = Market(w3, deploy_market(w3))
        self.keys = node_keys()
        self.endpoints = [f"http://node{i}.test" for i in range(len(self.keys))]
        self.market.register_nodes([k.public_key for k in self.keys], self.endpoints)
        self.storage = LocalDirectory(root / "store")
        self.services = [self._node(root, i) for i in range(len(self.keys))]
        self.apps = [TestClient(create_app(s, manage=False)) for s in self.services]
        self.down: set[int] = set()
        self.http = httpx2.Client(transport=httpx2.MockTransport(self._dispatch))
        self.nodes: list[NodeRef] = nodes_from_ledger(self.market.as_(SELLER))

    def _node(self, root: Path, index: int) -> NodeService:
        config = NodeConfig(
            index=index,
            data_dir=root / f"node{index}",
            parties=PARTIES,
            storage=self.storage.root,
            chain_url="in-process",
            deployment_file=root / "none.json",
        )
        chain = LedgerChain(self.market.as_(NODE_ACCOUNTS[index]))
        return NodeService(config, chain, self.keys[index], storage=self.storage)

    def _dispatch(self, request: httpx2.Request) -> httpx2.Response:
        index = int(request.url.host.removeprefix("node").removesuffix(".test"))
        if index in self.down:
            raise httpx2.ConnectError("connection refused", request=request)
        answer = self.apps[index].request(
            request.method, request.url.path, content=request.content, headers=request.headers
        )
        return httpx2.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def close(self) -> None:
        for service in self.services:
            service.store.close()
            service.custody.close()

    # -- the chain ------------------------------------------------------------------------

    def publish(self, mode: ModeCode = ModeCode.BATCH, seller: int = SELLER) -> str:
        product = new_product_id()
        prices = (
            Prices(access=PRICE)
            if mode == ModeCode.BATCH
            else Prices(subscription_per_second=10**14, subscription_min_seconds=60)
        )
        self.market.as_(seller).publish(product, mode=mode, prices=prices)
        return product

    def grant(self, item: str | bytes, buyer: int = BUYER, purpose: int = 0) -> None:
        expiry = self.market.now() + 86400
        self.market.as_(VERIFIER).grant(dev_account(buyer).address, item, purpose, expiry)

    def revoke(self, item: str | bytes, buyer: int = BUYER, purpose: int = 0) -> None:
        self.market.as_(VERIFIER).revoke_grant(dev_account(buyer).address, item, purpose)

    def buy(self, item: str | bytes, buyer: int = BUYER, purpose: int = 0) -> int:
        """A granted ``buy_access`` purchase; its id."""
        self.grant(item, buyer, purpose)
        ledger = self.market.as_(buyer)
        if ledger.balance() < 10 * PRICE:
            ledger.drip(100 * DATA)
        return ledger.buy_access(item, purpose)[0]

    def subscribe(self, item: str, seconds: int, buyer: int = BUYER) -> int:
        self.grant(item, buyer)
        ledger = self.market.as_(buyer)
        if ledger.balance() < 10 * PRICE:
            ledger.drip(100 * DATA)
        return ledger.subscribe(item, 0, seconds)[0]

    def union(self, *members: str) -> bytes:
        union, _ = self.market.as_(SELLER).propose_union(dict.fromkeys(members, 1))
        return union

    def now(self) -> int:
        return int(time.time())

    # -- deposits -------------------------------------------------------------------------

    def deposits(
        self,
        item: str,
        key: bytes | None = None,
        *,
        key_id: str = "data",
        not_before: int = 0,
        seller: int = SELLER,
    ) -> tuple[bytes, list[KeyDeposit]]:
        key = key or new_data_key()
        made = prepare_deposits(
            key, item, self.nodes, dev_account(seller), key_id=key_id, not_before=not_before
        )
        assert made[0].key_commitment == "0x" + key_commitment(key).hex()
        return key, made


__all__ = ["ADMIN", "BUYER", "OTHER_BUYER", "OTHER_SELLER", "SELLER", "World"]
