"""Key releases: only to buyers whose purchase (``buy_access``, ``subscribe``) and grant are
on the in-process chain now. Every refusal answers its own code and changes nothing.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from kraken_market.access.custody import KeyCustody
from kraken_market.access.datafile import key_commitment
from kraken_market.access.errors import RequestStale
from kraken_market.access.keyshares import open_released, recombine_key
from kraken_market.access.wire import KeyRelease, b64decode, sign_text
from kraken_market.ledger.client import dev_account
from kraken_market.ledger.model import ModeCode
from kraken_market.smpc.keys import NodeKeyPair
from tests.access.custody_calls import ask, deposit, deposited, release
from tests.access.world import BUYER, OTHER_BUYER, World


def test_a_paying_buyer_gets_t_plus_one_shares_that_rebuild_the_key(custody_world: World) -> None:
    world = custody_world
    product = world.publish()
    key, made = world.deposits(product)
    for item in made:
        status, body = deposit(world, item)
        assert status == 201 and body["created"] is True and body["node_index"] == item.node_index
    assert deposit(world, made[0]) == (200, {**body, "node_index": 0, "created": False})
    purchase = world.buy(product)
    buyer_key = NodeKeyPair.generate()
    request = ask(world, product, purchase, key=buyer_key)
    shares = []
    for node in (0, 2):
        status, answer = release(world, request, node)
        assert status == 200, answer
        assert answer["key_commitment"] == "0x" + key_commitment(key).hex()
        sealed = b64decode(answer["sealed_share"])
        shares.append(open_released(sealed, buyer_key, product, "data", node, key_commitment(key)))
    assert recombine_key(shares, key_commitment(key)) == key
    audit = world.services[0].custody.store.releases(product, "data")
    assert [(b, p) for b, p, _ in audit] == [(dev_account(BUYER).address, purchase)]


def test_each_release_refusal_has_its_code_and_changes_nothing(custody_world: World) -> None:
    world = custody_world
    product, _ = deposited(world)
    other_product, _ = deposited(world)
    bare = world.publish()
    purchase = world.buy(product)
    store = world.services[0].custody.store
    before = store.releases(product, "data")
    stranger = world.buy(product, buyer=OTHER_BUYER)
    cases = [
        (ask(world, bare, purchase), 404, "key_unknown"),
        (ask(world, product, 10**9), 404, "purchase_unknown"),
        (ask(world, product, purchase, buyer=OTHER_BUYER), 403, "purchase_mismatch"),
        (ask(world, product, stranger), 403, "purchase_mismatch"),
        (ask(world, other_product, purchase), 403, "purchase_mismatch"),
        (ask(world, product, purchase, issued_at=world.now() - 400), 401, "request_stale"),
        (ask(world, product, purchase, issued_at=world.now() + 400), 401, "request_stale"),
    ]
    signed = ask(world, product, purchase)
    cases.append((signed.model_copy(update={"purchase_id": stranger}), 401, "signature_invalid"))
    cases.append(
        (
            signed.model_copy(update={"buyer": dev_account(OTHER_BUYER).address}),
            401,
            "signature_invalid",
        )
    )
    for request, status, code in cases:
        answer = release(world, request)
        assert answer[0] == status and answer[1]["code"] == code, (code, answer)
    world.revoke(product)
    try:
        assert release(world, ask(world, product, purchase))[1]["code"] == "grant_missing"
    finally:
        world.grant(product)
    assert store.releases(product, "data") == before
    assert release(world, ask(world, product, purchase))[0] == 200


def test_a_low_order_buyer_key_is_refused(custody_world: World) -> None:
    world = custody_world
    product, _ = deposited(world)
    purchase = world.buy(product)
    request = ask(world, product, purchase).model_dump(mode="json")
    unsigned = KeyRelease.model_validate({**request, "buyer_public_key": "A" * 43 + "="})
    signed = unsigned.model_copy(
        update={"signature": sign_text(dev_account(BUYER), unsigned.message())}
    )
    status, answer = release(world, signed)
    assert (status, answer["code"]) == (422, "validation_error")


def test_a_union_purchase_releases_its_members_keys(custody_world: World) -> None:
    world = custody_world
    first, _ = deposited(world)
    second = world.publish()
    union = world.union(first, second)
    purchase = world.buy(union)
    assert release(world, ask(world, first, purchase))[0] == 200
    world.revoke(union)
    assert release(world, ask(world, first, purchase))[1]["code"] == "grant_missing"


def test_epoch_keys_follow_the_paid_subscription_time(custody_world: World) -> None:
    world = custody_world
    product = world.publish(ModeCode.STREAM)
    now = world.market.now()
    for epoch, start in (("epoch-1", now), ("epoch-2", now + 7200)):
        _, made = world.deposits(product, key_id=epoch, not_before=start)
        assert deposit(world, made[0])[0] == 201
    subscription = world.subscribe(product, 3600)
    assert release(world, ask(world, product, subscription, key_id="epoch-1"))[0] == 200
    status, answer = release(world, ask(world, product, subscription, key_id="epoch-2"))
    assert (status, answer["code"]) == (402, "not_paid")
    assert answer["details"]["not_before"] == now + 7200
    batch, _ = deposited(world)
    access = world.buy(batch)
    _, made = world.deposits(batch, key_id="epoch-1", not_before=now)
    assert deposit(world, made[0])[0] == 201
    assert (
        release(world, ask(world, batch, access, key_id="epoch-1"))[1]["code"]
        == "purchase_mismatch"
    )
    assert (
        release(world, ask(world, product, access, key_id="epoch-1"))[1]["code"]
        == "purchase_mismatch"
    )


def test_the_stale_window_is_three_hundred_seconds(custody_world: World, tmp_path: Path) -> None:
    world = custody_world
    product, _ = deposited(world)
    purchase = world.buy(product)
    node = world.services[0]
    stored = node.custody.store.find(product, "data")
    assert stored is not None
    for skew, allowed in ((300, True), (-300, True), (301, False), (-301, False)):
        clock = partial(float, 1_000_000 + skew)
        custody = KeyCustody(tmp_path / f"{skew}.sqlite", node.key, node.chain, clock=clock)
        custody.store.put(stored)
        request = ask(world, product, purchase, issued_at=1_000_000)
        try:
            if allowed:
                assert custody.release(request).node_index == 0
            else:
                with pytest.raises(RequestStale):
                    custody.release(request)
        finally:
            custody.close()
