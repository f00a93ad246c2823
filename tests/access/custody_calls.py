"""Calls to the in-process nodes' custody routes for the custody tests (not a test module)."""

from __future__ import annotations

from typing import Any

from kraken_market.access.buyer import release_request
from kraken_market.access.wire import KeyDeposit, KeyRelease
from kraken_market.ledger.client import dev_account
from kraken_market.ledger.model import ModeCode
from kraken_market.smpc.keys import NodeKeyPair
from tests.access.world import BUYER, World


def post(world: World, node: int, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    response = world.apps[node].post(path, json=body)
    return response.status_code, response.json()


def deposit(world: World, made: KeyDeposit, node: int | None = None) -> tuple[int, dict[str, Any]]:
    return post(
        world, made.node_index if node is None else node, "/keys", made.model_dump(mode="json")
    )


def release(world: World, request: KeyRelease, node: int = 0) -> tuple[int, dict[str, Any]]:
    return post(world, node, "/keys/release", request.model_dump(mode="json"))


def ask(
    world: World,
    item: str,
    purchase: int,
    *,
    buyer: int = BUYER,
    key_id: str = "data",
    issued_at: int | None = None,
    key: NodeKeyPair | None = None,
) -> KeyRelease:
    key = key or NodeKeyPair.generate()
    at = world.now() if issued_at is None else issued_at
    return release_request(item, key_id, purchase, key.public_key, dev_account(buyer), issued_at=at)


def deposited(world: World, mode: ModeCode = ModeCode.BATCH, **kwargs: Any) -> tuple[str, bytes]:
    product = world.publish(mode)
    key, made = world.deposits(product, **kwargs)
    for item in made:
        assert deposit(world, item)[0] == 201
    return product, key
