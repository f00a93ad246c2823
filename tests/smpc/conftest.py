"""Import MPyC once, without its import-time side effects on the test process.

``import mpyc`` parses ``sys.argv`` (pytest's own options, e.g. ``-W``, would be
read as MPyC's), configures the root logger, and ``mpyc.sectypes`` imports the
deprecated ``numpy.core`` (a DeprecationWarning, an error under our pytest
settings). The test process only needs MPyC's pure modules (``finfields``,
``thresha``); runtimes run in child processes (``test_mpyc_nodes.py``).
"""

from __future__ import annotations

import logging
import sys
import warnings


def _import_mpyc_quietly() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    argv = sys.argv
    sys.argv = [argv[0], "--no-log"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import mpyc.finfields  # type: ignore[import-untyped]
            import mpyc.thresha  # type: ignore[import-untyped]  # noqa: F401
    finally:
        sys.argv = argv
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


_import_mpyc_quietly()
