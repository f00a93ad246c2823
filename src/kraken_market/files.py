"""Private files: keys, wallets and session tokens, readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kraken_market.errors import InvalidRequest

PRIVATE = 0o600


def write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically to ``path`` with mode 0600 from the first byte on
    (never a moment where another user could open the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.chmod(partial, PRIVATE)  # an existing .partial kept its old mode
    os.replace(partial, path)


def read_private(path: Path) -> str:
    """The text of a private file; refused if others may read it (as ssh does)."""
    if not path.is_file():
        raise InvalidRequest(f"no file at {path}")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidRequest(f"{path} is readable by others: run 'chmod 600 {path}'")
    return path.read_text(encoding="utf-8")
