"""Where encrypted share files and manifests live: an interface and a local directory.

Objects are named by relative paths of safe segments
(``<product id>/<share set>/node-0.kshare``). A write is atomic: readers see
the old object or the whole new one, never a part, and a write that fails (or a
process killed mid-way) leaves nothing under the name. The local
implementation writes a temporary file in the same directory, fsyncs it,
renames it over the name (POSIX ``rename`` is atomic) and fsyncs the directory,
so an acknowledged write survives a crash.

An S3-compatible implementation fits the same interface: a multipart upload is
atomic in the same sense (the object appears only on ``CompleteMultipartUpload``;
an aborted upload leaves nothing).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from kraken_market.smpc.errors import ObjectNameInvalid, ObjectNotFound

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


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


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
