"""Where encrypted share files and manifests live: an interface and a local directory.

Objects are named by relative paths of safe segments
(``<product id>/<share set>/node-0.kshare``). A write is atomic: readers see
the old object or the whole new one, never a part, and a write that fails (or a
process killed mid-way) leaves nothing under the name. The local
implementation writes a temporary file in the same directory, fsyncs it,
renames it over the name (POSIX ``rename`` is atomic) and fsyncs the directory,
so an acknowledged write survives a crash.

An S3-compatible implementation (``smpc.s3.S3Bucket``) fits the same interface:
a multipart upload is atomic in the same sense (the object appears only on
``CompleteMultipartUpload``; an aborted upload leaves nothing).
``open_storage`` picks the implementation from a location: a path or
``file://`` URL, or ``s3://bucket[/prefix][?endpoint=URL&region=R]``. This
module does not import boto3; ``open_storage`` does, for ``s3://`` only.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from kraken_market.smpc.errors import ObjectNameInvalid, ObjectNotFound, StorageLocationInvalid

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NO_SECRETS = (
    "credentials do not belong in a storage location: set AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (~/.aws), as for the aws CLI"
)


def check_name(name: str) -> str:
    """``name`` if it is a relative path of safe segments (no ``..``, no absolute paths)."""
    segments = name.split("/")
    if not 1 <= len(segments) <= 8 or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise ObjectNameInvalid(
            f"object names are 1-8 '/'-separated segments of letters, digits, '.', '_', '-' "
            f"(not starting with '.'): {name[:200]!r}"
        )
    return name


class ShareStorage(Protocol):
    """Object storage for share files, as the owner and the compute nodes see it."""

    def writer(self, name: str) -> AbstractContextManager[BinaryIO]:
        """A stream whose content becomes object ``name`` when the block exits cleanly."""
        ...

    def read(self, name: str) -> bytes: ...

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None: ...

    def url(self, name: str) -> str:
        """Where the object is, for manifests and logs."""
        ...


class LocalDirectory:
    """Objects as files under ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*check_name(name).split("/"))

    @contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed on success
            dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
        )
        try:
            yield handle  # type: ignore[misc]
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(handle.name, path)
        except BaseException:
            handle.close()
            Path(handle.name).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)

    def read(self, name: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"no object {name!r} in {self.root}") from exc

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def url(self, name: str) -> str:
        return self._path(name).resolve().as_uri()


def parse_s3_url(url: str) -> tuple[str, str, dict[str, str]]:
    """``(bucket, prefix, options)`` of ``s3://bucket[/prefix][?endpoint=URL&region=R]``."""
    parts = urlsplit(url)
    bucket, prefix = parts.netloc, parts.path.strip("/")
    if "@" in bucket:  # not echoed: it may hold a secret
        raise StorageLocationInvalid(_NO_SECRETS)
    if parts.scheme != "s3" or not bucket or ":" in bucket or parts.fragment:
        raise StorageLocationInvalid(f"expected s3://bucket[/prefix], got {url[:200]!r}")
    if prefix:
        try:
            check_name(prefix)
        except ObjectNameInvalid as exc:
            raise StorageLocationInvalid(f"{url[:200]!r}: the prefix: {exc.message}") from exc
    try:
        pairs = parse_qsl(parts.query, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise StorageLocationInvalid(f"{url[:200]!r}: unreadable query") from exc
    options = dict(pairs)
    if len(options) != len(pairs) or not set(options) <= {"endpoint", "region"}:
        raise StorageLocationInvalid(
            f"{url[:200]!r}: the query may give endpoint= and region=, each once"
        )
    return bucket, prefix, options


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` if it is an http(s) URL without credentials."""
    parts = urlsplit(endpoint)
    if "@" in parts.netloc:
        raise StorageLocationInvalid(_NO_SECRETS)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StorageLocationInvalid(
            f"an S3 endpoint is http(s)://host[:port] without credentials, got {endpoint[:200]!r}"
        )
    return endpoint


def open_storage(
    location: str | Path, *, endpoint_url: str | None = None, region: str | None = None
) -> ShareStorage:
    """The storage at ``location``: a directory (a path or a ``file://`` URL) or
    ``s3://bucket[/prefix]`` (endpoint from ``endpoint_url`` or ``?endpoint=``,
    region from ``region`` or ``?region=``, credentials from boto3's default chain)."""
    if isinstance(location, Path):
        return LocalDirectory(location)
    if location.startswith("s3://"):
        from kraken_market.smpc.s3 import S3Bucket

        return S3Bucket(location, endpoint_url=endpoint_url, region=region)
    if endpoint_url is not None or region is not None:
        raise StorageLocationInvalid(f"an endpoint or region is for s3:// locations: {location!r}")
    if location.startswith("file://"):
        parts = urlsplit(location)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise StorageLocationInvalid(f"expected file:///absolute/path, got {location[:200]!r}")
        return LocalDirectory(Path(unquote(parts.path)))
    if _URL.match(location):
        raise StorageLocationInvalid(
            f"storage is a directory, a file:// URL or an s3:// URL, not {location[:200]!r}"
        )
    if not location:
        raise StorageLocationInvalid("the storage location is empty")
    return LocalDirectory(Path(location))


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
