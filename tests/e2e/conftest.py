"""Fixtures of the whole-platform tests."""

from tests.e2e.test_platform import environment  # noqa: F401 - the fixture, for every module
