"""The platform's storage for ciphertext: who may write and read which object. Runs in the API.

Writing: a product's owner (or an attorney acting for the owning company, with
``publish`` in scope) uploads objects named ``<product id>/…``, of the kinds
its access mode stores (``formats``). Every byte passes :class:`ObjectCheck`
on its way to a staged copy; only a whole object that passed is committed
under its name, and never over another (``backends``). The same bytes again
are an idempotent success; other bytes under a taken name are
``object_exists``. A manifest must also be signed by the product owner's DID
(``smpc.manifest.verify_manifest``, as the nodes check it) and name share files
already stored with exactly the committed sizes and SHA-256s, so a share set
that the nodes would refuse is refused now, before anyone pays for it.

Two ways in, one flow for clients: ask where to upload (``target``), send
the bytes there, and, for a presigned S3 URL, ``complete``. With a directory
the answer is the API's own ``PUT /objects/{name}``, checked as it streams in;
with S3 it is a presigned PUT of the staged copy (size and SHA-256 signed into
it), checked by ``complete`` before it is committed.

Reading: the compute nodes read the storage itself (see ``docs/storage.md``);
through the API, a product's owner reads its objects, and a buyer reads a
batch product's data file after naming a purchase that the chain records for
the account bound to their DID. Share files and manifests are for the nodes
only. Nothing here logs an object's bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy.orm import Session

from kraken_market.access.errors import PurchaseMismatch, PurchaseUnknown
from kraken_market.catalog.errors import NotProductOwner, ProductRetired
from kraken_market.catalog.ids import is_id
from kraken_market.catalog.service import ProductService
from kraken_market.catalog.vocabulary import AccessMode, Availability
from kraken_market.identity.models import DidBinding
from kraken_market.identity.principal import Principal
from kraken_market.ledger.model import PurchaseKind, PurchaseRecord
from kraken_market.settings import Settings
from kraken_market.smpc.errors import (
    ManifestInvalid,
    ManifestMismatch,
    ObjectNameInvalid,
    ObjectNotFound,
)
from kraken_market.smpc.manifest import verify_manifest
from kraken_market.storage.backends import ObjectStore, Staged
from kraken_market.storage.errors import (
    ManifestSharesMissing,
    ObjectChecksumMismatch,
    ObjectExists,
    ObjectIncomplete,
    ObjectNotReadable,
    ObjectTooLarge,
    UploadNotFound,
)
from kraken_market.storage.formats import ObjectCheck, ObjectKind, check_mode, object_kind
from kraken_market.trade.errors import BindingRequired

if TYPE_CHECKING:
    from kraken_market.ledger.client import Ledger

READ_BLOCK = 1 << 20


class Purchases(Protocol):
    """The chain reads a buyer's download needs (``LedgerPurchases`` has them)."""

    def purchase(self, purchase_id: int) -> PurchaseRecord | None: ...

    def members(self, item: bytes) -> list[bytes] | None: ...


@dataclass(frozen=True)
class Placement:
    """Where an upload goes and what it must be, decided before any byte is read."""

    name: str
    kind: ObjectKind
    product_id: str
    owner: str

    @property
    def product(self) -> bytes:
        return bytes.fromhex(self.product_id[2:])


@dataclass(frozen=True)
class StoredObject:
    name: str
    kind: ObjectKind
    size: int
    sha256: str
    created: bool


@dataclass(frozen=True)
class UploadTarget:
    """Where to send an object's bytes: nowhere (``stored``: those bytes are there
    already), the API itself (``credentials="session"``, no ``url``: the routes name
    their own), or a presigned URL (without the session; then ``complete`` the
    ``upload_id``)."""

    name: str
    state: Literal["upload", "stored"]
    method: Literal["PUT"] | None = None
    url: str | None = None
    headers: dict[str, str] | None = None
    credentials: Literal["session", "none"] | None = None
    expires_at: datetime | None = None
    upload_id: str | None = None


