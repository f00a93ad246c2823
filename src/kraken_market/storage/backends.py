"""Where the API keeps uploaded objects: a local directory or an S3 bucket, write-once.

Runs in the API. An upload is first *staged* under ``uploads/`` (a name no
product folder can take: products are ``0x…``), checked, and only then
*committed* under its name, without ever replacing an object already there:

- a directory: the staged file is hard-linked to its name (``link(2)`` fails on
  an existing name, atomically), then the staging link is removed;
- S3: the staged object is copied server-side into a multipart upload to the
  name whose completion carries ``If-None-Match: *`` (S3's conditional write:
  412 when the name exists), with the object's SHA-256 as user metadata.

So readers (the compute nodes, buyers) only ever see whole, checked objects, and
two concurrent uploads to one name cannot both win. A staged object left behind
(a client that never completed, a killed process) is never read: on a directory
``uploads/`` is swept of parts older than a day; on S3 a lifecycle rule on the
``uploads/`` prefix removes them (``docs/storage.md``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from kraken_market.access.objects import open_object
from kraken_market.smpc.errors import ObjectNotFound, ObjectPreconditionFailed
from kraken_market.smpc.s3 import S3Bucket
from kraken_market.smpc.storage import LocalDirectory, ShareStorage, check_name, open_storage

STAGING = "uploads"
READ_BLOCK = 1 << 20
STALE_SECONDS = 86_400
SWEEP_EVERY = 3600.0


@dataclass(frozen=True)
class Staged:
    """An upload waiting for its check: ``name`` under the staging prefix."""

    upload_id: str
    name: str


@dataclass(frozen=True)
class PresignedPut:
    url: str
    headers: dict[str, str]


class ObjectStore(Protocol):
    """The storage operations the API's uploads and reads need."""

    @property
    def location(self) -> str: ...

    @property
    def storage(self) -> ShareStorage:
        """The same objects as the compute nodes read them (``smpc.storage``)."""
        ...

    def stage(self, name: str, upload_id: str | None = None) -> Staged: ...

    def writer(self, staged: Staged) -> AbstractContextManager[BinaryIO]: ...

    def open(self, name: str) -> AbstractContextManager[BinaryIO]: ...

    def size(self, name: str) -> int | None:
        """The object's size, or None if there is none."""
        ...

    def sha256(self, name: str) -> str | None:
        """The object's SHA-256 (hex), or None if there is none."""
        ...

    def commit(self, staged: Staged, name: str, sha256: str) -> bool:
        """Put the staged bytes under ``name``: True, or False if ``name`` exists (kept)."""
        ...

    def discard(self, staged: Staged) -> None: ...

    def presigned_put(
        self, staged: Staged, size: int, sha256: str, expires: int
    ) -> PresignedPut | None:
        """A URL a client can PUT the staged object to itself, or None (the API's own)."""
        ...


def _hash_of(source: BinaryIO) -> str:
    digest = hashlib.sha256()
    while block := source.read(READ_BLOCK):
        digest.update(block)
    return digest.hexdigest()


class LocalObjects:
    """Objects as files under a directory (the one the compute nodes of ``up`` read)."""

    def __init__(self, directory: LocalDirectory) -> None:
        self.directory = directory
        self._swept = 0.0

    @property
    def location(self) -> str:
        return str(self.directory.root)

    @property
    def storage(self) -> ShareStorage:
        return self.directory

    def _path(self, name: str) -> Path:
        return self.directory.root.joinpath(*check_name(name).split("/"))

    def stage(self, name: str, upload_id: str | None = None) -> Staged:
        self._sweep()
        upload_id = upload_id or secrets.token_hex(16)
        return Staged(upload_id, f"{STAGING}/{upload_id}.part")

    @contextmanager
    def writer(self, staged: Staged) -> Iterator[BinaryIO]:
        path = self._path(staged.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())

    def open(self, name: str) -> AbstractContextManager[BinaryIO]:
        return open_object(self.directory, name)

    def size(self, name: str) -> int | None:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            return None

    def sha256(self, name: str) -> str | None:
        try:
            with self._path(name).open("rb") as source:
                return _hash_of(source)
        except FileNotFoundError:
            return None

    def commit(self, staged: Staged, name: str, sha256: str) -> bool:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self._path(staged.name), path)
        except FileExistsError:
            return False
        _fsync_directory(path.parent)
        return True

    def discard(self, staged: Staged) -> None:
        self._path(staged.name).unlink(missing_ok=True)

    def presigned_put(
        self, staged: Staged, size: int, sha256: str, expires: int
    ) -> PresignedPut | None:
        return None

    def _sweep(self) -> None:
        """Remove parts older than a day (an upload cut off, a killed API worker)."""
        if time.monotonic() - self._swept < SWEEP_EVERY:
            return
        self._swept = time.monotonic()
        cutoff = time.time() - STALE_SECONDS
        for part in (self.directory.root / STAGING).glob("*.part"):
            try:
                if part.stat().st_mtime < cutoff:
                    part.unlink()
            except FileNotFoundError:
                continue  # another worker swept it


