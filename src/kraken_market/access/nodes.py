"""The compute nodes as the seller's and buyer's SDK see them: where, which key, which share.

Share i of a data key goes to the node at position i of the list the seller
uses; by default the registry's order (``Ledger.nodes()``: account, HPKE
public key and endpoint, as the platform admin registered them), so the
HPKE key a share is sealed to comes from the chain, not from the node's own
answer. Node answers reuse the analytics client's errors
(``smpc.client.NodeError`` carries the node's ``code``; ``NodeUnreachable``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2

from kraken_market.access.errors import KeySharingInvalid
from kraken_market.ledger.model import Node
from kraken_market.smpc.client import NodeError, NodeUnreachable
from kraken_market.smpc.keys import NodePublicKey


@dataclass(frozen=True)
class NodeRef:
    """Node ``index`` (its share's position) at ``endpoint`` with HPKE key ``public_key``."""

    index: int
    endpoint: str
    public_key: NodePublicKey


class NodeRegistry(Protocol):
    def nodes(self) -> list[Node]: ...


def nodes_from_ledger(ledger: NodeRegistry) -> list[NodeRef]:
    """The registered compute nodes, in registry order."""
    found = [
        NodeRef(i, node.endpoint.rstrip("/"), NodePublicKey(node.hpke_public_key))
        for i, node in enumerate(ledger.nodes())
    ]
    if not found:
        raise KeySharingInvalid("no compute nodes are registered on chain")
    return found


def check_nodes(nodes: Sequence[NodeRef]) -> list[NodeRef]:
    """``nodes`` in index order, if the indices are 0..m-1 each once."""
    ordered = sorted(nodes, key=lambda n: n.index)
    if [n.index for n in ordered] != list(range(len(ordered))):
        raise KeySharingInvalid(f"node indices must be 0..{len(nodes) - 1}, each once")
    return ordered


def post(
    http: httpx2.Client, index: int, endpoint: str, path: str, body: dict[str, Any]
) -> httpx2.Response:
    """POST JSON to a node; its error answer as ``NodeError``, silence as ``NodeUnreachable``."""
    try:
        response = http.post(endpoint.rstrip("/") + path, json=body)
    except httpx2.HTTPError as exc:
        raise NodeUnreachable(f"node {index} at {endpoint} does not answer") from exc
    if response.status_code >= 400:
        try:
            answer = response.json()
            code, message = str(answer["code"]), str(answer["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", response.text[:200]
        raise NodeError(index, response.status_code, code, message)
    return response
