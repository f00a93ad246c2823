"""What a buyer asks the compute nodes to compute: a :class:`ComputationSpec`.

A spec names a catalogue function (``mean@1``), its parameters, the columns it
reads and an optional row filter; the products it runs over are the items of
the paid computation request on chain. Its :meth:`~ComputationSpec.digest`
(SHA-256 of the canonical JSON) is the ``function_id`` the buyer pays for, so
a node runs exactly what was paid for and nothing else.

Filters are trees of conditions ``column op constant`` (``<``, ``<=``, ``>``,
``>=``, ``==``, ``!=``) combined with ``{"and": [...]}`` / ``{"or": [...]}``,
e.g. ``{"and": [{"column": "age", "op": ">=", "value": 18},
{"column": "sex", "op": "==", "value": "f"}]}``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Op = Literal["<", "<=", ">", ">=", "==", "!="]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
MAX_CONDITIONS = 16
MAX_COLUMNS = 32


class Condition(BaseModel):
    """``column op value``: a number for numeric columns, a category (== / != only)
    for categorical ones. Rows where a nullable column is missing never match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: Name
    op: Op
    value: float | str

    @model_validator(mode="after")
    def _finite(self) -> Condition:
        if isinstance(self.value, float) and not abs(self.value) < 2**31:
            raise ValueError("a filter constant is finite and within +-2**31")
        return self


class And(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    all_of: list[Filter] = Field(alias="and", min_length=1)


class Or(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    any_of: list[Filter] = Field(alias="or", min_length=1)


Filter = Condition | And | Or
And.model_rebuild()
Or.model_rebuild()


def conditions(tree: Filter | None) -> list[Condition]:
    """The leaves of a filter, left to right."""
    if tree is None:
        return []
    if isinstance(tree, Condition):
        return [tree]
    children = tree.all_of if isinstance(tree, And) else tree.any_of
    return [leaf for child in children for leaf in conditions(child)]


class ComputationSpec(BaseModel):
    """One computation: function, parameters, columns, filter, minimum cohort."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    function: Annotated[str, StringConstraints(pattern=r"^[a-z_]+@[0-9]+$", max_length=64)]
    params: dict[str, Any] = Field(default_factory=dict)
    columns: Annotated[list[Name], Field(max_length=MAX_COLUMNS)] = Field(default_factory=list)
    filter: Filter | None = None
    min_cohort: Annotated[int, Field(ge=1, le=1_000_000)] = 10

    @model_validator(mode="after")
    def _bounded(self) -> ComputationSpec:
        if len(conditions(self.filter)) > MAX_CONDITIONS:
            raise ValueError(f"a filter has at most {MAX_CONDITIONS} conditions")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError("a column is selected twice")
        return self

    def canonical(self) -> bytes:
        """Sorted-key compact JSON of the spec (defaults included): what the digest covers."""
        data = self.model_dump(mode="json", by_alias=True)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def digest(self) -> bytes:
        """The 32-byte ``function_id`` of the computation request on chain."""
        return hashlib.sha256(b"kraken-market computation v1\x00" + self.canonical()).digest()


def filter_from_json(data: Any) -> Filter | None:
    """A filter tree from its JSON form (``None`` stays ``None``)."""
    if data is None:
        return None
    return ComputationSpec.model_validate({"function": "count@1", "filter": data}).filter
