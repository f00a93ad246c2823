"""Streaming reads of stored data files, and atomic writes of decrypted ones.

``ShareStorage.read`` returns a whole object, which a multi-gigabyte data
file must not be; ``open_object`` streams instead: a local directory's file
as it is, an S3 object's response body as it arrives, and storage that can
stream an object itself (``storage.remote.MarketStorage``: a download through
the API) its own stream. Other storage falls back to ``read``.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast, runtime_checkable

from kraken_market.smpc.errors import ObjectNotFound, StorageUnavailable
from kraken_market.smpc.storage import LocalDirectory, ShareStorage, check_name


@runtime_checkable
class Streaming(Protocol):
    """Storage that opens an object as a stream itself."""

    def open(self, name: str) -> AbstractContextManager[BinaryIO]: ...


@contextmanager
def open_object(storage: ShareStorage, name: str) -> Iterator[BinaryIO]:
    """Object ``name`` as a readable stream (``object_not_found`` if absent)."""
    if isinstance(storage, LocalDirectory):
        path = storage.root.joinpath(*check_name(name).split("/"))
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"no object {name!r} in {storage.root}") from exc
        with handle:
            yield handle
        return
    if isinstance(storage, Streaming):
        with storage.open(name) as stream:
            yield stream
        return
    from kraken_market.smpc.s3 import S3Bucket

    if isinstance(storage, S3Bucket):
        key = storage.key(name)
        body = storage.call("read", key, "get_object")["Body"]
        try:
            yield cast("BinaryIO", _S3Stream(body, storage.url(name)))
        finally:
            body.close()
        return
    yield io.BytesIO(storage.read(name))


class _S3Stream:
    """An S3 response body whose network failures are ``storage_unavailable``."""

    def __init__(self, body: Any, url: str) -> None:
        self._body, self._url = body, url

    def read(self, size: int = -1) -> bytes:
        from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]

        try:
            return cast("bytes", self._body.read(None if size < 0 else size))
        except BotoCoreError as exc:
            raise StorageUnavailable(f"reading {self._url} failed ({type(exc).__name__})") from exc


@contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A file that appears at ``path`` complete when the block exits cleanly, else never
    (temporary file in the same directory, fsync, rename; as ``LocalDirectory.writer``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed on success
        dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
    )
    try:
        yield cast("BinaryIO", handle)
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.replace(handle.name, path)
    except BaseException:
        handle.close()
        Path(handle.name).unlink(missing_ok=True)
        raise
