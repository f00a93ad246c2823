"""Valid request bodies to start tests from (each test changes what it examines)."""

from __future__ import annotations

import copy
from typing import Any

SCHEMA: dict[str, Any] = {
    "columns": [
        {"name": "age", "type": "numeric", "unit": "years", "min": 0, "max": 130},
        {"name": "heart_rate", "type": "numeric", "unit": "bpm", "min": 20, "max": 250},
        {"name": "sex", "type": "categorical", "categories": ["f", "m", "x"]},
    ]
}


def product_body(mode: str = "batch", **overrides: Any) -> dict[str, Any]:
    prices: dict[str, Any] = {
        "batch": {"access": 5000},
        "stream": {"subscription_per_second": 2, "subscription_min_seconds": 3600},
        "analytics": {"computation": 700},
    }[mode]
    body: dict[str, Any] = {
        "title": "Heart rate of runners",
        "description": "Resting heart rate measured by wearables, 2026",
        "tags": ["health", "wearables"],
        "access_mode": mode,
        "prices": prices,
        "policy": {"purposes": ["research", "public-health"]},
        "stake": "1000000000000000000",
    }
    if mode == "analytics":
        body["schema"] = copy.deepcopy(SCHEMA)
    body.update(overrides)
    return body
