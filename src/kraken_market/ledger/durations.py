"""Durations for people: ``7d``, ``2h30m``, ``90s`` in; the same form out.

The contracts count windows and deadlines in seconds (``claim_window``,
``computation_deadline``); an operator types and reads them in weeks, days,
hours, minutes and seconds. Plain digits are seconds (for scripts). Anything
else (signs, fractions, unknown units, units out of order or twice) is refused
with a message naming the option as typed, so nothing is sent.
"""

from __future__ import annotations

import re

from kraken_market.ledger.errors import InvalidDuration

UNITS = (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
"""Each unit and its seconds, largest first (the order they are written in)."""
_DURATION = re.compile("".join(rf"(?:(?P<{unit}>[0-9]{{1,9}}){unit})?" for unit, _ in UNITS))
_SECONDS = re.compile(r"[0-9]{1,12}")


def parse_duration(text: str, what: str = "the duration") -> int:
    """Seconds of ``text`` (``7d``, ``1h30m``, ``3600``); :class:`InvalidDuration`
    naming ``what`` (the option as typed, e.g. ``--claim-window``) otherwise."""
    typed = text.strip().lower().replace(" ", "")
    if _SECONDS.fullmatch(typed):
        return int(typed)
    match = _DURATION.fullmatch(typed)
    if not typed or match is None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise InvalidDuration(
            f"{what}: {shown!r} is not a duration; write it like 7d, 2h, 1h30m or 90s "
            "(w weeks, d days, h hours, m minutes, s seconds), or whole seconds",
            details={"option": what, "value": shown},
        )
    return sum(int(match[unit]) * seconds for unit, seconds in UNITS if match[unit])


def format_duration(seconds: int) -> str:
    """``seconds`` in days, hours, minutes and seconds: 604800 -> ``7d``, 5400 ->
    ``1h30m``, 0 -> ``0s`` (what :func:`parse_duration` reads back)."""
    if seconds < 0:
        raise ValueError(f"a duration is never negative, got {seconds}")
    parts, left = [], seconds
    for unit, size in UNITS[1:]:  # 14 days reads better as 14d than as 2w
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
