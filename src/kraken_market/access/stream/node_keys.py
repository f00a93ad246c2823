"""Epoch keys through the compute nodes: the stream's two key interfaces on the
batch files' key custody (:mod:`kraken_market.access.seller`, ``buyer``).

The publisher deposits each epoch key as key id ``epoch-<n>`` with
``not_before`` = the epoch's start, Shamir-split and sealed to each node like a
file's data key; a subscriber asks the nodes for it with its subscription's
purchase id, and each node releases its share only if the chain shows paid
time covering the epoch's start (and a valid grant). The seller need not be
online when someone subscribes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import httpx2

from kraken_market.access.buyer import fetch_key
from kraken_market.access.errors import KeyUnavailable
from kraken_market.access.nodes import NodeRef
from kraken_market.access.seller import deposit_shares, prepare_deposits
from kraken_market.access.wire import DepositSigner
from kraken_market.smpc.shamir import default_threshold

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount


def key_id(epoch: int) -> str:
    return f"epoch-{epoch}"


class NodeEpochCustody:
    """:class:`~kraken_market.access.stream.epochs.EpochKeyCustody` on the nodes."""

    def __init__(
        self,
        nodes: Sequence[NodeRef],
        account: LocalAccount | DepositSigner,
        *,
        http: httpx2.Client | None = None,
    ) -> None:
        """``account`` signs the deposits as the stream's owner on chain (a company's
        Depute tool for a company's stream: ``depute.client.DeskSigner``)."""
        self.nodes, self.account, self.http = list(nodes), account, http

    def deposit(self, item: bytes, epoch: int, key: bytes, not_before: int) -> None:
        deposits = prepare_deposits(
            key, "0x" + item.hex(), self.nodes, self.account,
            key_id=key_id(epoch), not_before=not_before,
        )  # fmt: skip
        accepted, failed = deposit_shares(deposits, self.nodes, http=self.http)
        needed = default_threshold(len(self.nodes)) + 1
        if len(accepted) < needed:
            raise KeyUnavailable(
                f"only {len(accepted)} of {len(self.nodes)} nodes took epoch {epoch}'s key "
                f"({needed} needed): the epoch is not opened",
                details={"failed": failed},
            )


class NodeEpochKeys:
    """:class:`~kraken_market.access.stream.epochs.EpochKeySource` from the nodes, for
    the subscription ``purchase_id`` of ``account``."""

    def __init__(
        self,
        endpoints: Sequence[str],
        purchase_id: int,
        account: LocalAccount,
        *,
        http: httpx2.Client | None = None,
    ) -> None:
        self.endpoints, self.purchase_id = list(endpoints), purchase_id
        self.account, self.http = account, http

    def key_for(self, item: bytes, epoch: int) -> bytes:
        recovered = fetch_key(
            self.endpoints, "0x" + item.hex(), self.purchase_id, self.account,
            key_id=key_id(epoch), http=self.http,
        )  # fmt: skip
        return recovered.key
