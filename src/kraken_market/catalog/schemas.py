"""API shapes of the catalog (``XBase → XCreate/XUpdate → XPublic``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from kraken_market.catalog.fields import (
    UNIQUE,
    Amount,
    AwareTime,
    CredentialType,
    Description,
    Id,
    NoNul,
    Region,
    ShortText,
    StorageLink,
    Tag,
    Title,
    Weight,
    unique,
)
from kraken_market.catalog.vocabulary import AccessMode, Availability, BuyerCategory, Purpose

Strict = ConfigDict(extra="forbid", validate_by_name=False, validate_by_alias=True)

ColumnName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Category = Annotated[str, Field(min_length=1, max_length=100), NoNul]
Bound = Annotated[float, Field(strict=True, allow_inf_nan=False)]


ColumnLabel = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]


class _ColumnBase(BaseModel):
    model_config = Strict

    name: ColumnName = Field(description="the identifier computations, filters and share files use")
    label: ColumnLabel | None = Field(
        default=None,
        # Left out of the JSON when absent, so the metadata hash of a product published
        # before labels existed (trade.digests) stays what the chain holds.
        exclude_if=lambda value: value is None,
        description="the column's name in the seller's data (free text, e.g. 'Heart rate "
        "(bpm)'), shown to buyers; absent when it is the name itself",
    )
    nullable: StrictBool = False
    description: ShortText | None = None

    @property
    def shown(self) -> str:
        """What people read: the seller's own name of the column."""
        return self.label or self.name


class NumericColumn(_ColumnBase):
    """A number with an optional unit and valid range (the range bounds fixed-point encoding)."""

    type: Literal["numeric"]
    unit: Annotated[str, Field(max_length=32), NoNul] | None = None
    min: Bound | None = None
    max: Bound | None = None

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError("range_inverted", "min is greater than max")
        return self


class CategoricalColumn(_ColumnBase):
    """One of declared categories (one-hot encoded for analytics)."""

    type: Literal["categorical"]
    categories: Annotated[
        list[Category], Field(min_length=1, max_length=1000), UNIQUE, AfterValidator(unique)
    ]


Column = Annotated[NumericColumn | CategoricalColumn, Field(discriminator="type")]


class DataSchema(BaseModel):
    """The schema of tabular data: what buyers may compute on, what owners must share."""

    model_config = Strict

    columns: Annotated[list[Column], Field(min_length=1, max_length=256)]

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        unique([column.name for column in self.columns])
        unique([column.label or column.name for column in self.columns])
        return self

    def source_names(self) -> list[str]:
        """Each column's name in the data file (its label, else its name)."""
        return [column.label or column.name for column in self.columns]


Seconds = Annotated[int, Field(ge=1, le=10 * 366 * 86400, strict=True)]


class Prices(BaseModel):
    """All prices of a product as shown to buyers (those of other modes are null)."""

    access: Amount | None = Field(default=None, description="per access to a batch file")
    computation: Amount | None = Field(default=None, description="per analytics computation")
    subscription_per_second: Amount | None = Field(default=None, description="stream price")
    subscription_min_seconds: int | None = None


class BatchPrices(BaseModel):
    model_config = Strict

    access: Amount = Field(description="per access to the file")


class StreamPrices(BaseModel):
    model_config = Strict

    subscription_per_second: Amount
    subscription_min_seconds: Seconds = Field(description="shortest subscription sold")


class AnalyticsPrices(BaseModel):
    model_config = Strict

    computation: Amount = Field(description="per computation")


ModePrices = BatchPrices | StreamPrices | AnalyticsPrices
PRICES_OF_MODE: dict[AccessMode, type[ModePrices]] = {
    AccessMode.BATCH: BatchPrices,
    AccessMode.STREAM: StreamPrices,
    AccessMode.ANALYTICS: AnalyticsPrices,
}
LIST_PRICE: dict[AccessMode, str] = {
    AccessMode.BATCH: "access",
    AccessMode.STREAM: "subscription_per_second",
    AccessMode.ANALYTICS: "computation",
}
"""The price that search filters and sorts by, per access mode."""


