"""The relay's table: stream frames as the publisher sent them (ciphertext only).

One row per frame, keyed by (product, seq), so a read after a cursor is an
index range scan and a second frame with the same seq is refused by the
primary key even between concurrent writers. ``frame`` holds the whole frame
(clear header + AES-GCM ciphertext); ``epoch`` and ``sent_at_ms`` repeat
header fields for queries. The backend never holds an epoch key, so it
cannot read what it stores (ARCHITECTURE: "an intermediary with no rights to
data"). Retention is bounded (``service.Retention``). No foreign key to
``products``: a frame is a cache of ciphertext, and products are never
deleted (only retired).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from kraken_market.db.base import Base, UtcDateTime


class StreamFrame(Base):
    __tablename__ = "stream_frames"

    product_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(BigInteger)
    sent_at_ms: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    frame: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_stream_frames_product_sent", "product_id", "sent_at_ms"),)
