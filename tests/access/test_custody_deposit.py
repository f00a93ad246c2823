"""Key deposits on the nodes: only the product's on-chain owner, only well-formed, sealed
shares; the same deposit twice is a no-op, another key for the same id a conflict.
Every refusal answers its own code and leaves the node's store as it was.
"""

from __future__ import annotations

from kraken_market.access.datafile import key_commitment
from kraken_market.access.wire import sign_text
from kraken_market.catalog.ids import new_product_id
from kraken_market.ledger.client import dev_account
from tests.access.custody_calls import ask, deposit, deposited, post, release
from tests.access.world import OTHER_SELLER, SELLER, World


def test_deposits_that_are_not_the_owners_are_refused(custody_world: World) -> None:
    world = custody_world
    product = world.publish()
    store = world.services[0].custody.store
    _, made = world.deposits(product)
    forged = made[0].model_copy(
        update={"signature": sign_text(dev_account(OTHER_SELLER), made[0].message())}
    )
    assert deposit(world, forged)[1]["code"] == "signature_invalid"
    _, theirs = world.deposits(product, seller=OTHER_SELLER)
    assert deposit(world, theirs[0])[0:1] == (403,)
    assert deposit(world, theirs[0])[1]["code"] == "depositor_not_owner"
    unknown = new_product_id()
    _, unpublished = world.deposits(unknown)
    assert deposit(world, unpublished[0])[1]["code"] == "product_unknown"
    assert deposit(world, made[1], node=0)[1]["code"] == "share_misdirected"
    swapped = made[0].model_copy(update={"sealed_share": made[2].sealed_share})
    assert deposit(world, swapped)[1]["code"] == "signature_invalid"
    assert store.find(product, "data") is None and store.find(unknown, "data") is None
    assert deposit(world, made[0])[0] == 201
    _, again = world.deposits(product)  # another key for the same product and key id
    status, body = deposit(world, again[0])
    assert (status, body["code"]) == (409, "key_exists")
    stored = store.find(product, "data")
    assert stored is not None and stored.same_content(made[0])


def test_malformed_and_oversized_deposits_are_refused(custody_world: World) -> None:
    world = custody_world
    product = world.publish()
    _, made = world.deposits(product)
    body = made[0].model_dump(mode="json")
    for change in (
        {"item": "0x12"},
        {"key_id": "Data!"},
        {"threshold": 0},
        {"sealed_share": "AAAA"},
        {"sealed_share": "not base64"},
        {"extra": 1},
    ):
        status, answer = post(world, 0, "/keys", {**body, **change})
        assert (status, answer["code"]) == (422, "validation_error"), change
    status, answer = post(
        world, 0, "/keys", {**body, "share_digests": [*body["share_digests"][:2], "0x" + "00" * 32]}
    )
    assert answer["code"] == "signature_invalid"
    big = world.apps[0].post(
        "/keys", content=b"{" + b" " * 20000 + b"}", headers={"content-type": "application/json"}
    )
    assert (big.status_code, big.json()["code"]) == (413, "payload_too_large")
    deep = world.apps[0].post("/keys", content=b"[" * 5000 + b"]" * 5000)
    assert (deep.status_code, deep.json()["code"]) == (400, "json_too_deep")  # the guard
    assert world.services[0].custody.store.find(product, "data") is None


def test_a_transferred_product_needs_its_new_owner_to_deposit(custody_world: World) -> None:
    world = custody_world
    product, old_key = deposited(world)
    purchase = world.buy(product)
    world.market.as_(SELLER).transfer_product(product, dev_account(OTHER_SELLER).address)
    world.market.as_(OTHER_SELLER).accept_product(product)
    assert release(world, ask(world, product, purchase))[1]["code"] == "depositor_not_owner"
    new_key, made = world.deposits(product, seller=OTHER_SELLER)
    assert deposit(world, made[0])[0] == 201  # replaces the old owner's deposit
    status, answer = release(world, ask(world, product, purchase))
    assert status == 200 and answer["key_commitment"] == "0x" + key_commitment(new_key).hex()
    assert old_key != new_key
