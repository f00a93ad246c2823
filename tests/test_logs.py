"""Logging writes to the stderr of the moment."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from kraken_market.logs import configure_logging, get_logger
from kraken_market.settings import Settings


def test_records_go_to_the_current_stderr_even_after_a_replaced_one_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(Settings())
        first = io.StringIO()
        monkeypatch.setattr(sys, "stderr", first)
        get_logger("test").warning("into the first")
        first.close()  # as a test runner closes its capture
        second = io.StringIO()
        monkeypatch.setattr(sys, "stderr", second)
        get_logger("test").warning("into the second")
        assert "into the second" in second.getvalue()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
