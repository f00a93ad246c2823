"""API shapes of the catalog (``XBase → XCreate/XUpdate → XPublic``)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from kraken_market.catalog.fields import (
    Amount,
    CredentialType,
    Description,
    Id,
    Region,
    StorageLink,
    Tag,
    Title,
    Weight,
    require_aware,
    unique,
)
from kraken_market.catalog.vocabulary import AccessMode, Availability, BuyerCategory, Purpose

Strict = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)

ColumnName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Category = Annotated[str, Field(min_length=1, max_length=100)]
Bound = Annotated[float, Field(allow_inf_nan=False)]


class Column(BaseModel):
    """One column of a tabular product; numeric columns carry a unit and a valid range."""

    model_config = Strict

    name: ColumnName
    type: Literal["numeric", "categorical"]
    unit: Annotated[str, Field(max_length=32)] | None = None
    min: Bound | None = None
    max: Bound | None = None
    categories: Annotated[
        list[Category], Field(min_length=1, max_length=1000), AfterValidator(unique)
    ] | None = None
    nullable: bool = False
    description: Annotated[str, Field(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.type == "categorical":
            if not self.categories:
                raise PydanticCustomError(
                    "categories_required", "a categorical column declares its categories"
                )
            if self.min is not None or self.max is not None or self.unit is not None:
                raise PydanticCustomError(
                    "not_numeric", "unit and range apply to numeric columns only"
                )
        else:
            if self.categories is not None:
                raise PydanticCustomError(
                    "not_categorical", "categories apply to categorical columns only"
                )
            if self.min is not None and self.max is not None and self.min > self.max:
                raise PydanticCustomError("range_inverted", "min is greater than max")
            for bound in (self.min, self.max):
                if bound is not None and not math.isfinite(bound):
                    raise PydanticCustomError("range_infinite", "range bounds must be finite")
        return self


class DataSchema(BaseModel):
    """The schema of tabular data: what buyers may compute on, what owners must share."""

    model_config = Strict

    columns: Annotated[list[Column], Field(min_length=1, max_length=256)]

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        unique([column.name for column in self.columns])
        return self


class Prices(BaseModel):
    """Prices in DATA base units; which are required depends on the access mode."""

    model_config = Strict

    access: Amount | None = Field(default=None, description="per access to a batch file")
    computation: Amount | None = Field(default=None, description="per analytics computation")
    subscription_per_second: Amount | None = Field(default=None, description="stream price")
    subscription_min_seconds: Annotated[int, Field(ge=1, le=10 * 366 * 86400, strict=True)] | None = (
        None
    )


REQUIRED_PRICES: dict[AccessMode, tuple[str, ...]] = {
    AccessMode.BATCH: ("access",),
    AccessMode.STREAM: ("subscription_per_second", "subscription_min_seconds"),
    AccessMode.ANALYTICS: ("computation",),
}


def check_prices(mode: AccessMode, prices: Prices) -> None:
    """The mode's prices must be set and no other: a price that cannot be paid misleads buyers."""
    required = REQUIRED_PRICES[mode]
    for name in required:
        if getattr(prices, name) is None:
            raise PydanticCustomError(
                "price_required", "a {mode} product needs prices.{name}", {"mode": mode, "name": name}
            )
    for name in Prices.model_fields:
        if name not in required and getattr(prices, name) is not None:
            raise PydanticCustomError(
                "price_not_applicable",
                "prices.{name} does not apply to a {mode} product",
                {"mode": mode, "name": name},
            )


class Policy(BaseModel):
    """Who may buy, for what, from where and until when (checked off chain by the verifier)."""

    model_config = Strict

    purposes: Annotated[list[Purpose], Field(min_length=1), AfterValidator(unique)]
    buyer_categories: Annotated[
        list[BuyerCategory], Field(min_length=1), AfterValidator(unique)
    ] = Field(default_factory=lambda: list(BuyerCategory))
    credential_types: Annotated[
        list[CredentialType], Field(max_length=16), AfterValidator(unique)
    ] = Field(default_factory=list)
    regions: Annotated[list[Region], Field(max_length=300), AfterValidator(unique)] = Field(
        default_factory=list, description="ISO 3166-1 alpha-2 codes, EU or EEA; empty: anywhere"
    )
    expires_at: Annotated[datetime, AfterValidator(require_aware)] | None = None


Tags = Annotated[list[Tag], Field(max_length=32), AfterValidator(unique)]
Parents = Annotated[list[Id], Field(max_length=64), AfterValidator(unique)]
StorageLinks = Annotated[list[StorageLink], Field(max_length=64)]


class ProductCreate(BaseModel):
    model_config = Strict

    title: Title
    description: Description = ""
    tags: Tags = Field(default_factory=list)
    access_mode: AccessMode
    data_schema: DataSchema | None = Field(default=None, alias="schema")
    prices: Prices
    policy: Policy
    stake: Amount = 0
    parents: Parents = Field(default_factory=list)
    storage_links: StorageLinks = Field(default_factory=list)

    @model_validator(mode="after")
    def _mode_rules(self) -> Self:
        check_prices(self.access_mode, self.prices)
        if self.access_mode is AccessMode.ANALYTICS and self.data_schema is None:
            raise PydanticCustomError("schema_required", "an analytics product needs a schema")
        return self


class ProductUpdate(BaseModel):
    """A partial update; access mode, schema and stake are fixed once a product exists."""

    model_config = Strict

    title: Title | None = None
    description: Description | None = None
    tags: Tags | None = None
    prices: Prices | None = None
    policy: Policy | None = None
    availability: Literal[Availability.LISTED, Availability.PAUSED] | None = Field(
        default=None, description="retire with POST /products/{id}/retire"
    )
    parents: Parents | None = None
    storage_links: StorageLinks | None = None


class ProductPublic(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    id: str
    owner: str
    title: str
    description: str
    tags: list[str]
    access_mode: AccessMode
    data_schema: DataSchema | None = Field(alias="schema")
    prices: Prices
    policy: Policy
    availability: Availability
    stake: Amount
    parents: list[str]
    storage_links: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductPublic]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null at the end")


class RetireRequest(BaseModel):
    model_config = Strict

    reason: Annotated[str, Field(max_length=1000)] | None = None


class Change(BaseModel):
    before: object = Field(alias="from")
    after: object = Field(alias="to")

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)


class RevisionPublic(BaseModel):
    version: int
    action: Literal["created", "updated", "retired"]
    actor: str
    at: datetime
    changes: dict[str, Change]
    reason: str | None = None


class LineageNode(BaseModel):
    id: str
    title: str
    owner: str
    availability: Availability
    depth: int = Field(description="generations from the product: <0 ancestors, >0 descendants")


class LineageEdge(BaseModel):
    parent: str
    child: str


class LineageGraph(BaseModel):
    product: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]


class UnionMemberIn(BaseModel):
    model_config = Strict

    product_id: Id
    weight: Weight = 1


class UnionCreate(BaseModel):
    model_config = Strict

    title: Title
    description: Description = ""
    members: Annotated[list[UnionMemberIn], Field(min_length=2, max_length=256)]


class UnionMemberPublic(BaseModel):
    product_id: str
    owner: str
    weight: int
    consented: bool


class UnionPublic(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    id: str
    title: str
    description: str
    creator: str
    access_mode: AccessMode
    data_schema: DataSchema | None = Field(alias="schema")
    status: Literal["pending", "active"]
    members: list[UnionMemberPublic]
    created_at: datetime


class UnionPage(BaseModel):
    items: list[UnionPublic]
    next_cursor: str | None
