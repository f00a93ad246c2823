"""Full-text search over title, tags and description, the same on SQLite and PostgreSQL.

Both engines are handed identical tokens: :func:`tokens` normalises text in
Python (case folding, compatibility decomposition, accents dropped, split on
anything that is not a letter or digit), the ``fts_*`` columns store the
tokens space-separated, and neither engine re-tokenises them in a way that
could differ (FTS5 ``unicode61`` splits on the same characters; PostgreSQL
builds its ``tsvector`` with ``array_to_tsvector``, no parser or dictionary).

Query language: words separated by spaces, all required; a word ending in
``*`` matches as a prefix. Relevance is portable too, not an engine score:
4 points when every word occurs in the title, 2 in the tags, 1 in the
description; ties go to the newest product.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    case,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.sql.expression import cast

from kraken_market.catalog.errors import InvalidQuery
from kraken_market.catalog.models import Product

_WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 16
MAX_TOKEN = 64
FIELDS = ("fts_title", "fts_tags", "fts_description")
FIELD_POINTS = {"fts_title": 4, "fts_tags": 2, "fts_description": 1}


def tokens(text_: str) -> list[str]:
    """Searchable words of ``text_`` (see module docstring); long words are cut at 64."""
    folded = unicodedata.normalize("NFKD", text_.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [word[:MAX_TOKEN] for word in _WORD.findall(plain)]


def index_text(text_: str) -> str:
    return " ".join(tokens(text_))


@dataclass(frozen=True)
class Term:
    word: str
    prefix: bool = False


def parse_query(query: str) -> list[Term]:
    terms: list[Term] = []
    for chunk in query.split():
        words = tokens(chunk)
        for i, word in enumerate(words):
            prefix = chunk.endswith("*") and i == len(words) - 1
            terms.append(Term(word, prefix))
    if not terms:
        raise InvalidQuery("the search text has no letters or digits", details={"q": query})
    if len(terms) > MAX_TERMS:
        raise InvalidQuery(f"search with at most {MAX_TERMS} words", details={"q": query})
    return terms


class TextIndex(Protocol):
    """Turns query terms into SQL conditions on :class:`Product` rows."""

    def matches(self, terms: list[Term]) -> ColumnElement[bool]: ...

    def field_matches(self, field: str, terms: list[Term], n: int) -> ColumnElement[bool]: ...


class Fts5Index:
    """SQLite FTS5: ``products_fts`` is an external-content index keyed by ``products.seq``."""

    @staticmethod
    def _expr(terms: list[Term]) -> str:
        # Words hold only letters and digits, so double quotes cannot be broken out of.
        return " AND ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in terms)

    def _rowids(self, expr: str, name: str) -> ColumnElement[bool]:
        sub: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(text("products_fts"))
            .where(text(f"products_fts MATCH :{name}").bindparams(bindparam(name, expr)))
        )
        return Product.seq.in_(sub)

    def matches(self, terms: list[Term]) -> ColumnElement[bool]:
        return self._rowids(self._expr(terms), "fts_all")

    def field_matches(self, field: str, terms: list[Term], n: int) -> ColumnElement[bool]:
        return self._rowids(f"{{{field}}} : ({self._expr(terms)})", f"fts_{n}")


class TsvectorIndex:
    """PostgreSQL: the generated ``search_vector`` column (all fields) with its GIN index.

    Vectors built by ``array_to_tsvector`` have no positions and so no weights;
    a field's own vector is built on the fly, only for rows the index matched.
    """

    @staticmethod
    def _query(terms: list[Term]) -> str:
        return " & ".join(f"'{t.word}'" + (":*" if t.prefix else "") for t in terms)

    @staticmethod
    def _match(vector: ColumnElement[Any], query: str, name: str) -> ColumnElement[bool]:
        return vector.bool_op("@@")(cast(bindparam(name, query), TSQUERY))

    def matches(self, terms: list[Term]) -> ColumnElement[bool]:
        return self._match(literal_column("products.search_vector"), self._query(terms), "ts_all")

    def field_matches(self, field: str, terms: list[Term], n: int) -> ColumnElement[bool]:
        column = getattr(Product, field)
        vector = func.array_to_tsvector(func.string_to_array(column, " "))
        return self._match(vector, self._query(terms), f"ts_{n}")


def text_index(dialect: str) -> TextIndex:
    if dialect == "sqlite":
        return Fts5Index()
    if dialect == "postgresql":
        return TsvectorIndex()
    raise NotImplementedError(f"no full-text index for {dialect}")


def relevance(index: TextIndex, terms: list[Term]) -> ColumnElement[int]:
    """The portable relevance score (see module docstring)."""
    score: ColumnElement[int] | None = None
    for n, field in enumerate(FIELDS):
        points = case((index.field_matches(field, terms, n), FIELD_POINTS[field]), else_=0)
        score = points if score is None else score + points
    assert score is not None
    return score
