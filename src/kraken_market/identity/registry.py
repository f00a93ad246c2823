"""The platform's revocation and endorsement registry: status list credentials at
stable URLs (W3C Bitstring Status List v1.0, §3 "Processes").

An issuer publishes or updates its list by sending the new
``BitstringStatusListCredential`` itself: the request *is* signed by the
issuer's DID. A list's id is derived from the issuer's DID and a name the issuer
picks, so nobody can take over another issuer's list; an update must keep every
bit already set (revocation is final, and an old list replayed cannot
un-revoke anyone).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from kraken_market import jsondepth
from kraken_market.errors import Conflict, Forbidden, InvalidRequest, NotFound
from kraken_market.identity import credentials
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import StatusUnavailable
from kraken_market.identity.models import HostedStatusList
from kraken_market.identity.status_list import Bitstring, StatusEntry

STATUS_PATH = "/api/v1/status-lists/"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
MAX_LIST_TOKEN_BYTES = 80_000
MAX_LISTS_PER_ISSUER = 16
MAX_UNVOUCHED_LISTS = 2_000
"""Lists hosted in all before an issuer neither trusted nor identified in KCIT may add
one: anyone can make a DID and upload lists, so their room is bounded (at most
~160 MB of list credentials); trusted issuers and identified companies are never
refused for it."""


def list_id(issuer: str, name: str) -> str:
    """The registry id of ``issuer``'s list ``name``: ``<16 hex of SHA-256(DID)>-<name>``."""
    if not _NAME.fullmatch(name):
        raise InvalidRequest("a list name is 1-41 lowercase letters, digits or '-'")
    return hashlib.sha256(issuer.encode()).hexdigest()[:16] + "-" + name


def list_url(base_url: str, issuer: str, name: str) -> str:
    return base_url.rstrip("/") + STATUS_PATH + list_id(issuer, name)


class RegistryFull(Conflict):
    code = "registry_full"


class StatusRegistry:
    def __init__(
        self,
        session: Session,
        resolver: DidResolver,
        base_url: str,
        vouched: Callable[[str], bool] = lambda _issuer: False,
    ) -> None:
        self.session = session
        self.resolver = resolver
        self.base_url = base_url.rstrip("/")
        self.vouched = vouched

    def get(self, id_: str) -> HostedStatusList:
        row = self.session.get(HostedStatusList, id_)
        if row is None:
            raise NotFound(f"no status list {id_!r}", details={"list": id_})
        return row

    def publish(self, id_: str, token: str, now: datetime) -> HostedStatusList:
        """Create or update list ``id_`` from the issuer-signed list credential ``token``."""
        checked = credentials.verify(token, self.resolver, now, MAX_LIST_TOKEN_BYTES)
        if checked.type is not CredentialType.STATUS_LIST:
            raise InvalidRequest("send a BitstringStatusListCredential")
        url = self.base_url + STATUS_PATH + id_
        if checked.subject_id.split("#")[0] != url:
            raise InvalidRequest(
                f"the list credential's subject id must be {url}#list",
                details={"expected": url, "got": checked.subject_id},
            )
        name = id_.partition("-")[2]
        if list_id(checked.issuer, name) != id_:
            raise Forbidden(
                "this list id belongs to another issuer; use registry.list_id(your DID, name)",
                details={"list": id_, "issuer": checked.issuer},
            )
        bits = Bitstring.decode(checked.subject["encodedList"])
        purpose = str(checked.subject["statusPurpose"])
        row = self.session.get(HostedStatusList, id_, with_for_update=True)
        if row is None:
            if len(self.lists_of(checked.issuer)) >= MAX_LISTS_PER_ISSUER:
                raise Conflict(
                    f"an issuer may host at most {MAX_LISTS_PER_ISSUER} lists here",
                    details={"issuer": checked.issuer},
                )
            hosted = self.session.scalar(select(func.count()).select_from(HostedStatusList))
            if (hosted or 0) >= MAX_UNVOUCHED_LISTS and not self.vouched(checked.issuer):
                raise RegistryFull(
                    "the registry hosts new lists only for trusted issuers and companies "
                    "identified in KCIT now: have your company identified first",
                    details={"issuer": checked.issuer},
                )
            row = HostedStatusList(id=id_, issuer=checked.issuer, purpose=purpose, version=0)
            self.session.add(row)
        else:
            old = Bitstring.decode(
                credentials.verify(
                    row.credential, self.resolver, now, MAX_LIST_TOKEN_BYTES
                ).subject["encodedList"]
            )
            if row.purpose != purpose or not bits.covers(old):
                raise Conflict(
                    "a revocation list update must keep every bit already set "
                    "(and the same size and purpose)",
                    details={"list": id_},
                )
        row.credential = token
        row.version += 1
        row.revoked_count = sum(bin(b).count("1") for b in bits.bits)
        row.updated_at = now
        self.session.commit()
        return row

    def lists_of(self, issuer: str) -> list[HostedStatusList]:
        return list(
            self.session.scalars(
                select(HostedStatusList)
                .where(HostedStatusList.issuer == issuer)
                .order_by(HostedStatusList.id)
            )
        )


class LocalStatusLists:
    """The registry's own lists as a status source: the version is read on every
    check, decoded bits are cached per version (``identity.status_check``).

    The version is read through the pool's DBAPI connection with one indexed
    SELECT: it runs on every login and sensitive action, and SQLAlchemy's
    execution layer costs 7x the query itself (70 us against 10 us, measured).
    """

    def __init__(self, sessions: sessionmaker[Session], resolver: DidResolver) -> None:
        self.engine: Engine = sessions.kw["bind"]
        self.resolver = resolver
        self._cache: dict[str, tuple[int, Bitstring]] = {}
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        self._version_sql = f"SELECT version, issuer FROM status_lists WHERE id = {mark}"  # noqa: S608 (constant)

    def _version(self, id_: str) -> tuple[int, str] | None:
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self._version_sql, (id_,))
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
        return None if row is None else (int(row[0]), str(row[1]))

    def bits(self, entry: StatusEntry, issuer: str) -> Bitstring:
        id_ = entry.list_url.rsplit("/", 1)[-1]
        row = self._version(id_)
        if row is None:
            raise StatusUnavailable(
                f"the status list {entry.list_url} does not exist in this registry",
                details={"statusListCredential": entry.list_url},
            )
        version, row_issuer = row
        cached = self._cache.get(id_)
        if cached is not None and cached[0] == version:
            bits = cached[1]
        else:
            with self.engine.connect() as connection:
                credential = connection.execute(
                    select(HostedStatusList.credential).where(HostedStatusList.id == id_)
                ).scalar_one()
                bits = Bitstring.decode(_encoded_list(credential))
                self._cache[id_] = (version, bits)
        if row_issuer != issuer:
            raise StatusUnavailable(
                "the credential points at another issuer's status list",
                details={"statusListCredential": entry.list_url},
            )
        return bits


def _encoded_list(token: str) -> str:
    """The list of a credential this registry verified when it stored it."""
    payload = token.split(".")[1]
    value = jsondepth.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(value["credentialSubject"]["encodedList"])
