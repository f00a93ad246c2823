"""The seller's SDK for a batch product: encrypt, upload, deposit the key with the nodes.

::

    published = publish_file(
        Path("cohort.csv"), product_id, open_storage("s3://bucket/data"),
        nodes_from_ledger(ledger), account,              # the seller's LocalAccount
    )
    published.object_name, published.key_commitment      # what the listing links to

The data key is made here and used for one file; ``publish_file`` returns
without it, so afterwards only the m nodes hold it, as shares (any t + 1
rebuild it; see ``keyshares``), each sealed to its node's HPKE key from the
chain. The seller signs the
deposit once (EIP-191, ``wire``) and need not be online when a buyer pays.
A node that did not answer can be given its deposit later:
``deposit_shares(published.deposits, nodes)``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx2

from kraken_market.access.datafile import (
    CHUNK_SIZE,
    Progress,
    encrypt_stream,
    key_commitment,
    new_data_key,
)
from kraken_market.access.errors import FileExists, KeyUnavailable
from kraken_market.access.keyshares import check_key_id, seal_share, split_key
from kraken_market.access.nodes import NodeRef, check_nodes, post
from kraken_market.access.wire import (
    AccountSigner,
    DepositSigner,
    KeyDeposit,
    b64encode,
    sha256_hex,
)
from kraken_market.errors import KrakenError
from kraken_market.smpc.client import NodeError
from kraken_market.smpc.ids import normalise
from kraken_market.smpc.shamir import default_threshold
from kraken_market.smpc.storage import ShareStorage

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

_UNSIGNED = "0x" + "00" * 65


@dataclass(frozen=True)
class PublishedFile:
    """Where the ciphertext is and which nodes hold the key (``failed``: node -> error)."""

    product_id: str
    key_id: str
    object_name: str
    location: str
    key_commitment: str
    plaintext_length: int
    encrypted_length: int
    t: int
    m: int
    deposits: tuple[KeyDeposit, ...]
    accepted: tuple[int, ...]
    failed: dict[int, str] = field(default_factory=dict)


class DepositsIncomplete(KeyUnavailable):
    """Fewer than t + 1 nodes took their share; ``published`` says which, for a retry."""

    code = "deposits_incomplete"

    def __init__(self, message: str, published: PublishedFile) -> None:
        super().__init__(message, details={"failed": published.failed})
        self.published = published


def prepare_deposits(
    key: bytes,
    product_id: str,
    nodes: Sequence[NodeRef],
    account: LocalAccount | DepositSigner,
    *,
    t: int | None = None,
    key_id: str = "data",
    not_before: int = 0,
) -> list[KeyDeposit]:
    """Split ``key``, seal share i to node i, sign the deposit once; one body per node.
    ``account`` signs as the product's on-chain owner (a company's Depute tool for a
    company's product: ``depute.client.DeskSigner``)."""
    signer = account if hasattr(account, "sign_deposit") else AccountSigner(account)
    ordered = check_nodes(nodes)
    m = len(ordered)
    t = default_threshold(m) if t is None else t
    item, key_id = normalise(product_id), check_key_id(key_id)
    commitment = key_commitment(key)
    sealed = [
        seal_share(share, node.public_key, item, key_id, commitment, not_before)
        for share, node in zip(split_key(key, t, m), ordered, strict=True)
    ]
    unsigned = KeyDeposit(
        item=item,
        key_id=key_id,
        node_index=0,
        sealed_share=b64encode(sealed[0]),
        share_digests=[sha256_hex(s) for s in sealed],
        threshold=t,
        key_commitment="0x" + commitment.hex(),
        not_before=not_before,
        depositor=signer.address,
        signature=_UNSIGNED,
    )
    signature = signer.sign_deposit(unsigned)
    return [
        unsigned.model_copy(
            update={"node_index": i, "sealed_share": b64encode(s), "signature": signature}
        )
        for i, s in enumerate(sealed)
    ]


def deposit_shares(
    deposits: Sequence[KeyDeposit], nodes: Sequence[NodeRef], *, http: httpx2.Client | None = None
) -> tuple[tuple[int, ...], dict[int, str]]:
    """Send each deposit to its node: (nodes that hold their share, node -> error)."""
    by_index = {node.index: node for node in check_nodes(nodes)}
    accepted, failed = [], {}
    client = http or httpx2.Client(timeout=30)
    try:
        for deposit in deposits:
            node = by_index[deposit.node_index]
            try:
                post(client, node.index, node.endpoint, "/keys", deposit.model_dump(mode="json"))
                accepted.append(node.index)
            except KrakenError as exc:
                failed[node.index] = exc.roll_up()
                if isinstance(exc, NodeError) and exc.status_code < 500:
                    raise  # every node reads the same chain: fix this first (not owner, ...)
    finally:
        if http is None:
            client.close()
    return tuple(accepted), failed


def publish_file(
    path: Path,
    product_id: str,
    storage: ShareStorage,
    nodes: Sequence[NodeRef],
    account: LocalAccount | DepositSigner,
    *,
    t: int | None = None,
    key_id: str = "data",
    object_name: str | None = None,
    http: httpx2.Client | None = None,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> PublishedFile:
    """Encrypt ``path`` with a fresh key, upload it as ``object_name`` (default
    ``<product>/<key id>.kdata``), deposit the key's shares with ``nodes``.

    Raises the node's refusal if it concerns the seller (``depositor_not_owner``,
    ``product_unknown``, ``key_exists``...), ``DepositsIncomplete`` if fewer than
    t + 1 nodes could be reached (retry ``deposit_shares`` with ``.published``).
    """
    item = normalise(product_id)
    name = object_name or f"{item}/{check_key_id(key_id)}.kdata"
    if storage.exists(name):
        # Its key is with the nodes already (a key id is deposited once): writing a new
        # file there would leave buyers a ciphertext no deposited key opens.
        raise FileExists(
            f"{name} is published already; publish a new version under another key id",
            details={"object_name": name, "key_id": key_id},
        )
    key = new_data_key()
    deposits = prepare_deposits(key, item, nodes, account, t=t, key_id=key_id)
    with path.open("rb") as source, storage.writer(name) as sink:
        length = os.fstat(source.fileno()).st_size
        header = encrypt_stream(
            source, sink, key, item, length, chunk_size=chunk_size, progress=progress
        )
    accepted, failed = deposit_shares(deposits, nodes, http=http)
    published = PublishedFile(
        product_id=item,
        key_id=key_id,
        object_name=name,
        location=storage.url(name),
        key_commitment=deposits[0].key_commitment,
        plaintext_length=length,
        encrypted_length=header.encrypted_length,
        t=deposits[0].threshold,
        m=len(deposits),
        deposits=tuple(deposits),
        accepted=accepted,
        failed=failed,
    )
    if len(accepted) < published.t + 1:
        raise DepositsIncomplete(
            f"only nodes {list(accepted)} took their key share, {published.t + 1} are needed "
            "for buyers to get the key: retry deposit_shares(published.deposits, nodes) later",
            published,
        )
    return published
