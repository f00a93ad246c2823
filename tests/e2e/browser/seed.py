"""The browser tests' data, put in through the platform's own front doors: the demo
story (``kraken-market demo``: a hospital identified in KCIT publishes an analytics
product with a stake, buyers compute, claim and approve; a batch file; a stream), then
a person signed up with the CLI wallet who lists products through the API: a lineage
of three generations, a data union, and enough traffic counts to need paging."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from kraken_market.platform.report import PlatformInfo
from tests.e2e.test_platform import CLI, cli, sign_up
from tests.factories import product_body

DATA = 10**18
"""Base units per DATA (the token's 18 decimals)."""

TRAFFIC = 13
"""Traffic products: with the others, more than one page of results (12)."""


@dataclass(frozen=True)
class Seeded:
    url: str
    runners: dict[str, Any]
    """An analytics product of the person's, parent of ``summary``; in ``union``."""
    summary: dict[str, Any]
    """A batch product derived from ``runners``, parent of ``by_age``."""
    by_age: dict[str, Any]
    """Derived from ``summary``; its publication announced, not on chain."""
    union: dict[str, Any]
    hospital: dict[str, Any]
    """The demo company's analytics product: published, staked, claimed, approved."""
    person_token: str = ""
    """Petra's session (Bearer): the person who listed the products."""
    env: dict[str, str] = field(default_factory=dict)
    """The platform's environment, for the CLI (``kraken-market wallet answer`` …)."""
    info: PlatformInfo | None = None
    """What ``up`` reported: its wallets, the Depute tool, the passphrase file."""


def seed(env: dict[str, str], url: str, out: Path) -> Seeded:
    # the whole story takes ~30 s alone, longer beside other platforms on 2 cores
    demo = subprocess.run(
        [*CLI, "demo", "--out", str(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert demo.returncode == 0, demo.stderr
    token = sign_up(env, "Petra")
    with httpx2.Client(
        base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as api:

        def create(body: dict[str, Any]) -> dict[str, Any]:
            response = api.post("/products", json=body)
            assert response.status_code == 201, response.text
            created: dict[str, Any] = response.json()
            return created

        runners = create(
            product_body(
                "analytics",
                title="Heart rate of marathon runners",
                description="Heart rate and age of 4,000 runners during the Berlin marathon.",
                tags=["health", "sport"],
                prices={"computation": str(5 * DATA)},
                policy={
                    "purposes": ["research", "public-health"],
                    "buyer_categories": ["research-institution", "public-body"],
                    "regions": ["EU", "CH"],
                },
            )
        )
        cyclists = create(
            product_body(
                "analytics",
                title="Heart rate of cyclists",
                tags=["health", "sport"],
                prices={"computation": str(3 * DATA)},
            )
        )
        summary = create(
            product_body(
                "batch",
                title="Heart rate of marathon runners, weekly summary",
                prices={"access": str(DATA * 5 // 2)},
                parents=[runners["id"]],
            )
        )
        by_age = create(
            product_body(
                "batch",
                title="Heart rate summary by age group",
                prices={"access": str(DATA)},
                parents=[summary["id"]],
            )
        )
        for district in range(1, TRAFFIC + 1):
            create(
                product_body(
                    "batch",
                    title=f"City traffic counts, district {district}",
                    description="Vehicles per hour at each crossing, 2026.",
                    tags=["traffic", "city"],
                    prices={"access": str(district * DATA // 10)},
                    policy={"purposes": ["commercial", "research"]},
                )
            )
        members = [{"product_id": runners["id"]}, {"product_id": cyclists["id"]}]
        union = api.post(
            "/unions",
            json={"title": "Endurance athletes", "description": "", "members": members},
        )
        assert union.status_code == 201, union.text
        # the owner names the account they publish from but the chain has not seen the
        # product yet: its page says it waits for the chain
        cli(env, "wallet", "bind")
        announced = api.post(f"/products/{by_age['id']}/publisher")
        assert announced.status_code == 200, announced.text
        found = api.get("/products", params={"q": "cardiology", "mode": "analytics"}).json()
    [hospital] = found["items"]
    return Seeded(url, runners, summary, by_age, union.json(), hospital, token)
