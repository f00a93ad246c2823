"""Search tokenisation and query parsing (pure functions, no database)."""

from __future__ import annotations

import pytest

from kraken_market.catalog.errors import InvalidQuery
from kraken_market.catalog.search import Term, index_text, parse_query, tokens


def test_tokens_fold_case_accents_and_punctuation() -> None:
    assert tokens("Café-Daten: Zürich, ÅRHUS & São_Paulo!") == [
        "cafe",
        "daten",
        "zurich",
        "arhus",
        "sao",
        "paulo",
    ]
    assert tokens("Straße ﬁle ２０２６") == ["strasse", "file", "2026"]
    assert tokens("Ελληνικά данные") == ["ελληνικα", "данные"]
    assert index_text("  a  b ") == "a b"


def test_parse_query_marks_prefixes() -> None:
    assert parse_query("heart rat*") == [Term("heart"), Term("rat", prefix=True)]
    assert parse_query("public-health*") == [Term("public"), Term("health", prefix=True)]


@pytest.mark.parametrize("query", ["", "   ", "!!! ---", "*"])
def test_query_without_words_is_refused(query: str) -> None:
    with pytest.raises(InvalidQuery):
        parse_query(query)


def test_query_with_too_many_words_is_refused() -> None:
    with pytest.raises(InvalidQuery):
        parse_query(" ".join(f"w{i}" for i in range(17)))
