"""Checking a credential's status bit, failing closed.

Two sources: the platform's own registry, read from its database on every
check (the list's version is compared, the decoded bits are cached per
version), so the marketplace sees a revocation at once; and remote registries,
fetched over HTTP(S), verified (signed by the credential's issuer) and cached
for at most ``max_age`` seconds. Anything that cannot be read or verified is
``StatusUnavailable``: a credential whose status is unknown is not accepted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from kraken_market.identity import credentials
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import CredentialRevoked, StatusUnavailable
from kraken_market.identity.status_list import Bitstring, StatusEntry


class StatusSource(Protocol):
    def bits(self, entry: StatusEntry, issuer: str) -> Bitstring:
        """The current bits of the list ``entry`` points at, published by ``issuer``."""
        ...


class StatusChecker:
    def __init__(self, local: StatusSource, remote: StatusSource, local_prefix: str) -> None:
        self.local = local
        self.remote = remote
        self.local_prefix = local_prefix

    def check(self, entry: StatusEntry, issuer: str, what: str = "credential") -> None:
        source = self.local if entry.list_url.startswith(self.local_prefix) else self.remote
        if source.bits(entry, issuer).get(entry.index):
            raise CredentialRevoked(
                f"the {what} has been revoked by its issuer ({issuer})",
                details={"issuer": issuer, "statusListCredential": entry.list_url},
            )


class RemoteStatusLists:
    """Status lists of other registries: GET, verify, cache for ``max_age`` seconds."""

    def __init__(
        self,
        fetch: Callable[[str], bytes],
        resolver: DidResolver,
        max_age: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._resolver = resolver
        self._max_age = max_age
        self._clock = clock
        self._cache: dict[str, tuple[float, str, Bitstring]] = {}
        self._highest: dict[str, Bitstring] = {}  # the most revoked list seen per URL

    def bits(self, entry: StatusEntry, issuer: str) -> Bitstring:
        now = self._clock()
        cached = self._cache.get(entry.list_url)
        if cached is not None and now - cached[0] < self._max_age and cached[1] == issuer:
            return cached[2]
        try:
            token = self._fetch(entry.list_url).decode().strip()
            listed = credentials.verify(token, self._resolver, datetime.now(UTC), 80_000)
            if listed.type is not CredentialType.STATUS_LIST or listed.issuer != issuer:
                raise ValueError("not a status list credential of the credential's issuer")
            if listed.subject_id.split("#")[0] != entry.list_url:
                raise ValueError("the list credential is for another URL")
            bits = Bitstring.decode(listed.subject["encodedList"])
        except Exception as exc:
            raise StatusUnavailable(
                f"the status list {entry.list_url} cannot be read or verified "
                f"({type(exc).__name__}); refusing the credential until it can",
                details={"statusListCredential": entry.list_url},
            ) from exc
        seen = self._highest.get(entry.list_url)
        if seen is not None and not bits.covers(seen):
            # An older list replayed (by whoever serves the URL) would un-revoke:
            # revocation is final, so a list that clears a seen bit is refused.
            raise StatusUnavailable(
                f"the status list {entry.list_url} clears revocations seen before; refusing it",
                details={"statusListCredential": entry.list_url},
            )
        self._highest[entry.list_url] = bits
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[entry.list_url] = (now, issuer, bits)
        return bits
