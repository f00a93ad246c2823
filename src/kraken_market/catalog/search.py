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
description; ties go to the newest product. The score has eight possible
values, so a relevance page is read level by level, best first, each level
newest first, stopping when the page is full: the database never scores and
sorts every match of a common word (see ``catalog.query``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    column,
    literal_column,
    not_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import cast

from kraken_market.catalog.errors import InvalidQuery
from kraken_market.catalog.models import Product

_WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 16
MAX_TOKEN = 64
FIELDS = ("fts_title", "fts_tags", "fts_description")


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


Level = tuple[bool, bool, bool]
"""Whether every word occurs in the title, in the tags, in the description."""


def score_of(level: Level) -> int:
    return sum(points for hit, points in zip(level, (4, 2, 1), strict=True) if hit)


LEVELS: list[Level] = sorted(
    ((t, g, d) for t in (True, False) for g in (True, False) for d in (True, False)),
    key=lambda level: -score_of(level),
)


class TextIndex(Protocol):
    """Turns query terms into SQL on :class:`Product` rows."""

    def matches(self, terms: list[Term]) -> ColumnElement[bool]:
        """Rows in which every word occurs (in any field)."""
        ...

    def at_level(self, terms: list[Term], level: Level) -> tuple[Select[Any], ColumnElement[int]]:
        """Products in which every word occurs with exactly ``level``'s pattern of fields,
        and the column equal to ``products.seq`` to order and page them by."""
        ...

    def field_has_match(self, session: Session, terms: list[Term], field: str) -> bool:
        """Whether any product holds every word in ``field`` (to skip empty levels)."""
        ...


class Fts5Index:
    """SQLite FTS5: ``products_fts`` is an external-content index keyed by ``products.seq``.

    A level is one FTS5 expression: every word anywhere, AND the column-filtered
    expression for each field that must hold all words, NOT for each that must
    not. Level queries are driven by the FTS5 table in descending rowid order,
    which FTS5 evaluates lazily: a dense level stops after one page.
    """

    fts = table("products_fts", column("rowid", Integer))

    @staticmethod
    def _expr(terms: list[Term]) -> str:
        # Words hold only letters and digits, so double quotes cannot be broken out of.
        return " AND ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in terms)

    @staticmethod
    def _match(expr: str) -> ColumnElement[bool]:
        return text("products_fts MATCH :fts").bindparams(bindparam("fts", expr))  # type: ignore[return-value]

    def matches(self, terms: list[Term]) -> ColumnElement[bool]:
        sub = select(self.fts.c.rowid).where(self._match(self._expr(terms)))
        return Product.seq.in_(sub)

    def at_level(self, terms: list[Term], level: Level) -> tuple[Select[Any], ColumnElement[int]]:
        words = self._expr(terms)
        expr = f"({words})"
        for field, hit in zip(FIELDS, level, strict=True):
            expr += (" AND " if hit else " NOT ") + f"{{{field}}} : ({words})"
        statement = (
            select(Product)
            .select_from(self.fts)
            .join(Product, Product.seq == self.fts.c.rowid)
            .where(self._match(expr))
        )
        return statement, self.fts.c.rowid

    def field_has_match(self, session: Session, terms: list[Term], field: str) -> bool:
        expr = f"{{{field}}} : ({self._expr(terms)})"
        found = session.scalar(select(self.fts.c.rowid).where(self._match(expr)).limit(1))
        return found is not None


class TsvectorIndex:
    """PostgreSQL: ``search_vector`` (all fields, GIN index) and one stored vector per field.

    Vectors are built by ``array_to_tsvector`` from the normalised words, so
    PostgreSQL's parser, dictionaries and locale play no part.
    """

    VECTORS: ClassVar[dict[str, str]] = {
        "fts_title": "products.title_vector",
        "fts_tags": "products.tags_vector",
        "fts_description": "products.description_vector",
    }

    @staticmethod
    def _query(terms: list[Term]) -> ColumnElement[Any]:
        query = " & ".join(f"'{t.word}'" + (":*" if t.prefix else "") for t in terms)
        return cast(bindparam("tsq", query), TSQUERY)

    @staticmethod
    def _match(vector: str, query: ColumnElement[Any]) -> ColumnElement[bool]:
        return literal_column(vector).bool_op("@@")(query)

    def matches(self, terms: list[Term]) -> ColumnElement[bool]:
        return self._match("products.search_vector", self._query(terms))

    def at_level(self, terms: list[Term], level: Level) -> tuple[Select[Any], ColumnElement[int]]:
        query = self._query(terms)
        conditions = [self._match("products.search_vector", query)]
        for field, hit in zip(FIELDS, level, strict=True):
            in_field = self._match(self.VECTORS[field], query)
            conditions.append(in_field if hit else not_(in_field))
        return select(Product).where(and_(*conditions)), Product.seq  # type: ignore[return-value]

    def field_has_match(self, session: Session, terms: list[Term], field: str) -> bool:
        # All words in the field implies all words anywhere; the field's GIN index answers.
        found = session.scalar(
            select(Product.seq).where(self._match(self.VECTORS[field], self._query(terms))).limit(1)
        )
        return found is not None


def text_index(dialect: str) -> TextIndex:
    if dialect == "sqlite":
        return Fts5Index()
    if dialect == "postgresql":
        return TsvectorIndex()
    raise NotImplementedError(f"no full-text index for {dialect}")
