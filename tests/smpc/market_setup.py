"""A deployed marketplace with an analytics product for the node tests (not a test module).

Accounts (dev): 0 admin, 2 verifier, 3 treasury, 4-6 compute nodes, 7 buyer, 8 seller.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from web3 import Web3

from kraken_market.catalog.ids import new_product_id
from kraken_market.catalog.schemas import DataSchema
from kraken_market.ledger.client import Ledger, dev_account
from kraken_market.ledger.deploy import Roles, deploy
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.model import ModeCode, Parameters, Prices
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey
from kraken_market.smpc.node.worker import ProductInput
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory

DATA = 10**18
PRICE = 3 * DATA
BUYER, SELLER, VERIFIER, ADMIN = 7, 8, 2, 0
NODE_ACCOUNTS = (4, 5, 6)
SCHEMA = DataSchema.model_validate(
    {
        "columns": [
            {"name": "age", "type": "numeric", "min": 0, "max": 120},
            {"name": "income", "type": "numeric", "min": 0, "max": 10000},
            {"name": "sex", "type": "categorical", "categories": ["f", "m"]},
        ]
    }
)


def deploy_market(w3: Web3) -> Deployment:
    parameters = Parameters(
        treasury=dev_account(3).address,
        fee_bps=250,
        min_stake=0,
        claim_window=7 * 86400,
        claim_bond=5 * DATA,
        computation_deadline=3600,
        attestations_required=2,
    )
    roles = Roles(verifiers=(dev_account(VERIFIER).address,), faucet=True)
    return deploy(w3, dev_account(ADMIN), parameters, roles)


def table(rows: int = 40, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows).astype(float),
            "income": rng.normal(3000, 800, rows).clip(0, 10000).round(2),
            "sex": rng.choice(["f", "m"], rows),
        }
    )


@dataclass
class Market:
    w3: Web3
    deployment: Deployment
    ledgers: dict[int, Ledger] = field(default_factory=dict)

    def as_(self, index: int) -> Ledger:
        if index not in self.ledgers:
            self.ledgers[index] = Ledger(
                self.w3, self.deployment, dev_account(index), poll_latency=0.002
            )
        return self.ledgers[index]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def register_nodes(self, keys: list[NodePublicKey], endpoints: list[str]) -> None:
        for account, key, endpoint in zip(NODE_ACCOUNTS, keys, endpoints, strict=True):
            self.as_(ADMIN).register_node(dev_account(account).address, key.raw, endpoint)

    def publish(self) -> str:
        seller = self.as_(SELLER)
        product = new_product_id()
        seller.publish(product, mode=ModeCode.ANALYTICS, prices=Prices(computation=PRICE))
        return product

    def grant(self, item: str, purpose: int = 0) -> None:
        self.as_(VERIFIER).grant(dev_account(BUYER).address, item, purpose, self.now() + 86400)

    def pay(
        self, spec: ComputationSpec, items: list[str], result_key: NodePublicKey, purpose: int = 0
    ) -> str:
        buyer = self.as_(BUYER)
        if buyer.balance() < 10 * PRICE:
            buyer.drip(100 * DATA)
        request_id = "0x" + hashlib.sha256(np.random.bytes(16)).hexdigest()
        key_hash = hashlib.sha256(result_key.raw).digest()
        buyer.request_computation(request_id, spec.digest(), items, purpose, key_hash)
        return request_id


def share(
    data: pd.DataFrame,
    product: str,
    keys: list[NodePublicKey],
    store: Path,
    owner: Ed25519PrivateKey,
    work: Path,
) -> ProductInput:
    path = work / f"{product}.csv"
    data.to_csv(path, index=False)
    signed = share_file(path, product, SCHEMA, keys, LocalDirectory(store), owner)
    name = f"{product}/{signed.manifest.share_set}/manifest.jws"
    return ProductInput(product_id=product, manifest=name, owner=signed.manifest.owner)


def node_keys() -> list[NodeKeyPair]:
    return [NodeKeyPair.generate() for _ in NODE_ACCOUNTS]
