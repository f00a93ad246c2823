"""Status lists of other registries: verified, for the right URL, never rolled back."""

from __future__ import annotations

from pathlib import Path

import pytest

from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import StatusUnavailable
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.status_check import RemoteStatusLists
from kraken_market.identity.status_list import StatusEntry

REGISTRY = "https://registry.example"


def test_a_replayed_older_list_cannot_unrevoke(tmp_path: Path) -> None:
    issuer = Issuer.create(tmp_path / "issuer")
    token = issuer.issue(
        CredentialType.PERSON, {"id": issuer.did, "name": "A"}, registry_url=REGISTRY
    )
    del token
    record = next(iter(issuer.records.values()))
    entry = StatusEntry(issuer.status_list_url(REGISTRY), record.index)
    before = issuer.status_list_credential(REGISTRY)
    issuer.revoke(record.id)
    after = issuer.status_list_credential(REGISTRY)
    served = [after]
    remote = RemoteStatusLists(lambda url: served[0].encode(), DidResolver(), max_age=0)
    assert remote.bits(entry, issuer.did).get(record.index)
    served[0] = before  # whoever serves the URL replays the list from before the revocation
    with pytest.raises(StatusUnavailable, match="clears revocations"):
        remote.bits(entry, issuer.did)


def test_a_list_for_another_url_or_issuer_is_refused(tmp_path: Path) -> None:
    issuer = Issuer.create(tmp_path / "issuer")
    other = Issuer.create(tmp_path / "other")
    entry = StatusEntry(issuer.status_list_url(REGISTRY), 1)
    elsewhere = issuer.status_list_credential("https://elsewhere.example")
    for served in (elsewhere, other.status_list_credential(REGISTRY)):
        body = served.encode()

        def fetch(url: str, body: bytes = body) -> bytes:
            return body

        with pytest.raises(StatusUnavailable):
            RemoteStatusLists(fetch, DidResolver(), max_age=0).bits(entry, issuer.did)
    broken = RemoteStatusLists(lambda url: b"not a token", DidResolver(), max_age=0)
    with pytest.raises(StatusUnavailable):
        broken.bits(entry, issuer.did)