class Policy(BaseModel):
    """Who may buy, for what, from where and until when (checked off chain by the verifier)."""

    model_config = Strict

    purposes: Annotated[list[Purpose], Field(min_length=1), UNIQUE, AfterValidator(unique)]
    buyer_categories: Annotated[
        list[BuyerCategory], Field(min_length=1), UNIQUE, AfterValidator(unique)
    ] = Field(default_factory=lambda: list(BuyerCategory))
    credential_types: Annotated[
        list[CredentialType], Field(max_length=16), UNIQUE, AfterValidator(unique)
    ] = Field(default_factory=list)
    regions: Annotated[list[Region], Field(max_length=300), UNIQUE, AfterValidator(unique)] = Field(
        default_factory=list, description="ISO 3166-1 alpha-2, EU or EEA; empty: anywhere"
    )
    expires_at: AwareTime | None = Field(
        default=None, description="no new purchases after this time (must be in the future)"
    )


Tags = Annotated[list[Tag], Field(max_length=32), UNIQUE, AfterValidator(unique)]
Parents = Annotated[list[Id], Field(max_length=64), UNIQUE, AfterValidator(unique)]
StorageLinks = Annotated[list[StorageLink], Field(max_length=64)]


class _ProductCreate(BaseModel):
    model_config = Strict

    title: Title
    description: Description = ""
    tags: Tags = Field(default_factory=list)
    policy: Policy
    stake: Amount = 0
    parents: Parents = Field(default_factory=list)
    storage_links: StorageLinks = Field(default_factory=list)


class BatchProductCreate(_ProductCreate):
    """A file sold per access; a schema is optional (for tabular files)."""

    access_mode: Literal[AccessMode.BATCH]
    prices: BatchPrices
    data_schema: DataSchema | None = Field(default=None, alias="schema")


class StreamProductCreate(_ProductCreate):
    """A stream sold per second of subscription, with a minimum duration."""

    access_mode: Literal[AccessMode.STREAM]
    prices: StreamPrices
    data_schema: DataSchema | None = Field(default=None, alias="schema")


class AnalyticsProductCreate(_ProductCreate):
    """Data buyers never see, only compute on: the schema is required."""

    access_mode: Literal[AccessMode.ANALYTICS]
    prices: AnalyticsPrices
    data_schema: DataSchema = Field(alias="schema")


ProductCreate = Annotated[
    BatchProductCreate | StreamProductCreate | AnalyticsProductCreate,
    Field(discriminator="access_mode"),
]


class ProductUpdate(BaseModel):
    """A partial update; access mode, schema and stake are fixed once a product exists."""

    model_config = Strict

    # Leave a field out to keep it; null is not a value (the spec says so too).
    title: Title | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    tags: Tags | SkipJsonSchema[None] = None
    prices: ModePrices | SkipJsonSchema[None] = Field(
        default=None, description="the prices of the product's access mode, replaced as a whole"
    )
    policy: Policy | SkipJsonSchema[None] = None
    availability: Literal[Availability.LISTED, Availability.PAUSED] | SkipJsonSchema[None] = Field(
        default=None, description="retire with POST /products/{id}/retire"
    )
    parents: Parents | SkipJsonSchema[None] = None
    storage_links: StorageLinks | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise PydanticCustomError(
                "null_not_allowed",
                "leave out what should not change; null is not a value for {fields}",
                {"fields": ", ".join(nulls)},
            )
        return self


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
    stake: Amount = Field(
        description="the stake the chain holds for the product once it is published there "
        "(as indexed; 0 once released or slashed), else the stake the seller declared, "
        "which 'trade publish' locks by default"
    )
    stake_on_chain: bool = Field(
        default=False, description="true: stake is the chain's; false: it is the declared one"
    )
    parents: list[str]
    storage_links: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[ProductPublic]
    next_cursor: str | None = Field(
        description="pass as ?cursor= for the next page; null at the end"
    )


class RetireRequest(BaseModel):
    model_config = Strict

    reason: ShortText | None = None


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
    status: Literal["pending", "awaiting_chain", "active"] = Field(
        description="pending: waiting for member owners' consent; awaiting_chain: every "
        "owner consented, the chain has not created it yet; active: on chain, for sale"
    )
    members: list[UnionMemberPublic]
    created_at: datetime


class UnionPage(BaseModel):
    items: list[UnionPublic]
    next_cursor: str | None
