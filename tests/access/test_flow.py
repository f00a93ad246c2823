"""The whole batch flow: the seller encrypts, uploads and deposits, then goes away; a buyer
pays on chain and gets the file from the nodes' key shares, with a node down."""

from __future__ import annotations

import os
from pathlib import Path

import httpx2
import pytest

from kraken_market.access.buyer import download_file, fetch_file, fetch_key
from kraken_market.access.errors import DataFileWrongKey, GrantMissing, KeyUnavailable, RequestStale
from kraken_market.access.seller import DepositsIncomplete, PublishedFile, publish_file
from kraken_market.access.wire import b64decode, b64encode
from kraken_market.ledger.client import dev_account
from kraken_market.smpc.client import NodeError
from tests.access.world import BUYER, OTHER_SELLER, SELLER, World

CHUNK = 4096


def seller_publishes(
    world: World, tmp_path: Path, size: int = 3 * CHUNK + 123
) -> tuple[str, Path, PublishedFile]:
    product = world.publish()
    source = tmp_path / "cohort.bin"
    source.write_bytes(os.urandom(size))
    seen: list[tuple[int, int]] = []
    published = publish_file(
        source,
        product,
        world.storage,
        world.nodes,
        dev_account(SELLER),
        http=world.http,
        chunk_size=CHUNK,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[-1] == (size, size) and len(seen) == max(1, -(-size // CHUNK))
    assert (published.t, published.m, published.accepted, published.failed) == (1, 3, (0, 1, 2), {})
    return product, source, published


def test_a_buyer_gets_the_file_with_one_node_down(custody_world: World, tmp_path: Path) -> None:
    world = custody_world
    product, source, published = seller_publishes(world, tmp_path)
    stored = world.storage.read(published.object_name)
    assert source.read_bytes() not in stored and len(stored) == published.encrypted_length
    purchase = world.buy(product)
    world.down = {1}
    try:
        out = tmp_path / "out" / "cohort.bin"
        fetched = fetch_file(
            purchase,
            product,
            world.storage,
            published.object_name,
            out,
            dev_account(BUYER),
            world.endpoints,
            http=world.http,
        )
    finally:
        world.down = set()
    assert out.read_bytes() == source.read_bytes()
    assert fetched.key.nodes == (0, 2) and "node_unreachable" in fetched.key.failed[1]
    assert fetched.header.plaintext_length == source.stat().st_size


def test_a_wrong_share_costs_one_more_node(custody_world: World, tmp_path: Path) -> None:
    world = custody_world
    product, _, published = seller_publishes(world, tmp_path, size=10)
    purchase = world.buy(product)
    inner = world.http._transport  # the dispatcher

    def corrupting(request: httpx2.Request) -> httpx2.Response:
        response = inner.handle_request(request)
        if request.url.host == "node0.test":
            body = response.json()
            sealed = bytearray(b64decode(body["sealed_share"]))
            sealed[40] ^= 1
            body["sealed_share"] = b64encode(bytes(sealed))
            return httpx2.Response(200, json=body)
        response.read()
        return response

    with httpx2.Client(transport=httpx2.MockTransport(corrupting)) as http:
        key = fetch_key(world.endpoints, product, purchase, dev_account(BUYER), http=http)
    assert key.nodes == (1, 2) and "share_misdirected" in key.failed[0]
    assert "0x" + key.commitment.hex() == published.key_commitment


def test_refusals_reach_the_buyer_as_errors_that_say_what_to_do(
    custody_world: World, tmp_path: Path
) -> None:
    world = custody_world
    product, _, published = seller_publishes(world, tmp_path, size=0)
    purchase = world.buy(product)
    world.revoke(product)
    try:
        with pytest.raises(GrantMissing, match="ask the marketplace"):
            fetch_key(world.endpoints, product, purchase, dev_account(BUYER), http=world.http)
    finally:
        world.grant(product)
    world.down = {0, 1, 2}
    try:
        with pytest.raises(KeyUnavailable) as caught:
            fetch_key(world.endpoints, product, purchase, dev_account(BUYER), http=world.http)
    finally:
        world.down = set()
    assert set(caught.value.details["failed"]) == {0, 1, 2}
    with pytest.raises(RequestStale):
        fetch_key(
            world.endpoints, product, purchase, dev_account(BUYER), http=world.http, clock=lambda: 0
        )
    out = tmp_path / "empty.bin"
    fetch_file(
        purchase,
        product,
        world.storage,
        published.object_name,
        out,
        dev_account(BUYER),
        world.endpoints,
        http=world.http,
    )
    assert out.read_bytes() == b""


def test_a_replaced_ciphertext_is_refused_and_leaves_no_file(
    custody_world: World, tmp_path: Path
) -> None:
    world = custody_world
    product, _, _published = seller_publishes(world, tmp_path, size=100)
    _, _, other = seller_publishes(world, tmp_path, size=100)
    purchase = world.buy(product)
    key = fetch_key(world.endpoints, product, purchase, dev_account(BUYER), http=world.http)
    out = tmp_path / "replaced.bin"
    with pytest.raises(DataFileWrongKey):
        download_file(world.storage, other.object_name, key.key, out)
    assert not out.exists() and not list(tmp_path.glob(".replaced.bin.*"))


def test_a_seller_who_is_not_the_owner_is_told_before_anything_is_sold(
    custody_world: World, tmp_path: Path
) -> None:
    world = custody_world
    product = world.publish()
    source = tmp_path / "x.bin"
    source.write_bytes(b"abc")
    with pytest.raises(NodeError) as caught:
        publish_file(
            source, product, world.storage, world.nodes, dev_account(OTHER_SELLER), http=world.http
        )
    assert caught.value.node_code == "depositor_not_owner"
    world.down = {0, 1}
    try:
        with pytest.raises(DepositsIncomplete) as incomplete:
            publish_file(
                source,
                world.publish(),
                world.storage,
                world.nodes,
                dev_account(SELLER),
                http=world.http,
            )
    finally:
        world.down = set()
    assert incomplete.value.published.accepted == (2,)
    assert set(incomplete.value.published.failed) == {0, 1}


def test_publishing_a_file_again_under_the_same_key_id_is_refused_and_keeps_the_first(
    tmp_path: Path,
) -> None:
    from kraken_market.access.errors import FileExists
    from kraken_market.access.seller import publish_file
    from kraken_market.smpc.storage import LocalDirectory

    storage = LocalDirectory(tmp_path / "store")
    name = "0x" + "ab" * 32 + "/data.kdata"
    with storage.writer(name) as sink:
        sink.write(b"the first upload")
    data = tmp_path / "v2.csv"
    data.write_text("a,b\n1,2\n")
    with pytest.raises(FileExists):
        publish_file(data, "0x" + "ab" * 32, storage, [], None)  # type: ignore[arg-type]
    assert storage.read(name) == b"the first upload"
