"""Errors in the user's words: what the CLI prints when a command fails.

The API refuses a bad request with ``validation_error`` and, per problem, where
the field sits in the request, a stable ``type`` and the constraint (``ctx``;
``kraken_market.errors.validation_details``). That is precise, and it speaks
the API's internals: ``body.batch.policy.purposes``, pydantic's type names,
regular expressions. Here each problem becomes a sentence that names the
option or argument as the user typed it (``--purpose``, ``PRODUCT_ID``), found
among the running command's own parameters (read from its signature, as Typer
reads it), and says what to do next. The API's details stay available to
scripts with ``--json``.

Runs in the CLI, on the user's machine.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from typer.models import ArgumentInfo, ParameterInfo

from kraken_market.client import ApiError
from kraken_market.errors import KrakenError

ALIASES = {
    "access_mode": "mode",
    "storage_links": "link",
    "expires_at": "expires",
    "prices.access": "price_access",
    "prices.computation": "price_computation",
    "prices.subscription_per_second": "price_per_second",
    "prices.subscription_min_seconds": "min_seconds",
    "product_id": "product",
    "item": "product",
    "union_id": "union",
}
"""Request fields whose CLI parameter has another name (the rest share theirs, in the
singular for repeatable options: ``purposes`` is ``--purpose``)."""

TAGS = frozenset({"batch", "stream", "analytics", "numeric", "categorical"})
"""Variant names pydantic puts into a location (a product's access mode, a column's
type): part of the schema's path, not a field anyone typed."""

FORMATS = {
    r"^0x[0-9a-fA-F]{64}$": "an id: 0x followed by 64 hex digits",
    r"^[a-z0-9][a-z0-9-]*$": "lower-case letters, digits and '-' (not first)",
    r"^\S(.*\S)?$": "text that does not start or end with a space",
    r"^[A-Z][A-Za-z0-9]{0,63}$": "a credential type such as PersonCredential",
    r"^[A-Z]{2,3}$": "an ISO 3166-1 alpha-2 country code (e.g. DE), EU or EEA",
    r"^[A-Za-z_][A-Za-z0-9_]{0,63}$": "letters, digits and '_', not starting with a digit",
    r"^did:[a-z0-9]+:\S+$": "a DID such as did:key:z6Mk…",
    r"^0x[0-9a-fA-F]{40}$": "an account address: 0x followed by 40 hex digits",
    r"^[^\x00]*$": "text without NUL characters",
    r"^[a-z_]+@[0-9]+$": "a function and its version, such as mean@1",
}
"""The API's patterns in words; a pattern not listed is described as 'not in the
expected form' (never printed)."""

NEXT_STEPS = {
    "product_not_found": "find products with 'kraken-market products list'",
    "union_not_found": "find unions with 'kraken-market unions list'",
    "chain_unavailable": "is the platform running? start it with 'kraken-market up', "
    "or set KRAKEN_CHAIN_URL",
    "wrong_passphrase": "type it again, or correct KRAKEN_WALLET_PASSPHRASE if you set it",
    "already_bought": "fetch the file with 'kraken-market files fetch {item} --purchase "
    "{purchase} --out FILE', or buy it again with --again",
    "subscription_active": "to add the time to it, run the command again with --extend",
    "request_closed": "start a new sign-in on the page and answer its new QR code or link",
    "request_expired": "start a new sign-in on the page and answer its new QR code or link",
    "request_answered": "start a new sign-in on the page and answer its new QR code or link",
    "nothing_to_present": "list what your wallet holds with 'kraken-market wallet "
    "credentials list'",
    "rate_limited": "wait a moment and run the command again",
    "overloaded": "wait a moment and run the command again",
    "unavailable": "wait a moment and run the command again",
}
"""What to do next, for refusals whose message does not say it already; ``{name}``
is filled from the error's details."""

