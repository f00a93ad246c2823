"""Products over HTTP: create, read, update, retire, history; owner-only changes; bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kraken_market.types import UINT256_MAX
from tests.conftest import Account
from tests.factories import SCHEMA, product_body

URL = "/api/v1/products"


def test_create_and_read_a_product(http: TestClient, alice: Account) -> None:
    created = alice.api.create_product(product_body())
    assert created["owner"] == alice.principal.account
    assert created["id"].startswith("0x") and len(created["id"]) == 66
    assert created["availability"] == "listed"
    assert created["prices"] == {
        "access": "5000",
        "computation": None,
        "subscription_per_second": None,
        "subscription_min_seconds": None,
    }
    assert created["stake"] == "1000000000000000000"
    assert created["policy"]["buyer_categories"] == [
        "individual",
        "company",
        "research-institution",
        "public-body",
    ]
    read = http.get(f"{URL}/{created['id']}").json()
    assert read == created
    upper = http.get(f"{URL}/{created['id'].upper().replace('0X', '0x')}")
    assert upper.json()["id"] == created["id"]


def test_amounts_are_exact_up_to_uint256_max(alice: Account) -> None:
    body = product_body(stake=UINT256_MAX, prices={"access": str(UINT256_MAX - 1)})
    created = alice.api.create_product(body)
    assert int(created["stake"]) == UINT256_MAX
    assert int(created["prices"]["access"]) == UINT256_MAX - 1


@pytest.mark.parametrize("mode", ["batch", "stream", "analytics"])
def test_each_access_mode_needs_its_own_prices(http: TestClient, alice: Account, mode: str) -> None:
    assert http.post(URL, json=product_body(mode), headers=alice.headers).status_code == 201
    wrong = product_body(
        mode,
        prices={
            "access": 1,
            "computation": 1,
            "subscription_per_second": 1,
            "subscription_min_seconds": 60,
        },
    )
    answer = http.post(URL, json=wrong, headers=alice.headers)
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error"
    assert "extra_forbidden" in {d["type"] for d in answer.json()["details"]}


def test_analytics_needs_a_schema(http: TestClient, alice: Account) -> None:
    body = product_body("analytics")
    del body["schema"]
    answer = http.post(URL, json=body, headers=alice.headers)
    assert answer.status_code == 422
    assert answer.json()["details"][0] == {
        "loc": ["body", "analytics", "schema"],
        "type": "missing",
        "message": "Field required",
    }


def _bad(field: str, value: Any) -> dict[str, Any]:
    body = product_body("analytics")
    target = body
    *path, last = field.split(".")
    for part in path:
        target = target[part]
    target[last] = value
    return body


BAD_INPUT = [
    ("unknown field", "colour", "red", "extra_forbidden"),
    ("price as float", "prices.computation", 1.5, "amount_type"),
    ("negative price", "prices.computation", -1, "amount_negative"),
    ("price > 2^256-1", "prices.computation", UINT256_MAX + 1, "amount_too_large"),
    ("price string > 2^256-1", "prices.computation", str(UINT256_MAX + 1), "amount_too_large"),
    ("price not digits", "prices.computation", "12abc", "amount_type"),
    ("price as bool", "prices.computation", True, "amount_type"),
    ("stake as float", "stake", 1e3, "amount_type"),
    ("title too long", "title", "x" * 201, "string_too_long"),
    ("blank title", "title", "   ", "string_pattern_mismatch"),
    ("title with outer spaces", "title", " x ", "string_pattern_mismatch"),
    ("upper-case tag", "tags", ["Health"], "string_pattern_mismatch"),
    ("description too long", "description", "x" * 10_001, "string_too_long"),
    ("unknown purpose", "policy.purposes", ["world-domination"], "enum"),
    ("no purpose", "policy.purposes", [], "too_short"),
    ("repeated purpose", "policy.purposes", ["research", "research"], "duplicate"),
    ("unknown buyer category", "policy.buyer_categories", ["alien"], "enum"),
    ("unknown region", "policy.regions", ["XX"], "unknown_region"),
    ("naive expiry", "policy.expires_at", "2030-01-01T00:00:00", "timezone_required"),
    ("bad credential type", "policy.credential_types", ["not a type"], "string_pattern_mismatch"),
    ("unknown mode", "access_mode", "teleport", "union_tag_invalid"),
    ("bad tag", "tags", ["no spaces please"], "string_pattern_mismatch"),
    ("too many tags", "tags", [f"t{i}" for i in range(33)], "too_long"),
    ("bad parent id", "parents", ["0x1234"], "string_pattern_mismatch"),
    (
        "categorical without categories",
        "schema.columns",
        [{"name": "c", "type": "categorical"}],
        "missing",
    ),
    (
        "categories on a numeric column",
        "schema.columns",
        [{"name": "c", "type": "numeric", "categories": ["a"]}],
        "extra_forbidden",
    ),
    ("unknown column type", "schema.columns", [{"name": "c", "type": "text"}], "union_tag_invalid"),
    (
        "inverted range",
        "schema.columns",
        [{"name": "a", "type": "numeric", "min": 5, "max": 1}],
        "range_inverted",
    ),
    (
        "duplicate column",
        "schema.columns",
        [SCHEMA["columns"][0], SCHEMA["columns"][0]],
        "duplicate",
    ),
    (
        "bad column name",
        "schema.columns",
        [{"name": "1x", "type": "numeric"}],
        "string_pattern_mismatch",
    ),
    ("wrong type", "tags", "health", "list_type"),
    ("NUL in title", "title", "a\x00b", "nul_character"),
    ("NUL in description", "description", "\x00", "nul_character"),
    ("NUL in link", "storage_links", ["s3://b/\x00"], "nul_character"),
    (
        "bool as a bound",
        "schema.columns",
        [{"name": "a", "type": "numeric", "max": True}],
        "float_type",
    ),
    (
        "text as a flag",
        "schema.columns",
        [{"name": "a", "type": "numeric", "nullable": "yes"}],
        "bool_type",
    ),
    ("number as a time", "policy.expires_at", 4102444800, "datetime_type"),
]


@pytest.mark.parametrize(
    ("case", "field", "value", "error"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT]
)
def test_bad_input_is_refused_precisely_and_changes_nothing(
    http: TestClient, alice: Account, case: str, field: str, value: Any, error: str
) -> None:
    answer = http.post(URL, json=_bad(field, value), headers=alice.headers)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "validation_error"
    assert error in {d["type"] for d in body["details"]}, body
    assert (
        http.get(URL, params={"availability": ["listed", "paused", "retired"]}).json()["items"]
        == []
    )


def test_expired_policy_is_refused(http: TestClient, alice: Account) -> None:
    body = product_body(policy={"purposes": ["research"], "expires_at": "2001-01-01T00:00:00Z"})
    answer = http.post(URL, json=body, headers=alice.headers)
    assert (answer.status_code, answer.json()["code"]) == (422, "policy_expired")


def test_changes_need_a_token_and_ownership(http: TestClient, alice: Account, bob: Account) -> None:
    product = alice.api.create_product(product_body())
    assert http.post(URL, json=product_body()).json()["code"] == "unauthenticated"
    assert (
        http.post(URL, json=product_body(), headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )
    answer = http.patch(f"{URL}/{product['id']}", json={"title": "Mine now"}, headers=bob.headers)
    assert (answer.status_code, answer.json()["code"]) == (403, "not_owner")
    answer = http.post(f"{URL}/{product['id']}/retire", headers=bob.headers)
    assert (answer.status_code, answer.json()["code"]) == (403, "not_owner")
    assert http.get(f"{URL}/{product['id']}").json() == product


def test_unknown_and_malformed_ids(http: TestClient, alice: Account) -> None:
    unknown = "0x" + "00" * 32
    answer = http.get(f"{URL}/{unknown}")
    assert (answer.status_code, answer.json()["code"]) == (404, "product_not_found")
    assert (
        http.patch(f"{URL}/{unknown}", json={"title": "x"}, headers=alice.headers).status_code
        == 404
    )
    answer = http.get(f"{URL}/not-an-id")
    assert (answer.status_code, answer.json()["code"]) == (422, "validation_error")


def test_update_keeps_history_with_who_when_what(http: TestClient, alice: Account) -> None:
    product = alice.api.create_product(product_body())
    updated = alice.api.update_product(
        product["id"],
        {"title": "Resting heart rate", "prices": {"access": 6000}, "availability": "paused"},
    )
    assert updated["version"] == 2
    assert updated["availability"] == "paused"
    same = alice.api.update_product(product["id"], {"title": "Resting heart rate"})
    assert same["version"] == 2  # no change, no new version
    retired = alice.api.retire_product(product["id"], reason="consent withdrawn")
    assert retired["availability"] == "retired"
    history = alice.api.history(product["id"])
    assert [h["action"] for h in history] == ["created", "updated", "retired"]
    assert {h["actor"] for h in history} == {alice.principal.account}
    change = history[1]["changes"]
    assert change["title"] == {"from": "Heart rate of runners", "to": "Resting heart rate"}
    assert change["prices"]["from"]["access"] == "5000"
    assert change["prices"]["to"]["access"] == "6000"
    assert change["availability"] == {"from": "listed", "to": "paused"}
    assert history[2]["reason"] == "consent withdrawn"
    assert history[0]["changes"]["title"] == {"from": None, "to": "Heart rate of runners"}


def test_a_retired_product_cannot_change(http: TestClient, alice: Account) -> None:
    product = alice.api.create_product(product_body())
    alice.api.retire_product(product["id"])
    answer = http.patch(
        f"{URL}/{product['id']}", json={"availability": "listed"}, headers=alice.headers
    )
    assert (answer.status_code, answer.json()["code"]) == (409, "product_retired")
    answer = http.patch(
        f"{URL}/{product['id']}", json={"availability": "retired"}, headers=alice.headers
    )
    assert answer.status_code == 422  # retiring goes through /retire


def test_update_refuses_prices_of_another_mode(http: TestClient, alice: Account) -> None:
    product = alice.api.create_product(product_body())
    answer = http.patch(
        f"{URL}/{product['id']}", json={"prices": {"computation": 5}}, headers=alice.headers
    )
    assert (answer.status_code, answer.json()["code"]) == (409, "prices_do_not_fit_mode")
    answer = http.patch(
        f"{URL}/{product['id']}",
        json={"prices": {"access": 5, "computation": 5}},
        headers=alice.headers,
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "validation_error")
    assert http.get(f"{URL}/{product['id']}").json()["version"] == 1


def test_immutable_fields_are_refused_in_updates(http: TestClient, alice: Account) -> None:
    product = alice.api.create_product(product_body())
    for field, value in (
        ("access_mode", "stream"),
        ("stake", 1),
        ("owner", "acct_bob"),
        ("id", "0x"),
    ):
        answer = http.patch(f"{URL}/{product['id']}", json={field: value}, headers=alice.headers)
        assert answer.status_code == 422, field
        assert answer.json()["details"][0]["type"] == "extra_forbidden"


def test_update_refuses_nulls_and_mixed_bad_changes_change_nothing(
    http: TestClient, alice: Account
) -> None:
    product = alice.api.create_product(product_body())
    url = f"{URL}/{product['id']}"
    answer = http.patch(url, json={"title": None}, headers=alice.headers)
    assert answer.status_code == 422
    assert answer.json()["details"][0]["type"] == "null_not_allowed"
    unknown = "0x" + "44" * 32
    answer = http.patch(url, json={"title": "New", "parents": [unknown]}, headers=alice.headers)
    assert (answer.status_code, answer.json()["code"]) == (404, "unknown_parent")
    assert http.get(url).json() == product
    assert len(alice.api.history(product["id"])) == 1


def test_schema_is_only_accepted_under_its_public_name(http: TestClient, alice: Account) -> None:
    body = product_body("analytics")
    body["data_schema"] = body.pop("schema")
    answer = http.post(URL, json=body, headers=alice.headers)
    assert answer.status_code == 422


def test_a_column_keeps_the_sellers_own_name_beside_its_identifier(
    http: TestClient, alice: Account
) -> None:
    """The schema keeps both names: ``name`` (what computations use) and ``label`` (the
    data's own, free text, shown to buyers and in results). A column without a label
    has no ``label`` key, so the metadata hash of older products stays the chain's."""
    from kraken_market.trade.digests import metadata_hash
    from kraken_market.trade.results import _labels

    plain = alice.api.create_product(product_body("analytics"))
    assert all("label" not in c for c in plain["schema"]["columns"])
    assert metadata_hash(plain) == metadata_hash(alice.api.product(plain["id"]))
    labelled = {"columns": [dict(SCHEMA["columns"][1], label="Heart rate (bpm)"),
                            SCHEMA["columns"][0]]}  # fmt: skip
    product = alice.api.create_product(product_body("analytics", schema=labelled))
    assert product["schema"]["columns"][0]["label"] == "Heart rate (bpm)"
    assert _labels(alice.api, [product["id"]]) == {"heart_rate": "Heart rate (bpm)"}
    same = {"columns": [dict(SCHEMA["columns"][1], label="age"), SCHEMA["columns"][0]]}
    clash = http.post(
        "/api/v1/products", json=product_body("analytics", schema=same), headers=alice.headers
    )
    assert (clash.status_code, clash.json()["code"]) == (422, "validation_error")
