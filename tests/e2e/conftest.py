"""Fixtures of the whole-platform tests."""

import pytest

from tests.e2e.test_platform import environment  # noqa: F401 - the fixture, for every module


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whole platforms run one at a time (``--dist loadgroup``): each is a dozen processes
    on a 2-core machine; the lighter tests share the other workers."""
    for item in items:
        if item.nodeid.startswith("tests/e2e/"):
            item.add_marker(pytest.mark.xdist_group("platform"))
