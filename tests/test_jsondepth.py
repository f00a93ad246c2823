"""Deeply nested JSON is refused before parsing (see kraken_market.jsondepth)."""

from __future__ import annotations

import subprocess
import sys

from kraken_market.jsondepth import too_deep


def test_depth_is_counted_outside_strings() -> None:
    assert not too_deep(b'{"a": [[1, 2], {"b": "[[[[[[[["}]}', limit=3)
    assert too_deep(b'{"a": [[[1]]]}', limit=3)
    assert not too_deep(b'"\\"[[[[" ', limit=1)
    assert too_deep(b"[" * 100_000)
    assert not too_deep(b"[]" * 100_000)


def test_the_api_process_keeps_the_default_recursion_limit() -> None:
    """The API parses bodies with json.loads; were py-evm imported into its process
    (the CLI imports the chain only inside `chain serve` for this reason), the limit
    would be 100,000 and a nested body could crash it. Before letting such an import
    in, add a too_deep check to api.app.RequestGuard."""
    code = (
        "import sys, kraken_market.api.app, kraken_market.cli.main as m; m.load_all(); "
        "print(sys.getrecursionlimit())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(done.stdout) <= 10_000
