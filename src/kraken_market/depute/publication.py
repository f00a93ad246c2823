"""Publishing the company's revocation list to the marketplace's registry.

A revocation is final the moment it is recorded here (the issuer's list state
and the database); it takes effect at the marketplace once the re-signed list
(W3C Bitstring Status List, the whole list each time) has been PUT to the
registry. When the registry cannot be reached the revocation stays recorded
as *pending publication* (``ListState.pending_since``); every later action of
the representative retries (at most once per ``retry_interval``, so a
marketplace outage does not slow every page down), as does an explicit
``POST /api/revocations/publish``. Nothing is dropped: only a successful PUT
clears the pending state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from kraken_market.db.engine import write_session
from kraken_market.depute.errors import MarketplaceRefused, MarketplaceUnavailable
from kraken_market.depute.marketplace import Marketplace
from kraken_market.depute.models import Authorisation, ListState
from kraken_market.identity import credentials
from kraken_market.identity.issuer import Issuer

PUBLISHED: Literal["published"] = "published"
PENDING: Literal["pending"] = "pending"


@dataclass(frozen=True)
class Publication:
    """Where the registry's copy of the list stands after an attempt."""

    status: Literal["published", "pending"]
    list_url: str
    published_at: datetime | None
    pending_since: datetime | None
    last_attempt_at: datetime | None
    last_error: dict[str, Any] | None

    @property
    def message(self) -> str:
        if self.status == PUBLISHED:
            return "the marketplace's registry has the current revocation list"
        reason = (self.last_error or {}).get("message", "not attempted yet")
        return (
            "pending publication: the revocation is recorded here but the marketplace's "
            f"registry has not received it yet ({reason}); it is retried at the next action "
            "or with POST /api/revocations/publish"
        )


class Publisher:
    def __init__(
        self,
        issuer: Issuer,
        marketplace: Marketplace,
        sessions: sessionmaker[Session],
        lock: threading.RLock,
        *,
        retry_interval: timedelta,
        now: Callable[[], datetime],
    ) -> None:
        self.issuer = issuer
        self.marketplace = marketplace
        self.sessions = sessions
        self.lock = lock
        self.retry_interval = retry_interval
        self.now = now
        self.list_url = issuer.status_list_url(marketplace.registry_url)

    def _view(self, state: ListState) -> Publication:
        return Publication(
            status=PENDING if state.pending_since is not None else PUBLISHED,
            list_url=self.list_url,
            published_at=state.published_at,
            pending_since=state.pending_since,
            last_attempt_at=state.last_attempt_at,
            last_error=state.last_error,
        )

    def current(self) -> Publication:
        with self.sessions() as session:
            return self._view(session.get_one(ListState, 1))

    def publish(self, *, force: bool = True) -> Publication:
        """PUT the list if anything is pending; ``force=False`` respects the retry interval.

        Holds the issuer's lock throughout, so the list sent contains every
        revocation recorded up to now and none is marked published unsent.
        """
        seen = self.current()
        if seen.status == PUBLISHED:
            return seen  # the usual case, without taking the write lock
        with self.lock, write_session(self.sessions) as session:
            state = session.get_one(ListState, 1)
            now = self.now()
            recent = state.last_attempt_at is not None and (
                now - state.last_attempt_at < self.retry_interval
            )
            if state.pending_since is None or (recent and not force):
                return self._view(state)
            state.last_attempt_at = now
            try:
                self.marketplace.publish_list(
                    self.list_url, self.issuer.status_list_credential(self.marketplace.registry_url)
                )
            except (MarketplaceUnavailable, MarketplaceRefused) as exc:
                state.last_error = exc.to_dict()
                session.commit()
                return self._view(state)
            state.pending_since, state.last_error, state.published_at = None, None, now
            state.version += 1
            session.execute(
                update(Authorisation)
                .where(
                    Authorisation.revoked_at.is_not(None),
                    Authorisation.revocation_published_at.is_(None),
                )
                .values(revocation_published_at=now)
            )
            session.commit()
            return self._view(state)

    def mark_pending(self, session: Session, now: datetime) -> None:
        state = session.get_one(ListState, 1)
        if state.pending_since is None:
            state.pending_since = now

    def reconcile(self) -> None:
        """Revocations the issuer recorded but the database missed (a crash between the
        two writes: the issuer's state is written first) are recorded and made pending."""
        with self.lock, write_session(self.sessions) as session:
            changed = False
            for record in self.issuer.records.values():
                row = session.get(Authorisation, record.id)
                if row is not None and row.revoked_at is None and record.revoked_at is not None:
                    row.revoked_at = credentials.parse_time(record.revoked_at)
                    self.mark_pending(session, self.now())
                    changed = True
            if changed:
                session.commit()
