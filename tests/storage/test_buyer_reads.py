"""A batch file published through the API upload and fetched by its buyer through the API:
the seller's SDK, the API's storage, three real node apps and an in-process chain."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.access.buyer import fetch_file
from kraken_market.access.errors import FileExists
from kraken_market.access.seller import publish_file
from kraken_market.api.app import create_app
from kraken_market.client import ApiError, MarketClient
from kraken_market.identity import binding
from kraken_market.ledger.client import dev_account
from kraken_market.ledger.model import ModeCode, Prices
from kraken_market.settings import Settings
from kraken_market.storage.backends import LocalObjects
from kraken_market.storage.remote import MarketStorage
from kraken_market.storage.service import LedgerPurchases, StorageService
from tests.access.world import BUYER, OTHER_BUYER, SELLER, World
from tests.conftest import Account, person
from tests.factories import product_body
from tests.smpc.market_setup import PRICE, VERIFIER

CHUNK = 4096


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    made = World(tmp_path_factory.mktemp("storage-world"))
    yield made
    made.close()


@pytest.fixture
def market(settings: Settings, engine: Engine, world: World) -> FastAPI:
    """The API storing into the directory the world's nodes read, reading the world's chain."""
    storage = StorageService(
        LocalObjects(world.storage),
        LedgerPurchases(lambda: world.market.as_(0)),
        max_object_bytes=settings.storage_max_object_bytes,
        upload_seconds=settings.storage_upload_seconds,
    )
    return create_app(settings, engine=engine, verifier=world.market.as_(VERIFIER), storage=storage)


def bound(app: FastAPI, name: str, index: int) -> Account:
    who = person(app, name)
    made = binding.bind(
        who.key, dev_account(index), audience=app.state.identity.base_url, now=datetime.now(UTC)
    )
    who.api.bind(made.jws, made.account_signature)
    return who


def on_sale(app: FastAPI, world: World) -> tuple[Account, str]:
    seller = person(app, "sam")
    item = str(seller.api.create_product(product_body("batch"))["id"])
    world.market.as_(SELLER).publish(item, mode=ModeCode.BATCH, prices=Prices(access=PRICE))
    return seller, item


def code(error: pytest.ExceptionInfo[ApiError]) -> tuple[int, str]:
    return error.value.status_code, error.value.api_code


def test_a_buyer_fetches_a_file_published_through_the_api(
    market: FastAPI, world: World, tmp_path: Path
) -> None:
    seller, item = on_sale(market, world)
    source = tmp_path / "cohort.bin"
    source.write_bytes(os.urandom(5 * CHUNK + 123))
    seen: list[tuple[int, int]] = []
    published = publish_file(
        source,
        item,
        MarketStorage(seller.api, item, uploading=lambda name: lambda d, t: seen.append((d, t))),
        world.nodes,
        dev_account(SELLER),
        http=world.http,
        object_name=f"{item}/data.kdata",
        chunk_size=CHUNK,
    )
    assert seen[-1] == (published.encrypted_length,) * 2 and published.accepted == (0, 1, 2)
    stored = world.storage.read(published.object_name)  # where the nodes read
    assert len(stored) == published.encrypted_length and source.read_bytes() not in stored
    assert published.location.endswith(f"/api/v1/objects/{item}/data.kdata")
    with pytest.raises(FileExists):  # its key is deposited: never encrypted again
        publish_file(
            source, item, MarketStorage(seller.api, item), world.nodes, dev_account(SELLER),
            http=world.http, object_name=f"{item}/data.kdata",
        )  # fmt: skip

    buyer = bound(market, "rhea", BUYER)
    purchase = world.buy(item)
    out = tmp_path / "fetched" / "cohort.bin"
    fetch_file(
        purchase,
        item,
        MarketStorage(buyer.api, item, purchase=purchase),
        published.object_name,
        out,
        dev_account(BUYER),
        world.endpoints,
        http=world.http,
    )
    assert out.read_bytes() == source.read_bytes()


def test_only_the_buyer_of_a_recorded_purchase_reads_the_file(
    market: FastAPI, world: World, tmp_path: Path
) -> None:
    seller, item = on_sale(market, world)
    name = f"{item}/data.kdata"
    source = tmp_path / "cohort.bin"
    source.write_bytes(os.urandom(300))
    publish_file(
        source, item, MarketStorage(seller.api, item), world.nodes, dev_account(SELLER),
        http=world.http, object_name=name,
    )  # fmt: skip
    _other_seller, elsewhere = on_sale(market, world)
    buyer = bound(market, "rhea", BUYER)
    purchase, other_purchase = world.buy(item), world.buy(elsewhere)
    assert buyer.api.object_size(name, purchase) == source.stat().st_size + 144 + 41
    through_union = world.buy(world.union(item, elsewhere))  # a Data Union holding it
    assert buyer.api.object_size(name, through_union) == source.stat().st_size + 144 + 41
    refusals = {
        "no purchase named": (buyer, None, (403, "object_not_readable")),
        "no such purchase": (buyer, 10**9, (404, "purchase_unknown")),
        "another product": (buyer, other_purchase, (403, "purchase_mismatch")),
        "another buyer": (bound(market, "una", OTHER_BUYER), purchase, (403, "purchase_mismatch")),
        "no binding": (person(market, "ivo"), purchase, (409, "binding_required")),
    }
    for why, (who, named, expected) in refusals.items():
        with pytest.raises(ApiError) as refused, who.api.open_object(name, named) as stream:
            stream.read()
        assert code(refused) == expected, why
    with pytest.raises(ApiError) as anonymous:
        MarketStorage(MarketClient(TestClient(market)), item).read(name)
    assert code(anonymous) == (401, "unauthenticated")
