"""Lineage: derived products declare parents; graphs both ways; no cycles, ever."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.factories import product_body

URL = "/api/v1/products"


def test_lineage_graph_both_ways(http: TestClient, alice: Account, bob: Account) -> None:
    raw_a = alice.api.create_product(product_body(title="Raw A"))
    raw_b = bob.api.create_product(product_body(title="Raw B"))
    merged = alice.api.create_product(
        product_body(title="Merged", parents=[raw_a["id"], raw_b["id"]])
    )
    curated = bob.api.create_product(product_body(title="Curated", parents=[merged["id"]]))

    graph = alice.api.lineage(merged["id"])
    depth = {n["title"]: n["depth"] for n in graph["nodes"]}
    assert depth == {"Raw A": -1, "Raw B": -1, "Merged": 0, "Curated": 1}
    edges = {(e["parent"], e["child"]) for e in graph["edges"]}
    assert edges == {
        (raw_a["id"], merged["id"]),
        (raw_b["id"], merged["id"]),
        (merged["id"], curated["id"]),
    }

    up = alice.api.lineage(curated["id"], direction="ancestors")
    assert {n["title"]: n["depth"] for n in up["nodes"]} == {
        "Raw A": -2,
        "Raw B": -2,
        "Merged": -1,
        "Curated": 0,
    }
    shallow = alice.api.lineage(curated["id"], direction="ancestors", depth=1)
    assert {n["title"] for n in shallow["nodes"]} == {"Merged", "Curated"}
    down = alice.api.lineage(raw_a["id"], direction="descendants")
    assert {n["title"] for n in down["nodes"]} == {"Raw A", "Merged", "Curated"}


def test_a_product_can_never_be_its_own_ancestor(http: TestClient, alice: Account) -> None:
    a = alice.api.create_product(product_body(title="A"))
    b = alice.api.create_product(product_body(title="B", parents=[a["id"]]))
    c = alice.api.create_product(product_body(title="C", parents=[b["id"]]))
    for product, parents in ((a, [c["id"]]), (a, [b["id"]]), (a, [a["id"]])):
        answer = http.patch(
            f"{URL}/{product['id']}", json={"parents": parents}, headers=alice.headers
        )
        assert (answer.status_code, answer.json()["code"]) == (409, "lineage_cycle")
    assert http.get(f"{URL}/{a['id']}").json()["parents"] == []
    assert http.get(f"{URL}/{a['id']}").json()["version"] == 1
    assert alice.api.lineage(a["id"], direction="ancestors")["nodes"] == [
        {"id": a["id"], "title": "A", "owner": alice.key.did, "availability": "listed", "depth": 0}
    ]


def test_parents_can_change_without_a_cycle(alice: Account) -> None:
    a = alice.api.create_product(product_body(title="A"))
    b = alice.api.create_product(product_body(title="B"))
    c = alice.api.create_product(product_body(title="C", parents=[a["id"]]))
    changed = alice.api.update_product(c["id"], {"parents": [a["id"], b["id"]]})
    assert changed["parents"] == [a["id"], b["id"]]
    history = alice.api.history(c["id"])
    assert history[-1]["changes"]["parents"] == {"from": [a["id"]], "to": [a["id"], b["id"]]}


def test_unknown_parents_are_refused(http: TestClient, alice: Account) -> None:
    unknown = "0x" + "11" * 32
    answer = http.post(URL, json=product_body(parents=[unknown]), headers=alice.headers)
    assert (answer.status_code, answer.json()["code"]) == (404, "unknown_parent")
    assert answer.json()["details"] == {"unknown": [unknown]}
    assert http.get(URL).json()["items"] == []
    answer = http.get(f"{URL}/{unknown}/lineage")
    assert (answer.status_code, answer.json()["code"]) == (404, "product_not_found")
    answer = http.get(f"{URL}/{unknown}/lineage", params={"depth": 0})
    assert answer.status_code == 422
