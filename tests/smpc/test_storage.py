"""Local-directory storage: atomic writes, safe names."""

from __future__ import annotations

from pathlib import Path

import pytest

from kraken_market.smpc.errors import ObjectNameInvalid, ObjectNotFound
from kraken_market.smpc.storage import LocalDirectory


def test_write_read_delete(tmp_path: Path) -> None:
    storage = LocalDirectory(tmp_path)
    with storage.writer("p/set/node-0.kshare") as stream:
        stream.write(b"abc")
    assert storage.read("p/set/node-0.kshare") == b"abc"
    assert storage.exists("p/set/node-0.kshare")
    assert storage.url("p/set/node-0.kshare").startswith("file://")
    storage.delete("p/set/node-0.kshare")
    assert not storage.exists("p/set/node-0.kshare")
    with pytest.raises(ObjectNotFound):
        storage.read("p/set/node-0.kshare")


def test_a_failed_write_leaves_nothing_and_keeps_the_old_object(tmp_path: Path) -> None:
    storage = LocalDirectory(tmp_path)
    with storage.writer("a/b") as stream:
        stream.write(b"old")

    class Boom(Exception):
        pass

    def half_write(name: str) -> None:
        with storage.writer(name) as stream:
            stream.write(b"new, half written")
            raise Boom

    with pytest.raises(Boom):
        half_write("a/b")
    with pytest.raises(Boom):
        half_write("a/c")
    assert storage.read("a/b") == b"old"
    assert not storage.exists("a/c")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]  # no temporary left


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a//b", ".hidden", "a/../b", "", "a b"])
def test_unsafe_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ObjectNameInvalid):
        LocalDirectory(tmp_path).read(name)
