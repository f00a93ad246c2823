"""Fulfilment driven by the payment notifications the indexer hands on.

:class:`Fulfilment` subscribes to the indexer (in the process that runs it:
``kraken-market ledger index --follow``, which ``up`` starts). On
``ComputationRequested`` it forwards the job the buyer left with the backend
(:class:`~kraken_market.trade.computations.ComputationService`). Delivery is
at least once and forwarding is claimed by a conditional update, so a
redelivered event forwards nothing twice; :meth:`Fulfilment.catch_up` (at
start, then periodically) forwards what a crash left behind.

Batch and stream purchases need no backend action: the compute nodes read the
purchase on chain themselves when the buyer asks them for key shares
(:mod:`kraken_market.access`). The seller need not be online.
"""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from kraken_market.ledger.indexer import IndexedEvent
from kraken_market.logs import get_logger
from kraken_market.trade.computations import ComputationService, Forwarder

log = get_logger("kraken_market.trade.fulfilment")


class Fulfilment:
    EVENTS = ("ComputationRequested",)

    def __init__(self, sessions: sessionmaker, forwarder: Forwarder) -> None:  # type: ignore[type-arg]
        self.sessions, self.forwarder = sessions, forwarder

    def __call__(self, event: IndexedEvent) -> None:
        if event.name != "ComputationRequested":
            return
        request_id = "0x" + bytes(event.args["request_id"]).hex()
        with self.sessions() as session:
            record = ComputationService(session, self.forwarder).on_payment(
                request_id, str(event.args["buyer"])
            )
        if record is not None:
            log.info("computation_forwarded", request_id=request_id, state=record.state)

    def catch_up(self) -> int:
        with self.sessions() as session:
            count = ComputationService(session, self.forwarder).catch_up()
        if count:
            log.info("computations_caught_up", count=count)
        return count
