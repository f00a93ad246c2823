"""A product's provenance, rebuilt from chain data alone.

The contracts index the product (or the item bought, or the computation
request) as the first topic of every event about it, so one log query per key
(``eth_getLogs`` in ranges of ``chain_log_range`` blocks, as providers require:
``ledger.log_ranges``) finds the product's whole life: publication and stake, metadata,
policy, price and availability changes, ownership transfers, grants,
purchases and revenue, approvals, claims and rulings, computations that used
it and their attestations, and the unions it joined together with what was
bought through them. The lineage graph comes from the registry's parent
links (ancestors) and the parents recorded in every publication
(descendants). Nothing here reads the marketplace database.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from web3.types import FilterParams

from kraken_market.ledger.client import Ledger, as_bytes32
from kraken_market.ledger.model import ChainEvent

RELATED_BY_REQUEST = {"ComputationItem"}
RELATED_BY_UNION = {"UnionMemberAdded"}
SKIPPED_FOR_UNIONS = {"UnionMemberAdded"}
"""A union's own member list would repeat every member; its other events are kept."""


@dataclass(frozen=True)
class ProvenanceEntry:
    event: ChainEvent
    block_time: int
    via: str | None = None
    """The union or computation request through which it concerns the product."""


@dataclass(frozen=True)
class Lineage:
    """Parent links as (child, parent) pairs, for ancestors and descendants."""

    root: bytes
    edges: tuple[tuple[bytes, bytes], ...]
    depth: dict[bytes, int] = field(default_factory=dict)
    """Generations from the root: negative for ancestors, positive for descendants."""


@dataclass(frozen=True)
class Provenance:
    product_id: bytes
    entries: tuple[ProvenanceEntry, ...]
    lineage: Lineage

    def as_dict(self) -> dict[str, Any]:
        return {
            "product_id": _hex(self.product_id),
            "history": [
                {
                    "block": entry.event.block_number,
                    "time": entry.block_time,
                    "tx_hash": entry.event.tx_hash,
                    "log_index": entry.event.log_index,
                    "contract": entry.event.contract,
                    "event": entry.event.name,
                    "via": entry.via,
                    "args": {key: _json(value) for key, value in entry.event.args.items()},
                }
                for entry in self.entries
            ],
            "lineage": {
                "edges": [
                    {"child": _hex(child), "parent": _hex(parent)}
                    for child, parent in self.lineage.edges
                ],
                "depth": {_hex(node): depth for node, depth in self.lineage.depth.items()},
            },
        }


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _json(value: Any) -> Any:
    """Arguments for JSON: bytes as 0x-hex, integers beyond 2^53 as decimal strings."""
    if isinstance(value, bytes):
        return _hex(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    return value


class ProvenanceReader:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.w3 = ledger.w3
        self._times: dict[int, int] = {}

    def events_about(self, key: bytes) -> list[ChainEvent]:
        """Every event of the registry and market whose first indexed argument is ``key``."""
        deployment = self.ledger.deployment
        criteria: FilterParams = {
            "address": [
                to_checksum_address(deployment.registry),
                to_checksum_address(deployment.market),
            ],
            "topics": [None, HexStr("0x" + key.hex())],
        }
        return list(self.ledger.decoder.decode_all(self.ledger.logs(criteria)))

    def block_time(self, number: int) -> int:
        if number not in self._times:
            self._times[number] = int(self.w3.eth.get_block(number)["timestamp"])
        return self._times[number]

    def history(self, product_id: bytes | str) -> Provenance:
        key = as_bytes32(product_id)
        entries: list[tuple[ChainEvent, str | None]] = [
            (event, None) for event in self.events_about(key)
        ]
        related: list[tuple[bytes, str]] = []
        for event, _ in entries:
            if event.name in RELATED_BY_UNION:
                related.append((bytes(event.args["union_id"]), "union"))
            elif event.name in RELATED_BY_REQUEST:
                related.append((bytes(event.args["request_id"]), "request"))
        seen = {key}
        for other, kind in related:
            if other in seen:
                continue
            seen.add(other)
            for event in self.events_about(other):
                if kind == "union" and event.name in SKIPPED_FOR_UNIONS:
                    continue
                entries.append((event, f"{kind} {_hex(other)}"))
        entries.sort(key=lambda pair: (pair[0].block_number, pair[0].log_index))
        unique = {(e.block_number, e.log_index): (e, via) for e, via in entries}
        ordered = sorted(
            unique.values(), key=lambda pair: (pair[0].block_number, pair[0].log_index)
        )
        return Provenance(
            product_id=key,
            entries=tuple(
                ProvenanceEntry(event=e, block_time=self.block_time(e.block_number), via=via)
                for e, via in ordered
            ),
            lineage=self.lineage(key),
        )

    def lineage(self, product_id: bytes) -> Lineage:
        """Ancestors through the registry's parent links; descendants through every
        publication's declared parents."""
        edges: set[tuple[bytes, bytes]] = set()
        depth = {product_id: 0}
        queue = deque([product_id])
        while queue:
            child = queue.popleft()
            for parent in self.ledger.parents_of(child):
                edges.add((child, parent))
                if parent not in depth:
                    depth[parent] = depth[child] - 1
                    queue.append(parent)
        children: dict[bytes, list[bytes]] = {}
        for event in self._publications():
            for parent in event.args["parents"]:
                children.setdefault(bytes(parent), []).append(bytes(event.args["product_id"]))
        queue = deque([product_id])
        while queue:
            parent = queue.popleft()
            for child in children.get(parent, []):
                edges.add((child, parent))
                if child not in depth:
                    depth[child] = depth[parent] + 1
                    queue.append(child)
        return Lineage(root=product_id, edges=tuple(sorted(edges)), depth=depth)

    def _publications(self) -> list[ChainEvent]:
        registry = self.ledger.contracts["Registry"]
        topic = registry.events.ProductPublished().topic
        logs = self.ledger.logs(
            {
                "address": to_checksum_address(self.ledger.deployment.registry),
                "topics": [topic],
            }
        )
        return list(self.ledger.decoder.decode_all(logs))


def history(ledger: Ledger, product_id: bytes | str) -> Provenance:
    """The ordered on-chain history and lineage of ``product_id``."""
    return ProvenanceReader(ledger).history(product_id)
