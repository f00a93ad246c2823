"""The columns of a share file: a product's schema, expanded for computation.

A product's schema is the catalog's :class:`~kraken_market.catalog.schemas.DataSchema`
(numeric columns with optional ``min``/``max``, categorical columns with their
declared ``categories``, either ``nullable``). Computation needs numbers only,
so each schema column becomes one or more *share columns*, all fixed-point:

- numeric ``x`` -> ``x`` (a missing value is 0) and, if nullable, ``x#present``
  (1 where a value is present, else 0), so ``mean = sum(x) / sum(x#present)``;
- categorical ``c`` with categories k_1..k_n -> ``c=k_1`` .. ``c=k_n``, one-hot
  (a missing value, allowed if nullable, is all zeros).

``=`` and ``#`` cannot occur in schema column names, so expanded names never collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from kraken_market.catalog.schemas import CategoricalColumn, DataSchema, NumericColumn

Kind = Literal["numeric", "present", "one_hot"]
PRESENT_SUFFIX = "#present"


@dataclass(frozen=True)
class ShareColumn:
    """One fixed-point column of a share file, derived from schema column ``source``."""

    name: str
    source: str
    kind: Kind
    category: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "source": self.source, "kind": self.kind}
        if self.category is not None:
            data["category"] = self.category
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShareColumn:
        return cls(str(data["name"]), str(data["source"]), data["kind"], data.get("category"))


def expand(schema: DataSchema) -> list[ShareColumn]:
    """The share columns of a product schema, in schema order."""
    columns: list[ShareColumn] = []
    for column in schema.columns:
        if isinstance(column, NumericColumn):
            columns.append(ShareColumn(column.name, column.name, "numeric"))
            if column.nullable:
                name = column.name + PRESENT_SUFFIX
                columns.append(ShareColumn(name, column.name, "present"))
        else:
            assert isinstance(column, CategoricalColumn)
            columns.extend(
                ShareColumn(f"{column.name}={category}", column.name, "one_hot", category)
                for category in column.categories
            )
    return columns
