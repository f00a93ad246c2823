"""Many writers at once: no request starves for a connection, none is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx2

from tests.conftest import Account
from tests.factories import product_body


def test_thirty_concurrent_creates_all_succeed(served: str, alice: Account) -> None:
    def create(i: int) -> int:
        with httpx2.Client(base_url=served, headers=alice.headers, timeout=60) as http:
            return http.post("/api/v1/products", json=product_body(title=f"P{i}")).status_code

    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(create, range(30)))
    assert statuses == [201] * 30
    listed = httpx2.get(f"{served}/api/v1/products", params={"limit": 100}, timeout=60).json()[
        "items"
    ]
    assert sorted(p["title"] for p in listed) == sorted(f"P{i}" for i in range(30))


def test_concurrent_consents_leave_the_union_waiting_for_the_chain_once(
    served: str, alice: Account, bob: Account, engine: object, app: object
) -> None:
    from tests.conftest import person

    carol = person(app, "carol")  # type: ignore[arg-type]
    for round_ in range(4):
        ids = [
            who.api.create_product(product_body("analytics", title=f"R{round_}"))["id"]
            for who in (alice, bob, carol)
        ]
        union = alice.api.create_union(
            {"title": f"U{round_}", "members": [{"product_id": i} for i in ids]}
        )

        def consent(account: Account, union_id: str = union["id"]) -> int:
            with httpx2.Client(base_url=served, headers=account.headers, timeout=60) as http:
                return http.post(f"/api/v1/unions/{union_id}/consent").status_code

        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(consent, (bob, carol))) == [200, 200]
        # every consent counted: sold once the chain holds it too
        assert alice.api.union(union["id"])["status"] == "awaiting_chain"
