"""One in-process chain with three compute nodes for the key custody tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.access.world import World


@pytest.fixture(scope="package")
def custody_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = World(tmp_path_factory.mktemp("access"))
    yield world
    world.close()