_NUMBERS = {"int_parsing", "int_type", "int_from_float", "float_parsing", "float_type"}
_NUMBERS |= {"decimal_parsing", "decimal_type"}
_TIMES = {"datetime_parsing", "datetime_from_date_parsing", "datetime_type", "date_parsing"}
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "more than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}
_TYPES = {
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "an object ({...})",
    "model_type": "an object ({...})",
    "model_attributes_type": "an object ({...})",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _fields(loc: Sequence[Any]) -> tuple[list[str], int | None]:
    """The field path the user may know (no ``body``/``path``/``query``, no variant
    names, no pydantic step names) and the list index the problem is at, if any."""
    parts = list(loc)
    if parts and parts[0] in ("body", "path", "query", "header", "cookie"):
        parts = parts[1:]
    fields: list[str] = []
    index = None
    for part in parts:
        if isinstance(part, int):
            index = part
        elif part not in TAGS and part.replace("_", "").replace("-", "").isalnum():
            fields.append(part)
            index = None
    return fields, index


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") else name


@dataclass(frozen=True)
class Parameter:
    """A parameter of the running command, and what the user gave it."""

    name: str
    shown: str
    """As the user types it: ``--purpose``, or the argument's ``PRODUCT``."""
    value: Any = None


Parameters = Mapping[str, Parameter]


def _info(hint: Any, default: Any) -> tuple[ParameterInfo | None, list[str]]:
    """The parameter's Typer declaration and its option names. In ``Annotated``,
    ``Option("--json")`` holds its first name where a default would be (as Typer
    reads it)."""
    if get_origin(hint) is Annotated:
        for meta in get_args(hint)[1:]:
            if isinstance(meta, ParameterInfo):
                first = [meta.default] if isinstance(meta.default, str) else []
                return meta, [*first, *(meta.param_decls or ())]
    if isinstance(default, ParameterInfo):
        return default, list(default.param_decls or ())
    return None, []


def parameters(command: Callable[..., Any], given: Mapping[str, Any]) -> dict[str, Parameter]:
    """The command's parameters as Typer makes them from its signature: an option is
    ``--name-with-dashes`` unless declared otherwise, an argument its metavar or
    ``NAME``; with the values ``given``."""
    try:
        hints = get_type_hints(command, include_extras=True)
        signature = inspect.signature(command)
    except (NameError, TypeError, ValueError):  # nothing to name the options by
        return {}
    found: dict[str, Parameter] = {}
    for name, declared in signature.parameters.items():
        info, names = _info(hints.get(name), declared.default)
        if isinstance(info, ArgumentInfo) or (info is None and declared.default is declared.empty):
            shown = (info.metavar if info is not None else None) or name.upper()
        else:
            long = [n for n in names if n.startswith("--")]
            shown = long[0].split("/")[0] if long else "--" + name.replace("_", "-")
        found[name] = Parameter(name, shown, given.get(name))
    return found


def _parameter(fields: list[str], params: Parameters) -> Parameter | None:
    """The command's parameter a request field came from: the longest match of the
    field path's tail, through ``ALIASES``, its own name, or its singular."""
    for length in range(len(fields), 0, -1):
        key = ".".join(fields[-length:])
        for name in (ALIASES.get(key), key.replace(".", "_"), _singular(key.replace(".", "_"))):
            if name is not None and name in params:
                return params[name]
    return None


def _subject(
    fields: list[str], index: int | None, params: Parameters
) -> tuple[str, Parameter | None, Any]:
    """What the problem is about, in the user's words: the option or argument with the
    value typed (when short), else the field as written in a JSON file; the parameter
    and the value at fault (of a repeated option, the one at ``index``)."""
    param = _parameter(fields, params)
    if param is None:
        where = ".".join(fields)
        return (f"the field '{where}'" if where else "the request"), None, None
    value = param.value
    if isinstance(value, list | tuple) and index is not None and index < len(value):
        value = value[index]
    if isinstance(value, str | int) and not isinstance(value, bool) and len(str(value)) <= 80:
        return f"{param.shown} {str(value)!r}", param, value
    return param.shown, param, value


def _vocabulary(field: str) -> list[str]:
    """The closed set a missing field is chosen from, if it is one of the catalog's
    vocabularies (``catalog.vocabulary``)."""
    from kraken_market.catalog import vocabulary  # pycountry: only when needed

    sets: dict[str, type[StrEnum]] = {
        "access_mode": vocabulary.AccessMode,
        "purposes": vocabulary.Purpose,
        "purpose": vocabulary.Purpose,
        "buyer_categories": vocabulary.BuyerCategory,
        "availability": vocabulary.Availability,
    }
    chosen = sets.get(field)
    return [] if chosen is None else [member.value for member in chosen]


def _choices(values: Sequence[Any]) -> str:
    names = [str(v) for v in values]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _sentence(detail: Mapping[str, Any], params: Parameters) -> str:
    """One problem of a ``validation_error`` as a sentence."""
    loc = detail.get("loc") or []
    fields, index = _fields(loc if isinstance(loc, list) else [])
    subject, param, value = _subject(fields, index, params)
    kind = str(detail.get("type"))
    ctx: Mapping[str, Any] = detail.get("ctx") or {}
    expected = ctx.get("expected")
    if kind in ("missing", "union_tag_not_found"):
        name = subject if param is None else param.shown
        expected = expected or _vocabulary(fields[-1] if fields else "")
        return f"{name} is required" + (f"; choose {_choices(expected)}" if expected else "")
    if kind in ("union_tag_invalid", "enum", "literal_error"):
        if expected:
            return f"{subject} is not allowed: use {_choices(expected)}"
        return f"{subject} is not one of the allowed values (see --help)"
    if kind == "string_pattern_mismatch":
        words = FORMATS.get(str(ctx.get("pattern")))
        return f"{subject} must be {words}" if words else f"{subject} is not in the expected form"
    if kind in ("string_too_long", "too_long"):
        unit = "characters" if kind.startswith("string") else "values"
        limit = ctx.get("max_length")
        return f"{subject} is too long" + (f": at most {limit} {unit}" if limit else "")
    if kind in ("string_too_short", "too_short"):
        limit = ctx.get("min_length")
        if kind.startswith("string") and limit in (None, 1):
            return f"{subject} must not be empty"
        unit = "characters" if kind.startswith("string") else "values"
        return f"{subject} is too short" + (f": at least {limit} {unit}" if limit else "")
    if kind == "extra_forbidden":
        return f"{subject} is not accepted here: leave it out"
    if kind in _NUMBERS:
        return f"{subject} must be a number"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return (
            f"{subject} must be {words} {ctx.get(key)}"
            if key in ctx
            else f"{subject} is out of range"
        )
    if kind in _TIMES:
        return f"{subject} must be a date and time such as 2030-01-31T12:00:00Z"
    if kind == "timezone_aware":
        return f"{subject} must name its time zone (e.g. 2030-01-31T12:00:00Z)"
    if kind in _TYPES:
        return f"{subject} must be {_TYPES[kind]}"
    if kind == "json_invalid":
        return "the request is not valid JSON"
    message = str(detail.get("message", "is not valid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if param is not None and f"'{value}'" in message:  # it names the value already
        subject = param.shown
    return f"{subject}: {message}"


def problems(details: Any, params: Parameters) -> list[str] | None:
    """The sentences for ``validation_error`` details (None: not that shape)."""
    if not isinstance(details, list) or not details:
        return None
    if not all(isinstance(d, dict) and "loc" in d and "type" in d for d in details):
        return None
    sentences = [_sentence(d, params) for d in details]
    return list(dict.fromkeys(sentences))  # the same problem at two places is said once


def explain(exc: KrakenError, params: Parameters) -> tuple[str, list[str]]:
    """(code, lines) to print for ``exc``: the first line follows ``error [code]:``."""
    code = exc.api_code if isinstance(exc, ApiError) else exc.code
    sentences = problems(exc.details, params)
    if sentences:
        hint = " (see --help)" if params else ""  # else: a file the command read
        if len(sentences) == 1:
            return code, [sentences[0] + hint]
        return code, [f"{len(sentences)} problems{hint}:", *(f"  - {s}" for s in sentences)]
    message = exc.message
    step = NEXT_STEPS.get(code)
    if step and "kraken-market" not in message and "KRAKEN_" not in message:
        # details without what the advice names: the message alone
        with contextlib.suppress(KeyError, IndexError, ValueError, TypeError):
            message = f"{message}; {step.format(**(exc.details or {}))}"
    return code, [message]
