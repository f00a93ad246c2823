"""``cli.messages``: an API refusal in the user's words, from the running command's own
parameters (read from its signature as Typer reads it). Pure: no server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
import typer

from kraken_market.cli import messages
from kraken_market.client import ApiError
from kraken_market.errors import NotFound

INTERNALS = ("body", "loc", "pattern", "^", "union_tag", "missing", "Field required")


def create(
    title: Annotated[str | None, typer.Option(help="Title")] = None,
    mode: Annotated[str | None, typer.Option(help="batch | stream | analytics")] = None,
    purpose: Annotated[list[str] | None, typer.Option("--purpose")] = None,
    price_access: Annotated[str | None, typer.Option()] = None,
    link: Annotated[list[str] | None, typer.Option("--link", "-l")] = None,
    from_file: Annotated[Path | None, typer.Option("--from-file")] = None,
) -> None:
    """A command shaped like 'products create'."""


def show(
    product_id: Annotated[str, typer.Argument(help="Product id")],
    union: Annotated[str, typer.Argument(metavar="UNION")] = "",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """A command shaped like 'products show'."""


def said(command: Any, given: dict[str, Any], *details: dict[str, Any]) -> list[str]:
    error = ApiError(422, "validation_error", "body: ...", list(details))
    code, lines = messages.explain(error, messages.parameters(command, given))
    assert code == "validation_error"
    for line in lines:
        assert not any(word in line for word in INTERNALS), line
    return lines


def test_parameters_are_named_as_typed() -> None:
    shown = {n: p.shown for n, p in messages.parameters(create, {}).items()}
    assert shown == {
        "title": "--title",
        "mode": "--mode",
        "purpose": "--purpose",
        "price_access": "--price-access",
        "link": "--link",
        "from_file": "--from-file",
    }
    shown = {n: p.shown for n, p in messages.parameters(show, {}).items()}
    assert shown == {"product_id": "PRODUCT_ID", "union": "UNION", "as_json": "--json"}


def test_each_newcomer_example_names_the_option() -> None:
    missing_mode = {"loc": ["body", "access_mode"], "type": "union_tag_not_found"}
    assert said(create, {}, missing_mode) == [
        "--mode is required; choose batch, stream or analytics (see --help)"
    ]
    missing_purpose = {"loc": ["body", "batch", "policy", "purposes"], "type": "missing"}
    assert said(create, {"mode": "batch"}, missing_purpose)[0].startswith(
        "--purpose is required; choose research, public-health"
    )
    bad_id = {
        "loc": ["path", "product_id"],
        "type": "string_pattern_mismatch",
        "ctx": {"pattern": "^0x[0-9a-fA-F]{64}$"},
    }
    assert said(show, {"product_id": "abc"}, bad_id) == [
        "PRODUCT_ID 'abc' must be an id: 0x followed by 64 hex digits (see --help)"
    ]


@pytest.mark.parametrize(
    ("detail", "given", "sentence"),
    [
        (
            {"loc": ["body", "batch", "policy", "purposes", 1], "type": "enum"},
            {"purpose": ["research", "fun"]},
            "--purpose 'fun' is not one of the allowed values (see --help)",
        ),
        (
            {"loc": ["body", "title"], "type": "string_too_long", "ctx": {"max_length": 9}},
            {"title": "x" * 100},
            "--title is too long: at most 9 characters",
        ),
        (
            {"loc": ["body", "stream", "prices", "access"], "type": "amount_type",
             "message": "amount strings hold only the digits 0-9"},
            {"price_access": "five"},
            "--price-access 'five': amount strings hold only the digits 0-9",
        ),
        (
            {"loc": ["body", "batch", "storage_links"], "type": "too_long",
             "ctx": {"max_length": 2}},
            {},
            "--link is too long: at most 2 values",
        ),
        (
            {"loc": ["body", "batch", "colour"], "type": "extra_forbidden"},
            {},
            "the field 'colour' is not accepted here: leave it out",
        ),
        (
            {"loc": ["body", "batch", "tags", 0], "type": "string_pattern_mismatch",
             "ctx": {"pattern": "^(?!x)y$"}},
            {},
            "the field 'tags' is not in the expected form",
        ),
    ],
)  # fmt: skip
def test_problems_in_words(detail: dict[str, Any], given: dict[str, Any], sentence: str) -> None:
    [line] = said(create, given, detail)
    assert line.startswith(sentence)


def test_several_problems_are_listed_once_each() -> None:
    twice = {"loc": ["body", "access_mode"], "type": "union_tag_not_found"}
    title = {"loc": ["body", "title"], "type": "string_too_short", "ctx": {"min_length": 1}}
    assert said(create, {}, twice, twice, title) == [
        "2 problems (see --help):",
        "  - --mode is required; choose batch, stream or analytics",
        "  - --title must not be empty",
    ]


def test_other_refusals_say_what_to_do_next() -> None:
    unknown = ApiError(404, "product_not_found", "no product 0xab", {"id": "0xab"})
    assert messages.explain(unknown, {}) == (
        "product_not_found",
        ["no product 0xab; find products with 'kraken-market products list'"],
    )
    bought = ApiError(409, "already_bought", "bought already", {"item": "0xab", "purchase": 4})
    [line] = messages.explain(bought, {})[1]
    assert "kraken-market files fetch 0xab --purchase 4" in line and "--again" in line
    local = NotFound("not here; run 'kraken-market up'")
    assert messages.explain(local, {}) == ("not_found", ["not here; run 'kraken-market up'"])