class S3Objects:
    """Objects in an S3 bucket under its prefix; uploads staged under ``uploads/``."""

    def __init__(self, bucket: S3Bucket) -> None:
        self.bucket = bucket

    @property
    def location(self) -> str:
        return f"s3://{self.bucket.bucket}/{self.bucket.prefix}".rstrip("/")

    @property
    def storage(self) -> ShareStorage:
        return self.bucket

    def stage(self, name: str, upload_id: str | None = None) -> Staged:
        upload_id = upload_id or secrets.token_hex(16)
        return Staged(upload_id, f"{STAGING}/{upload_id}/{check_name(name)}")

    def writer(self, staged: Staged) -> AbstractContextManager[BinaryIO]:
        return self.bucket.writer(staged.name)

    def open(self, name: str) -> AbstractContextManager[BinaryIO]:
        return open_object(self.bucket, name)

    def _head(self, name: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.bucket.call("look up", self.bucket.key(name), "head_object")
        except ObjectNotFound:
            return None
        return head

    def size(self, name: str) -> int | None:
        head = self._head(name)
        return None if head is None else int(head["ContentLength"])

    def sha256(self, name: str) -> str | None:
        head = self._head(name)
        if head is None:
            return None
        recorded = str(head.get("Metadata", {}).get("sha256", ""))
        if len(recorded) == 64:
            return recorded
        with self.open(name) as source:  # written by other means: read it once
            return _hash_of(source)

    def commit(self, staged: Staged, name: str, sha256: str) -> bool:
        key, source = self.bucket.key(name), self.bucket.key(staged.name)
        started = self.bucket.call(
            "start copying to", key, "create_multipart_upload", Metadata={"sha256": sha256}
        )
        upload_id = started["UploadId"]
        try:
            part = self.bucket.call(
                "copy to",
                key,
                "upload_part_copy",
                UploadId=upload_id,
                PartNumber=1,
                CopySource={"Bucket": self.bucket.bucket, "Key": source},
            )
            self.bucket.call(
                "complete the copy to",
                key,
                "complete_multipart_upload",
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"ETag": part["CopyPartResult"]["ETag"], "PartNumber": 1}]
                },
                IfNoneMatch="*",
            )
        except ObjectPreconditionFailed:
            self._abort(key, upload_id)
            return False
        except BaseException:
            self._abort(key, upload_id)
            raise
        return True

    def _abort(self, key: str, upload_id: str) -> None:
        self.bucket.call("abort the copy to", key, "abort_multipart_upload", UploadId=upload_id)

    def discard(self, staged: Staged) -> None:
        self.bucket.delete(staged.name)

    def presigned_put(
        self, staged: Staged, size: int, sha256: str, expires: int
    ) -> PresignedPut | None:
        import base64

        checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            "x-amz-checksum-sha256": checksum,
        }
        url = self.bucket.presigned_url(
            "put_object",
            staged.name,
            expires,
            ContentType=headers["Content-Type"],
            ContentLength=size,
            ChecksumSHA256=checksum,
        )
        return PresignedPut(url, headers)


def open_objects(location: str) -> ObjectStore:
    """The object store at ``location`` (``smpc.storage.open_storage`` syntax)."""
    storage = open_storage(location)
    if isinstance(storage, S3Bucket):
        return S3Objects(storage)
    assert isinstance(storage, LocalDirectory)
    return LocalObjects(storage)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