class StorageService:
    def __init__(
        self,
        store: ObjectStore,
        purchases: Purchases,
        *,
        max_object_bytes: int,
        upload_seconds: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.purchases = store, purchases
        self.max_object_bytes, self.upload_seconds = max_object_bytes, upload_seconds
        self.clock = clock

    # -- writing --------------------------------------------------------------------------

    def place(self, session: Session, principal: Principal, name: str) -> Placement:
        """Where ``name`` goes, if ``principal`` may write it (owner, live product,
        a kind its access mode stores)."""
        product = ProductService(session).get(_product_of(name))
        kind = object_kind(product.id, name)
        if product.owner != principal.account:
            raise NotProductOwner(
                "only the product's owner (or an attorney acting for the owning company) "
                "uploads its objects",
                details={"id": product.id},
            )
        if product.availability == Availability.RETIRED:
            raise ProductRetired("the product is retired: nothing more is stored for it")
        check_mode(kind, AccessMode(product.access_mode))
        return Placement(name, kind, product.id, product.owner)

    def target(self, placement: Placement, size: int, sha256: str) -> UploadTarget:
        """Where the client sends ``size`` bytes whose SHA-256 is ``sha256``."""
        self._check_size(size)
        if self._already(placement.name, sha256):
            return UploadTarget(placement.name, "stored")
        staged = self.store.stage(placement.name)
        presigned = self.store.presigned_put(staged, size, sha256, self.upload_seconds)
        if presigned is None:
            return UploadTarget(
                placement.name,
                "upload",
                method="PUT",
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                credentials="session",
            )
        return UploadTarget(
            placement.name,
            "upload",
            method="PUT",
            url=presigned.url,
            headers=presigned.headers,
            credentials="none",
            expires_at=self.clock() + timedelta(seconds=self.upload_seconds),
            upload_id=staged.upload_id,
        )

    def receive(self, placement: Placement, declared: int | None) -> Receiver:
        """A receiver for the bytes of a direct upload (``PUT /objects/{name}``)."""
        if declared is not None:
            self._check_size(declared)
        return Receiver(self, placement, declared)

    def complete(
        self, placement: Placement, upload_id: str, size: int, sha256: str
    ) -> StoredObject:
        """Check the object a client PUT to its presigned URL and commit it."""
        self._check_size(size)
        staged = self.store.stage(placement.name, _upload_id(upload_id))
        staged_size = self.store.size(staged.name)
        if staged_size is None:
            if self._already(placement.name, sha256):  # completed before: idempotent
                return StoredObject(placement.name, placement.kind, size, sha256, created=False)
            raise UploadNotFound(
                f"nothing was uploaded as {upload_id} for {placement.name} (or it expired): "
                "ask for an upload target again (POST /api/v1/uploads)"
            )
        try:
            check = ObjectCheck(placement.kind, placement.product, self.max_object_bytes)
            with self.store.open(staged.name) as source:
                while block := source.read(READ_BLOCK):
                    check.feed(block)
            return self.finish(placement, staged, check, size, sha256)
        finally:
            self.store.discard(staged)

    def finish(
        self,
        placement: Placement,
        staged: Staged,
        check: ObjectCheck,
        declared: int | None,
        sha256: str | None = None,
    ) -> StoredObject:
        """Commit a staged object once ``check`` has seen all of it."""
        if declared is not None and check.size != declared:
            raise ObjectIncomplete(
                f"{check.size} bytes arrived, {declared} were announced: send the whole object",
                details={"received": check.size, "declared": declared},
            )
        digest = check.finish()
        if sha256 is not None and digest != sha256:
            raise ObjectChecksumMismatch(
                "the bytes uploaded are not the ones announced (SHA-256 differs): upload again",
                details={"sha256": digest},
            )
        if placement.kind == ObjectKind.MANIFEST:
            self._check_manifest(placement, check.manifest)
        created = self.store.commit(staged, placement.name, digest)
        if not created and not self._already(placement.name, digest):
            raise _exists(placement.name)
        return StoredObject(placement.name, placement.kind, check.size, digest, created)

    def _already(self, name: str, sha256: str) -> bool:
        """True if ``name`` holds these bytes; ``object_exists`` if it holds others."""
        stored = self.store.sha256(name)
        if stored is None:
            return False
        if stored != sha256.lower():
            raise _exists(name)
        return True

    def _check_size(self, size: int) -> None:
        if size > self.max_object_bytes:
            raise ObjectTooLarge(
                f"objects are limited to {self.max_object_bytes} bytes here, this one has {size}",
                details={"limit": self.max_object_bytes, "size": size},
            )

    def _check_manifest(self, placement: Placement, token: bytes) -> None:
        manifest = verify_manifest(token, placement.owner, placement.product_id)
        missing = []
        for entry in manifest.files:
            try:
                kind = object_kind(placement.product_id, entry.name)
            except (ObjectNameInvalid, ValueError) as exc:
                raise ManifestInvalid(f"the manifest names {entry.name[:200]!r}: {exc}") from exc
            if kind != ObjectKind.SHARE_FILE:
                raise ManifestInvalid(f"the manifest names {entry.name!r}, not a share file")
            size = self.store.size(entry.name)
            if size is None:
                missing.append(entry.name)
            elif size != entry.size or self.store.sha256(entry.name) != entry.sha256:
                raise ManifestMismatch(
                    f"{entry.name} is stored with another size or SHA-256 than the manifest "
                    "commits to: share the data again (a new share set)",
                    details={"name": entry.name},
                )
        if missing:
            raise ManifestSharesMissing(
                "upload the share files the manifest names first, then the manifest",
                details={"missing": missing},
            )

    # -- reading --------------------------------------------------------------------------

    def readable(
        self, session: Session, principal: Principal, name: str, purchase_id: int | None
    ) -> int:
        """The object's size, if ``principal`` may read it (see the module docstring)."""
        product = ProductService(session).get(_product_of(name))
        kind = object_kind(product.id, name)
        if product.owner != principal.account:
            if kind != ObjectKind.DATA_FILE:
                raise ObjectNotReadable(
                    "share files and manifests are read by the compute nodes only",
                    details={"name": name},
                )
            self._check_purchase(session, principal, product.id, purchase_id)
        size = self.store.size(name)
        if size is None:
            raise ObjectNotFound(f"no object {name}", details={"name": name})
        return size

    def _check_purchase(
        self, session: Session, principal: Principal, product_id: str, purchase_id: int | None
    ) -> None:
        if purchase_id is None:
            raise ObjectNotReadable(
                "name your purchase of this product (?purchase=N; 'kraken-market trade buy' "
                "prints it): only its buyer reads the file",
                details={"product": product_id},
            )
        accounts = {
            binding.account.lower()
            for did in {principal.did, principal.account}
            if did and (binding := session.get(DidBinding, did)) is not None
        }
        if not accounts:
            raise BindingRequired(
                "bind your DID to the ledger account you bought with: 'kraken-market wallet bind'",
                details={"did": principal.did},
            )
        record = self.purchases.purchase(purchase_id)
        if record is None:
            raise PurchaseUnknown(f"no purchase {purchase_id} on chain")
        if record.buyer.lower() not in accounts:
            raise PurchaseMismatch(f"purchase {purchase_id} was made by another account")
        if record.kind != PurchaseKind.ACCESS:
            raise PurchaseMismatch(
                f"purchase {purchase_id} is a {record.kind.name.lower()}, not an access purchase"
            )
        item = bytes.fromhex(product_id[2:])
        if not any(i == item or item in (self.purchases.members(i) or []) for i in record.items):
            raise PurchaseMismatch(
                f"purchase {purchase_id} does not cover {product_id} (nor a union of it)"
            )


class Receiver:
    """The bytes of one direct upload, checked and staged as they arrive (one thread at a
    time: the route hands it each block from the thread pool)."""

    def __init__(self, service: StorageService, placement: Placement, declared: int | None) -> None:
        self.service, self.placement, self.declared = service, placement, declared
        self.check = ObjectCheck(placement.kind, placement.product, service.max_object_bytes)
        self.staged = service.store.stage(placement.name)
        self._writer = service.store.writer(self.staged)
        self._sink = self._writer.__enter__()
        self._open = True

    def write(self, block: bytes) -> None:
        self.check.feed(block)
        if self.declared is not None and self.check.size > self.declared:
            raise ObjectIncomplete(f"more than the {self.declared} bytes announced arrived")
        self._sink.write(block)

    def finish(self) -> StoredObject:
        self._close(None)
        return self.service.finish(self.placement, self.staged, self.check, self.declared)

    def discard(self) -> None:
        """Drop the staged copy (always called last; after ``finish`` it was linked)."""
        if self._open:
            self._close(RuntimeError("upload abandoned"))
        self.service.store.discard(self.staged)

    def _close(self, error: BaseException | None) -> None:
        self._open = False
        if error is None:
            self._writer.__exit__(None, None, None)
        else:
            self._writer.__exit__(type(error), error, error.__traceback__)


class LedgerPurchases:
    """:class:`Purchases` from the chain the settings name (read-only; web3 imported on
    first use). Purchases and unions never change once on chain, so each is read once."""

    MAX_CACHED = 100_000

    def __init__(self, ledger: Callable[[], Ledger]) -> None:
        self._ledger = ledger
        self._purchases: dict[int, PurchaseRecord] = {}
        self._members: dict[bytes, list[bytes] | None] = {}
        self._lock = threading.Lock()

    def purchase(self, purchase_id: int) -> PurchaseRecord | None:
        with self._lock:
            known = self._purchases.get(purchase_id)
        if known is not None:
            return known
        record = self._ledger().purchase(purchase_id)
        if record is not None:
            with self._lock:
                if len(self._purchases) >= self.MAX_CACHED:
                    self._purchases.clear()
                self._purchases[purchase_id] = record
        return record

    def members(self, item: bytes) -> list[bytes] | None:
        with self._lock:
            if item in self._members:
                return self._members[item]
        union = self._ledger().union(item)
        members = None if union is None else list(union["members"])
        with self._lock:
            if len(self._members) >= self.MAX_CACHED:
                self._members.clear()
            self._members[item] = members
        return members


def _product_of(name: str) -> str:
    product = name.split("/", 1)[0]
    if not is_id(product):
        raise ObjectNameInvalid(
            f"an object's name starts with its product's id (0x + 64 hex digits): {name[:200]!r}",
            details={"name": name[:200]},
        )
    return product.lower()


def _upload_id(upload_id: str) -> str:
    if len(upload_id) != 32 or any(c not in "0123456789abcdef" for c in upload_id):
        raise UploadNotFound(f"{upload_id[:80]!r} is not an upload id this API gave")
    return upload_id


def _exists(name: str) -> ObjectExists:
    return ObjectExists(
        f"{name} is stored already with other bytes; objects never change: upload under "
        "a new name (a new share set, or another key id for a file)",
        details={"name": name},
    )


def storage_from_settings(settings: Settings) -> StorageService:
    """The API's storage: ``storage_location``, its limits, the configured chain."""
    from kraken_market.ledger.configured import ConfiguredLedger
    from kraken_market.storage.backends import open_objects

    reader = ConfiguredLedger(settings)
    return StorageService(
        open_objects(settings.resolved_storage_location),
        LedgerPurchases(reader.get),
        max_object_bytes=settings.storage_max_object_bytes,
        upload_seconds=settings.storage_upload_seconds,
    )
