"""Moving an object's bytes between the user's machine and the platform, in bounded memory.

Runs on the user's machine (the SDK's ``MarketClient.upload_object`` and
``open_object``). An upload needs its size and SHA-256 before the first byte is
sent (the API answers "stored already" for the same bytes, and a presigned S3
URL has both signed into it), so the source is read twice: once to hash it,
once to send it. A source that cannot seek (a pipe) is first copied to a
temporary file while it is hashed.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kraken_market.errors import InvalidRequest

BLOCK = 1 << 20
Progress = Callable[[int, int], None]
"""Called with (bytes sent, bytes in all) after each block."""


@dataclass(frozen=True)
class Source:
    """A readable, seekable object of ``size`` bytes from ``start``, hashed."""

    stream: BinaryIO
    start: int
    size: int
    sha256: str

    def blocks(self, progress: Progress | None = None) -> Iterator[bytes]:
        """The bytes, from the start, in blocks (once per call: a retry reads again)."""
        self.stream.seek(self.start)
        sent = 0
        if progress is not None:
            progress(0, self.size)
        while sent < self.size:
            block = self.stream.read(min(BLOCK, self.size - sent))
            if not block:
                raise InvalidRequest(
                    f"the source ended after {sent} of {self.size} bytes: it changed while "
                    "it was uploaded"
                )
            sent += len(block)
            yield block
            if progress is not None:
                progress(sent, self.size)


@contextmanager
def prepared(source: Path | BinaryIO, size: int | None = None) -> Iterator[Source]:
    """``source`` (a path or a binary file) measured and hashed, ready to send."""
    if isinstance(source, (str, Path)):
        with Path(source).open("rb") as stream:
            yield _measured(stream, stream.tell(), size)
        return
    if _seekable(source):
        yield _measured(source, source.tell(), size)
        return
    with tempfile.TemporaryFile() as spool:  # a pipe: keep a copy to read twice
        while block := source.read(BLOCK):
            spool.write(block)
        spool.flush()
        yield _measured(spool, 0, size)


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError):
        return False


def _measured(stream: BinaryIO, start: int, size: int | None) -> Source:
    stream.seek(start)
    digest, counted = hashlib.sha256(), 0
    while block := stream.read(BLOCK):
        digest.update(block)
        counted += len(block)
    if size is not None and size != counted:
        raise InvalidRequest(f"the source holds {counted} bytes, not the {size} announced")
    return Source(stream, start, counted, digest.hexdigest())


class BlockReader:
    """A read-only binary stream over an iterator of byte blocks (an HTTP response
    body), for readers that pull exact amounts (``access.datafile.decrypt_stream``)."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._buffer = bytearray()
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            try:
                self._buffer += next(self._blocks)
            except StopIteration:
                self._done = True
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data
