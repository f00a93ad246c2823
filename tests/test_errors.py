"""``validation_details``: pydantic's errors as the API's ``validation_error`` details."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from kraken_market.catalog.schemas import ProductCreate
from kraken_market.errors import validation_details
from tests.factories import product_body


def _details(body: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(ProductCreate).validate_python(body)
    return validation_details(caught.value.errors())


def test_a_missing_tag_is_located_at_its_field() -> None:
    body = product_body("batch")
    del body["access_mode"]
    assert _details(body) == [
        {"loc": ["access_mode"], "type": "union_tag_not_found", "message": "Field required"}
    ]


def test_an_unknown_tag_names_the_tags_it_may_be() -> None:
    [detail] = _details(product_body("batch", access_mode="bulk"))
    assert detail == {
        "loc": ["access_mode"],
        "type": "union_tag_invalid",
        "message": "Input should be 'batch', 'stream' or 'analytics'",
        "ctx": {"expected": ["batch", "stream", "analytics"]},
    }
    assert "bulk" not in str(detail)  # the input is never echoed


def test_constraints_are_kept_and_the_input_is_not() -> None:
    body = product_body("batch", tags=["Bad Tag"], title="x" * 201)
    body["policy"]["purposes"] = ["resarch"]
    details = {tuple(d["loc"]): d for d in _details(body)}
    assert details[("batch", "tags", 0)]["ctx"] == {"pattern": "^[a-z0-9][a-z0-9-]*$"}
    assert details[("batch", "title")]["ctx"] == {"max_length": 200}
    expected = details[("batch", "policy", "purposes", 0)]["ctx"]["expected"]
    assert expected == ["research", "public-health", "commercial", "marketing", "education"]
    assert "resarch" not in str(details) and "Bad Tag" not in str(details)


def test_a_missing_field_has_no_ctx() -> None:
    class Thing(BaseModel):
        kind: Literal["a", "b"]
        count: Annotated[int, Field(ge=1)]

    with pytest.raises(ValidationError) as caught:
        Thing.model_validate({"count": 0})
    assert validation_details(caught.value.errors()) == [
        {"loc": ["kind"], "type": "missing", "message": "Field required"},
        {
            "loc": ["count"],
            "type": "greater_than_equal",
            "message": "Input should be greater than or equal to 1",
            "ctx": {"ge": 1},
        },
    ]
