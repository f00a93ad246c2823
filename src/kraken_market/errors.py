"""The one error tree of Kraken Market.

Every failure a user can cause is a :class:`KrakenError` with a stable
``code`` (part of the public API: clients branch on it) and the HTTP status
the API answers with. Domains add subclasses; the API has exactly one handler
for the whole tree (``kraken_market.api.errors``)::

    KrakenError                       500 internal_error
    ├── InvalidRequest                422 invalid_request (bad input; nothing changed)
    │   ├── ValidationFailed          422 validation_error (details: each problem)
    │   ├── InvalidCursor             400 invalid_cursor
    │   └── ...domain validation errors
    ├── Unauthenticated               401 unauthenticated
    ├── Forbidden                     403 forbidden
    ├── NotFound                      404 not_found
    ├── Conflict                      409 conflict
    ├── PayloadTooLarge               413 payload_too_large
    ├── TooManyRequests               429 rate_limited (with Retry-After)
    └── ServiceUnavailable            503 unavailable
        └── Overloaded                503 overloaded (at an admission limit; Retry-After)

Services raise these and never ``HTTPException``; the CLI prints ``message``
and exits non-zero.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar


class KrakenError(Exception):
    """Root of every error Kraken Market raises on purpose."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def roll_up(self) -> str:
        """One line for logs and terminals: ``code: message``."""
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidRequest(KrakenError, ValueError):
    code = "invalid_request"
    status = 422


class ValidationFailed(InvalidRequest):
    """The request's shape or values are wrong; ``details`` lists each problem as
    ``{"loc": [...], "type": ..., "message": ...}`` (``type`` is stable too)."""

    code = "validation_error"

    @classmethod
    def of(cls, loc: tuple[str | int, ...], type_: str, message: str) -> ValidationFailed:
        return cls(message, details=[{"loc": list(loc), "type": type_, "message": message}])


class InvalidCursor(InvalidRequest):
    code = "invalid_cursor"
    status = 400


class Unauthenticated(KrakenError):
    code = "unauthenticated"
    status = 401


class Forbidden(KrakenError):
    code = "forbidden"
    status = 403


class NotFound(KrakenError, LookupError):
    code = "not_found"
    status = 404


class Conflict(KrakenError):
    code = "conflict"
    status = 409


class PayloadTooLarge(KrakenError):
    code = "payload_too_large"
    status = 413


class TooManyRequests(KrakenError):
    """Pushback: the caller sends faster than its limit. ``retry_after`` (seconds) is
    sent as the ``Retry-After`` header (RFC 9110 §10.2.3); the SDK waits and retries."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, details: Any = None, retry_after: float = 1.0) -> None:
        super().__init__(
            message, details={"retry_after": retry_after} if details is None else details
        )
        self.retry_after = retry_after


class ServiceUnavailable(KrakenError):
    code = "unavailable"
    status = 503


class Overloaded(ServiceUnavailable):
    """Pushback: this process is at its admission limit for this kind of work (jobs,
    logins, long-polls). ``retry_after`` is sent as ``Retry-After`` (RFC 9110
    §10.2.3) and the SDK waits and retries, as for :class:`TooManyRequests`."""

    code = "overloaded"

    def __init__(self, message: str, *, details: Any = None, retry_after: float = 1.0) -> None:
        super().__init__(
            message, details={"retry_after": retry_after} if details is None else details
        )
        self.retry_after = retry_after


_CONSTRAINTS = frozenset(
    {"max_length", "min_length", "ge", "gt", "le", "lt", "multiple_of", "pattern", "expected"}
)
"""What of a pydantic error's ``ctx`` a ``validation_error`` detail keeps: the
constraint, never the input (``tag``, ``error`` and the like are left out)."""


def _choices(text: str) -> list[str]:
    """``"'a', 'b' or 'c'"`` (pydantic's ``expected``) as ``["a", "b", "c"]``; the
    values of enum reprs (``<Mode.A: 'a'>``) too."""
    return re.findall(r"'([^']*)'", text)


def validation_details(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic's errors as ``validation_error`` details: ``{"loc", "type", "message"}``
    and, when the error has one, ``"ctx"`` with its constraint (``max_length``,
    ``pattern``, ``expected`` as a list...). The offending input is left out on
    purpose: it may be long, or a secret. A tagged union's missing or unknown tag is
    located at its field (``["body", "access_mode"]``), not at the union."""
    details: list[dict[str, Any]] = []
    for error in errors:
        loc = list(error.get("loc", ()))
        kind = str(error.get("type"))
        message = str(error.get("msg", error.get("message", "")))
        raw: Mapping[str, Any] = error.get("ctx") or {}
        ctx: dict[str, Any] = {
            k: v if isinstance(v, str | int | float | bool) else str(v)
            for k, v in raw.items()
            if k in _CONSTRAINTS
        }
        if "expected" in ctx:
            ctx["expected"] = _choices(str(ctx["expected"]))
        if kind in ("union_tag_not_found", "union_tag_invalid") and "discriminator" in raw:
            loc.append(str(raw["discriminator"]).strip("'\""))
            if kind == "union_tag_not_found":
                message = "Field required"
            else:
                ctx["expected"] = _choices(str(raw.get("expected_tags", "")))
                quoted = [f"'{tag}'" for tag in ctx["expected"]]
                message = "Input should be " + " or ".join(
                    [", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted
                )
        detail: dict[str, Any] = {"loc": loc, "type": kind, "message": message}
        if ctx:
            detail["ctx"] = ctx
        details.append(detail)
    return details
