"""A guard against deeply nested JSON, checked before parsing.

Importing py-evm (``eth``, also pulled in by web3 and eth-account) raises the
interpreter's recursion limit to 100,000 for the EVM's call depth. CPython's
JSON decoder recurses once per nesting level and stops only at that limit, so
in such a process a body of ~100,000 ``[`` overflows the C stack and kills
it (seen here: a segfault, not an exception). Every server of ours that
parses untrusted JSON in a process importing py-evm checks depth first.
"""

from __future__ import annotations

import re

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")
MAX_DEPTH = 64


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """True if the JSON text in ``raw`` nests arrays/objects deeper than ``limit``."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
