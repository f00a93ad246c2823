"""Who holds the marketplace's roles: read from the Authority's role events.

snekmate's access control keeps ``hasRole`` as a mapping, which cannot be listed;
its ``RoleGranted`` and ``RoleRevoked`` events can. They are read from the
deployment's first block (in bounded ranges, ``Ledger.logs``) and replayed in
chain order; every account left holding a role is then checked with ``hasRole``,
so the answer is the chain's present word, not only the history's. Compute nodes
are read from the Authority's node registry (``Ledger.nodes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from kraken_market.ledger.client import ROLES, Ledger
from kraken_market.ledger.model import ChainEvent

ROLE_EVENTS = ("RoleGranted", "RoleRevoked")


@dataclass(frozen=True)
class RoleHolder:
    """An account holding ``role`` (``admin``, ``arbiter``, ``verifier``) since the
    block of the grant that gave it, by ``granted_by``."""

    role: str
    account: str
    since_block: int
    granted_by: str
    tx_hash: str

    def as_json(self) -> dict[str, object]:
        return {
            "account": self.account,
            "since_block": self.since_block,
            "granted_by": self.granted_by,
            "tx_hash": self.tx_hash,
        }


def role_events(ledger: Ledger) -> list[ChainEvent]:
    """The Authority's role events, in chain order."""
    authority = ledger.contracts["Authority"]
    logs = []
    for name in ROLE_EVENTS:
        topic = authority.events[name]().topic
        logs += ledger.logs({"address": authority.address, "topics": [topic]})
    events = ledger.decoder.decode_all(logs)
    return sorted(events, key=lambda event: (event.block_number, event.log_index))


def role_holders(ledger: Ledger) -> dict[str, list[RoleHolder]]:
    """Every account holding each role (by name, in the order they were granted)."""
    names = {bytes(value): name for name, value in ROLES.items()}
    holding: dict[tuple[str, str], ChainEvent] = {}
    for event in role_events(ledger):
        name = names.get(bytes(event.args["role"]))
        if name is None:  # a role the marketplace does not use
            continue
        key = (name, to_checksum_address(event.args["account"]))
        if event.name == "RoleGranted":
            holding.setdefault(key, event)  # a second grant while held changes nothing
        else:
            holding.pop(key, None)
    found: dict[str, list[RoleHolder]] = {name: [] for name in ROLES}
    for (name, account), event in holding.items():
        if ledger.has_role(name, account):
            found[name].append(
                RoleHolder(
                    role=name,
                    account=account,
                    since_block=event.block_number,
                    granted_by=to_checksum_address(event.args["sender"]),
                    tx_hash=event.tx_hash,
                )
            )
    return found
