"""The local platform's compute nodes: set up on the first start, reused after.

Under ``<data_dir>/nodes/``: ``certs/`` (the deployment's TLS CA and one
certificate per node, ``node certs``) and ``<i>/`` per node (``node init``:
its keys, ``node.json``, MPyC's TLS files). All nodes read share files, manifests and data
files from the platform's storage (``storage_location``: by default the local
directory ``<data_dir>/storage``, an ``s3://`` bucket if set), where the API
stores what sellers upload (``kraken_market.storage``). Each node signs with an
account key of its own, made here on its first start (never a well-known key:
a node's attestations release held payments), and funded at genesis by
``up`` (or, on a chain made before the node, by the development faucet's gas
payer).

Each start rewrites the parts of ``node.json`` that follow the platform's
settings (ports, chain, storage) and keeps the rest (an operator's
``min_cohort_floor``, timeouts); keys are never replaced. The admin
registers a node on chain only when the chain does not already show it
with the same HPKE key and endpoint, so a restart sends no transaction.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from kraken_market.ledger.client import Ledger, dev_account
from kraken_market.ledger.deployment import Deployment
from kraken_market.platform.errors import SetupMismatch
from kraken_market.platform.keys import refuse_public_keys
from kraken_market.settings import Settings
from kraken_market.smpc.config import NodeConfig
from kraken_market.smpc.node import identity, tls
from kraken_market.smpc.storage import LocalDirectory, open_storage

HOST = "127.0.0.1"
GAS_MONEY = 10**20
"""100 ETH for a platform account the genesis did not fund (attestations cost gas)."""
FAUCET_GAS_PAYER = 0
"""The dev account (a public key: it holds no role) that pays development gas money."""


@dataclass(frozen=True)
class LocalNode:
    config: NodeConfig
    url: str
    account: str
    hpke_public_key: str


def nodes_dir(data_dir: Path) -> Path:
    return data_dir / "nodes"


def _certificates(root: Path, m: int) -> Path:
    """The deployment's CA and node certificates, made once for m nodes."""
    certs = root / "certs"
    if not (certs / "ca.crt").is_file():
        tls.make_deployment(certs, m)
    made = sum(1 for path in certs.glob("party-*") if path.is_dir())
    if made != m:
        raise SetupMismatch(
            f"this data directory was set up with {made} compute nodes, not {m}: set "
            f"KRAKEN_NODES={made}, or use a new data directory (shares are made for m nodes)",
            details={"nodes": made, "asked": m},
        )
    return certs


def _config(settings: Settings, index: int, chain_url: str, parties: tuple[str, ...]) -> NodeConfig:
    data_dir = settings.data_dir.resolve()
    directory = nodes_dir(data_dir) / str(index)
    kept = NodeConfig.load(directory) if (directory / "node.json").is_file() else None
    config = kept or NodeConfig(
        index=index,
        data_dir=directory,
        parties=parties,
        storage=settings.resolved_storage_location,
        chain_url=chain_url,
        deployment_file=settings.deployment_file.resolve(),
    )
    return replace(
        config,
        parties=parties,
        storage=settings.resolved_storage_location,
        chain_url=chain_url,
        deployment_file=settings.deployment_file.resolve(),
        host=HOST,
        port=settings.node_base_port + index,
        python=sys.executable,  # for its per-job MPC processes: this environment's
    )


def _init(config: NodeConfig, certs: Path) -> LocalNode:
    identity.create_keys(config.hpke_key_file, config.account_key_file)
    index = config.index
    if not tls.installed(config.mpc_dir, index):
        tls.install(certs, index, config.mpc_dir)
    config.save()
    return LocalNode(
        config=config,
        url=f"http://{config.host}:{config.port}",
        account=identity.load_account(config.account_key_file).address,
        hpke_public_key=identity.load_hpke(config.hpke_key_file).public_key.raw.hex(),
    )


def fund_if_empty(w3: Web3, accounts: list[str]) -> int:
    """Gas money for platform accounts that the genesis did not fund (a chain made
    before them); how many were funded."""
    empty = [a for a in accounts if w3.eth.get_balance(w3.to_checksum_address(a)) == 0]
    for account in empty:
        _fund(w3, dev_account(FAUCET_GAS_PAYER), account)
    return len(empty)


def _fund(w3: Web3, payer: LocalAccount, account: str) -> None:
    base = int(w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
    tip = int(w3.eth.max_priority_fee)
    signed = payer.sign_transaction(
        {
            "to": w3.to_checksum_address(account),
            "value": GAS_MONEY,
            "gas": 21_000,
            "nonce": w3.eth.get_transaction_count(payer.address, "pending"),
            "chainId": int(w3.eth.chain_id),
            "maxFeePerGas": 2 * base + tip,
            "maxPriorityFeePerGas": tip,
        }
    )
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))


def register_nodes(
    w3: Web3, deployment: Deployment, admin: LocalAccount, nodes: list[LocalNode]
) -> int:
    """Register the nodes the chain does not show as they are; returns how many."""
    ledger = Ledger(w3, deployment, admin)
    shown = {n.account.lower(): (n.hpke_public_key.hex(), n.endpoint) for n in ledger.nodes()}
    refuse_public_keys(shown, "the chain's node registry")
    sent = 0
    for node in nodes:
        if shown.get(node.account.lower()) == (node.hpke_public_key, node.url):
            continue
        ledger.register_node(node.account, bytes.fromhex(node.hpke_public_key), node.url)
        sent += 1
    return sent


def prepare_nodes(settings: Settings, chain_url: str) -> list[LocalNode]:
    """Every node's keys, certificates and configuration, ready to serve (nothing on
    chain yet: their accounts are funded when the chain is made)."""
    m = settings.nodes
    root = nodes_dir(settings.data_dir.resolve())
    certs = _certificates(root, m)
    span = NodeConfig.mpc_port_span
    parties = tuple(f"{HOST}:{settings.node_mpc_base_port + span * i}" for i in range(m))
    storage = open_storage(settings.resolved_storage_location)  # refuses a malformed one
    if isinstance(storage, LocalDirectory):
        storage.root.mkdir(parents=True, exist_ok=True)
    nodes = [_init(_config(settings, i, chain_url, parties), certs) for i in range(m)]
    refuse_public_keys([n.account for n in nodes], f"the compute nodes' keys in {root}")
    return nodes
