"""An issuer of credentials with its own revocation list: the demo identity issuer
(``kraken-market issuer``) and every company's Depute tool use it.

The issuer's Ed25519 key and its list state live in a directory of its own
(``key`` and ``state.json``, mode 0600). Status indexes are drawn at random
among the free ones (Bitstring Status List §6.4 "Herd privacy": sequential
indexes would tell a verifier the order and number of issued credentials).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kraken_market.db.base import utcnow
from kraken_market.errors import Conflict, NotFound
from kraken_market.files import read_private, write_private
from kraken_market.identity import credentials
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.keys import DidKey
from kraken_market.identity.registry import list_url
from kraken_market.identity.status_list import MIN_ENTRIES, REVOCATION, Bitstring, StatusEntry

LIST_NAME = "revocation"


@dataclass
class IssuedRecord:
    id: str
    type: str
    subject: str
    index: int
    issued_at: str
    valid_until: str | None
    revoked_at: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Issuer:
    """A DID key that issues credentials and keeps their revocation list."""

    def __init__(self, directory: Path, key: DidKey, records: list[IssuedRecord]) -> None:
        self.directory = directory
        self.key = key
        self.records = {r.id: r for r in records}

    @property
    def did(self) -> str:
        return self.key.did

    @classmethod
    def create(cls, directory: Path, key: DidKey | None = None) -> Issuer:
        """A new issuer in ``directory`` with ``key`` (a fresh one if None)."""
        key = key or DidKey.generate()
        write_private(directory / "key", key.seed.hex() + "\n")
        issuer = cls(directory, key, [])
        issuer._save()
        return issuer

    @classmethod
    def open(cls, directory: Path, *, create: bool = True) -> Issuer:
        """The issuer kept in ``directory``; a new key is made there if ``create``."""
        key_file = directory / "key"
        if not key_file.exists():
            if not create:
                raise NotFound(f"no issuer in {directory}")
            return cls.create(directory)
        key = DidKey.from_seed(bytes.fromhex(read_private(key_file).strip()))
        state = json.loads(read_private(directory / "state.json"))
        return cls(directory, key, [IssuedRecord(**r) for r in state["issued"]])

    @classmethod
    @contextmanager
    def locked(cls, directory: Path) -> Iterator[Issuer]:
        """The issuer as it is on disk now, held exclusively until the block ends: the
        API's workers and the command line issue from the same directory, and each must
        see the others' records (or a status index could be drawn twice, and a record
        written by one lost by the other's save)."""
        directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield cls.open(directory)
        finally:
            os.close(descriptor)  # releases the lock

    def _save(self) -> None:
        state = {"did": self.did, "issued": [vars(r) for r in self.records.values()]}
        write_private(self.directory / "state.json", json.dumps(state, indent=1) + "\n")

    def status_list_url(self, registry_url: str) -> str:
        return list_url(registry_url, self.did, LIST_NAME)

    def _free_index(self) -> int:
        used = {r.index for r in self.records.values()}
        if len(used) >= MIN_ENTRIES // 2:
            raise Conflict("this issuer's status list is half full; start a new list")
        while True:
            index = secrets.randbelow(MIN_ENTRIES)
            if index not in used:
                return index

    def issue(
        self,
        type_: CredentialType,
        subject: dict[str, Any],
        *,
        registry_url: str,
        valid_for: timedelta | None = timedelta(days=365),
        valid_from: datetime | None = None,
        details: dict[str, Any] | None = None,
    ) -> str:
        """Sign a credential with a fresh status entry on this issuer's list."""
        now = valid_from or utcnow()
        until = now + valid_for if valid_for else None
        index = self._free_index()
        credential_id = f"urn:uuid:{uuid.uuid4()}"
        token = credentials.issue(
            self.key,
            type_,
            subject,
            valid_from=now,
            valid_until=until,
            status=StatusEntry(self.status_list_url(registry_url), index),
            credential_id=credential_id,
        )
        self.records[credential_id] = IssuedRecord(
            id=credential_id,
            type=type_.value,
            subject=str(subject["id"]),
            index=index,
            issued_at=credentials.timestamp(now),
            valid_until=credentials.timestamp(until) if until else None,
            details=details or {},
        )
        self._save()
        return token

    def revoke(self, credential_id: str) -> IssuedRecord:
        record = self.records.get(credential_id)
        if record is None:
            raise NotFound(f"this issuer issued no credential {credential_id!r}")
        if record.revoked_at is None:
            record.revoked_at = credentials.timestamp(utcnow())
            self._save()
        return record

    def bitstring(self) -> Bitstring:
        bits = Bitstring()
        for record in self.records.values():
            if record.revoked_at is not None:
                bits.set(record.index)
        return bits

    def status_list_credential(self, registry_url: str) -> str:
        """The signed list to publish (``PUT`` it to the registry URL it names)."""
        url = self.status_list_url(registry_url)
        return credentials.issue(
            self.key,
            CredentialType.STATUS_LIST,
            {
                "id": f"{url}#list",
                "type": "BitstringStatusList",
                "statusPurpose": REVOCATION,
                "encodedList": self.bitstring().encode(),
            },
            valid_from=utcnow(),
            credential_id=url,
        )
