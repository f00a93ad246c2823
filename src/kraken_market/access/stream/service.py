"""The embedded relay's logic: append frames, read them after a cursor, decide who reads.

No HTTP here (``routes`` is thin). Each method is one unit of work; a refused
frame changes nothing. The relay reads only the frame's clear header: it
checks the frame belongs to the product in the URL and follows the last
stored one, but it cannot authenticate it (it holds no key), so subscribers
still check every tag themselves (``subscriber``).

Who reads: the product's owner always; anyone else through the ledger
account bound to their DID (``identity.binding``), whose paid time
(``Market.paid_until``) must cover now. Frames sent after the paid time are
never served to that subscriber.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from kraken_market.access.stream.errors import (
    FrameTooLarge,
    FrameWrongProduct,
    NotAStream,
    StreamSequenceConflict,
    SubscriptionExpired,
    SubscriptionRequired,
)
from kraken_market.access.stream.messages import FrameHeader, parse_header
from kraken_market.access.stream.models import StreamFrame
from kraken_market.catalog.errors import NotProductOwner, ProductRetired
from kraken_market.catalog.models import Product
from kraken_market.catalog.service import ProductService
from kraken_market.catalog.vocabulary import AccessMode, Availability
from kraken_market.identity.models import DidBinding
from kraken_market.identity.principal import Principal
from kraken_market.settings import Settings
from kraken_market.trade.errors import BindingRequired


class PaidTime(Protocol):
    """What the relay needs of the ledger: ``Market.paid_until`` (a read, no key)."""

    def paid_until(self, buyer: str, item: bytes | str) -> int: ...


@dataclass(frozen=True)
class Retention:
    """How much the relay keeps per stream, and the largest frame it takes."""

    messages: int
    seconds: int
    max_frame_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        return cls(
            settings.stream_retention_messages,
            settings.stream_retention_seconds,
            settings.stream_max_frame_bytes,
        )


@dataclass(frozen=True)
class Position:
    first_seq: int | None
    last_seq: int | None
    last_epoch: int | None
    frames: int


def stream_product(session: Session, product_id: str) -> Product:
    product = ProductService(session).get(product_id)
    if product.access_mode != AccessMode.STREAM:
        raise NotAStream(
            f"the product is a {product.access_mode} product, not a stream",
            details={"access_mode": product.access_mode},
        )
    return product


def reader_account(session: Session, principal: Principal, product_id: str) -> str | None:
    """The ledger account whose paid time lets ``principal`` read (None: the owner)."""
    product = stream_product(session, product_id)
    if product.owner == principal.account:
        return None
    binding = session.get(DidBinding, principal.did)
    if binding is None:
        raise BindingRequired(
            "bind your DID to your ledger account first: 'kraken-market wallet bind'",
            details={"did": principal.did},
        )
    return binding.account


def paid_until(paid: PaidTime, account: str, product_id: str, now: float) -> int:
    """``account``'s paid time for the product, which must cover ``now`` (unix seconds)."""
    until = paid.paid_until(account, product_id)
    if until == 0:
        raise SubscriptionRequired(
            "subscribe on chain first: no paid time for this stream",
            details={"account": account},
        )
    if until <= now:
        raise SubscriptionExpired(
            f"your paid time for this stream ended at {until}",
            details={"account": account, "paid_until": until},
        )
    return until


class StreamRelay:
    def __init__(self, session: Session, retention: Retention) -> None:
        self.session = session
        self.retention = retention

    def append(
        self, principal: Principal, product_id: str, frame: bytes, now: datetime
    ) -> FrameHeader:
        """Store ``frame`` (the owner's), then drop what falls outside the retention."""
        product = stream_product(self.session, product_id)
        if product.owner != principal.account:
            raise NotProductOwner(
                "only the product's owner may publish to its stream", details={"id": product.id}
            )
        if product.availability == Availability.RETIRED:
            raise ProductRetired("the product is retired", details={"id": product.id})
        limit = self.retention.max_frame_bytes
        if len(frame) > limit:
            raise FrameTooLarge(
                f"a frame is at most {limit} bytes", details={"bytes": len(frame), "limit": limit}
            )
        header = parse_header(frame)
        if "0x" + header.product.hex() != product.id:
            raise FrameWrongProduct("the frame names another product than the URL")
        last = self.session.scalar(
            select(func.max(StreamFrame.seq)).where(StreamFrame.product_id == product.id)
        )
        if last is not None and header.seq <= last:
            raise StreamSequenceConflict(
                f"frame {header.seq} does not follow frame {last}",
                details={"seq": header.seq, "last_seq": last},
            )
        self.session.add(
            StreamFrame(
                product_id=product.id,
                seq=header.seq,
                epoch=header.epoch,
                sent_at_ms=header.timestamp_ms,
                stored_at=now,
                frame=frame,
            )
        )
        try:
            self.session.flush()
        except IntegrityError as exc:  # a concurrent append took this seq first
            self.session.rollback()
            raise StreamSequenceConflict(
                f"frame {header.seq} is already stored", details={"seq": header.seq}
            ) from exc
        self._prune(product.id, header.seq, now)
        self.session.commit()
        return header

    def _prune(self, product_id: str, newest: int, now: datetime) -> None:
        """Keep the stream's frames within ``messages`` sequence numbers of the newest (at
        most that many; an index range delete) and, over all streams, none older than
        ``seconds``, except each stream's newest (publishers continue after it)."""
        self.session.execute(
            delete(StreamFrame).where(
                StreamFrame.product_id == product_id,
                StreamFrame.seq <= newest - self.retention.messages,
            )
        )
        newer = aliased(StreamFrame)
        self.session.execute(
            delete(StreamFrame).where(
                StreamFrame.stored_at < self._cutoff(now),
                StreamFrame.seq
                < select(func.max(newer.seq))
                .where(newer.product_id == StreamFrame.product_id)
                .scalar_subquery(),
            )
        )

    def _cutoff(self, now: datetime) -> datetime:
        return now - timedelta(seconds=self.retention.seconds)

    def frames(
        self,
        product_id: str,
        *,
        after: int,
        since_ms: int | None,
        until_ms: int | None,
        limit: int,
        now: datetime,
    ) -> list[tuple[int, bytes]]:
        """Up to ``limit`` (seq, frame) after seq ``after`` (sent at or after ``since_ms``,
        at or before ``until_ms``), oldest first, within the retention."""
        query = select(StreamFrame.seq, StreamFrame.frame).where(
            StreamFrame.product_id == product_id.lower(),
            StreamFrame.seq > after,
            StreamFrame.stored_at >= self._cutoff(now),
        )
        if since_ms is not None:
            query = query.where(StreamFrame.sent_at_ms >= since_ms)
        if until_ms is not None:
            query = query.where(StreamFrame.sent_at_ms <= until_ms)
        rows = self.session.execute(query.order_by(StreamFrame.seq).limit(limit))
        return [(seq, frame) for seq, frame in rows]

    def position(self, product_id: str) -> Position:
        row = self.session.execute(
            select(func.min(StreamFrame.seq), func.max(StreamFrame.seq), func.count()).where(
                StreamFrame.product_id == product_id.lower()
            )
        ).one()
        first, last, count = row
        epoch = None
        if last is not None:
            epoch = self.session.scalar(
                select(StreamFrame.epoch).where(
                    StreamFrame.product_id == product_id.lower(), StreamFrame.seq == last
                )
            )
        return Position(first, last, epoch, int(count))
