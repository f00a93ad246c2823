"""A guard against deeply nested JSON, checked before parsing.

Importing py-evm (``eth``, also pulled in by web3 and eth-account) raises the
interpreter's recursion limit to 100,000 for the EVM's call depth. CPython's
JSON decoder recurses once per nesting level and stops only at that limit, so
in such a process a body of ~100,000 ``[`` overflows the C stack and kills
it (seen here: a segfault, not an exception). Every server of ours that
parses untrusted JSON in a process importing py-evm checks depth first.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Escapes go first, then strings hold no backslash and match without
# backtracking: linear time, even on runs of escaped quotes (a single regex for
# strings with escapes restarts at every quote: quadratic).
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*+"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")
MAX_DEPTH = 64


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """True if the JSON text in ``raw`` nests arrays/objects deeper than ``limit``."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", _ESCAPE.sub(b"", raw)))
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def loads(raw: str | bytes, limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` of untrusted text, refusing nesting deeper than ``limit`` first
    (``ValueError``, like any malformed JSON)."""
    data = raw.encode() if isinstance(raw, str) else raw
    if too_deep(data, limit):
        raise ValueError(f"JSON nested deeper than {limit} levels")
    return json.loads(data)
