"""Data Unions: deterministic ids, consent of every member owner, same mode and schema."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_hash.auto import keccak
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from kraken_market.catalog.ids import new_product_id, union_id
from kraken_market.catalog.models import DataUnion
from kraken_market.client import ApiError
from kraken_market.types import ProductId
from tests.conftest import Account, person
from tests.factories import SCHEMA, product_body

URL = "/api/v1/unions"


def test_union_id_is_keccak_of_sorted_member_ids() -> None:
    a, b = ProductId("0x" + "ff" * 32), ProductId("0x" + "01" * 32)
    expected = "0x" + keccak(bytes.fromhex("01" * 32) + bytes.fromhex("ff" * 32)).hex()
    assert union_id([a, b]) == union_id([b, a]) == expected
    # keccak-256, not NIST SHA3-256: the empty input has the well-known Ethereum digest
    assert keccak(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert new_product_id() != new_product_id()


def test_union_needs_every_owner_to_consent(http: TestClient, alice: Account, bob: Account) -> None:
    mine = alice.api.create_product(product_body("analytics", title="Hospital A"))
    theirs = bob.api.create_product(product_body("analytics", title="Hospital B"))
    union = alice.api.create_union(
        {
            "title": "Cardiology pool",
            "members": [
                {"product_id": theirs["id"], "weight": 3},
                {"product_id": mine["id"], "weight": 1},
            ],
        }
    )
    assert union["id"] == union_id([ProductId(mine["id"]), ProductId(theirs["id"])])
    assert union["status"] == "pending"
    assert union["schema"] == mine["schema"]
    assert [c["name"] for c in union["schema"]["columns"]] == [c["name"] for c in SCHEMA["columns"]]
    assert [(m["owner"], m["weight"], m["consented"]) for m in union["members"]] == [
        (bob.principal.account, 3, False),
        (alice.principal.account, 1, True),
    ]
    again = alice.api.consent(union["id"])  # alice consented by creating it: idempotent
    assert again["status"] == "pending"
    consented = bob.api.consent(union["id"])
    assert consented["status"] == "awaiting_chain"  # sold once the chain has it too
    assert http.get(f"{URL}/{union['id']}").json() == consented
    assert http.get(URL, params={"member": mine["id"]}).json()["items"] == [consented]


def test_a_pending_union_is_withdrawn_or_lapses(
    http: TestClient, app: FastAPI, alice: Account, bob: Account, engine: Engine
) -> None:
    carol = person(app, "carol")
    mine = alice.api.create_product(product_body("batch", title="A"))["id"]
    theirs = bob.api.create_product(product_body("batch", title="B"))["id"]

    def propose(who: Account, weights: tuple[int, int]) -> dict[str, Any]:
        members = [
            {"product_id": p, "weight": w} for p, w in zip((mine, theirs), weights, strict=True)
        ]
        return who.api.create_union({"title": "Pool", "members": members})

    union = propose(alice, (9, 1))["id"]  # alice takes the lion's share; bob says no
    nosy = http.post(f"{URL}/{union}/reject", headers=carol.headers)
    assert (nosy.status_code, nosy.json()["code"]) == (403, "not_member_owner")
    assert http.post(f"{URL}/{union}/reject", headers=bob.headers).status_code == 204
    assert http.get(f"{URL}/{union}").status_code == 404
    assert propose(bob, (1, 1))["id"] == union  # the same members, fair weights
    with pytest.raises(ApiError) as taken:
        propose(alice, (9, 1))
    assert taken.value.api_code == "union_exists"
    with engine.begin() as connection:  # 31 days later, still unconsented
        connection.execute(
            update(DataUnion).values(created_at=datetime.now(UTC) - timedelta(days=31))
        )
    relisted = propose(alice, (2, 1))  # lapsed: replaced
    assert [m["weight"] for m in relisted["members"]] == [2, 1]
    consented = bob.api.consent(union)
    assert consented["status"] == "awaiting_chain"
    refused = http.post(f"{URL}/{union}/reject", headers=bob.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "union_not_pending")


def test_bad_unions_are_refused_and_nothing_is_created(
    http: TestClient, alice: Account, bob: Account
) -> None:
    a = alice.api.create_product(product_body("analytics", title="A"))
    b = alice.api.create_product(product_body("analytics", title="B"))
    other_schema = copy.deepcopy(SCHEMA)
    other_schema["columns"][0]["unit"] = "months"
    c = alice.api.create_product(product_body("analytics", title="C", schema=other_schema))
    d = alice.api.create_product(product_body("batch", title="D"))
    e = bob.api.create_product(product_body("analytics", title="E"))
    retired = alice.api.create_product(product_body("analytics", title="R"))
    alice.api.retire_product(retired["id"])
    unknown = "0x" + "22" * 32

    def members(*ids: str) -> dict[str, object]:
        return {"title": "U", "members": [{"product_id": i} for i in ids]}

    cases = [
        (members(a["id"], unknown), alice, 404, "unknown_member"),
        (members(a["id"], a["id"]), alice, 422, "duplicate_member"),
        (members(a["id"], c["id"]), alice, 422, "union_schema_mismatch"),
        (members(a["id"], d["id"]), alice, 422, "union_mode_mismatch"),
        (members(a["id"], retired["id"]), alice, 409, "member_unavailable"),
        (members(a["id"], b["id"]), bob, 403, "not_member_owner"),
        (members(a["id"]), alice, 422, "validation_error"),
        (
            {
                "title": "U",
                "members": [{"product_id": a["id"], "weight": 0}, {"product_id": b["id"]}],
            },
            alice,
            422,
            "validation_error",
        ),
        (
            {
                "title": "U",
                "members": [{"product_id": a["id"], "weight": 1.5}, {"product_id": b["id"]}],
            },
            alice,
            422,
            "validation_error",
        ),
    ]
    for body, who, status, code in cases:
        answer = http.post(URL, json=body, headers=who.headers)
        assert (answer.status_code, answer.json()["code"]) == (status, code), code
    assert http.get(URL).json()["items"] == []

    alice.api.create_union(members(a["id"], b["id"]))
    again = http.post(URL, json=members(b["id"], a["id"]), headers=alice.headers)
    assert (again.status_code, again.json()["code"]) == (409, "union_exists")
    assert len(http.get(URL).json()["items"]) == 1
    outsider = http.post(
        f"{URL}/{http.get(URL).json()['items'][0]['id']}/consent", headers=bob.headers
    )
    assert (outsider.status_code, outsider.json()["code"]) == (403, "not_member_owner")
    assert http.post(URL, json=members(a["id"], e["id"])).status_code == 401


def test_union_listing_pages_with_cursors(http: TestClient, alice: Account) -> None:
    products = [alice.api.create_product(product_body(title=f"P{i}")) for i in range(4)]
    ids = [p["id"] for p in products]
    created = [
        alice.api.create_union(
            {"title": f"U{i}", "members": [{"product_id": ids[i]}, {"product_id": ids[i + 1]}]}
        )
        for i in range(3)
    ]
    first = http.get(URL, params={"limit": 2}).json()
    second = http.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [u["title"] for u in first["items"] + second["items"]] == ["U2", "U1", "U0"]
    assert second["next_cursor"] is None
    assert [u["id"] for u in first["items"] + second["items"]] == [
        u["id"] for u in reversed(created)
    ]
    bad = http.get(URL, params={"cursor": first["next_cursor"], "member": ids[0]})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")
    assert http.get(f"{URL}/{'0x' + '33' * 32}").json()["code"] == "union_not_found"
