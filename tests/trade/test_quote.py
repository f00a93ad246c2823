"""The quote before a computation is paid: every problem the nodes would refuse the job
for, found before the buyer pays, and a buyer who cannot be quoted is not charged."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web3 import EthereumTesterProvider, Web3

from kraken_market.api.app import create_app
from kraken_market.client import ApiError
from kraken_market.ledger.indexer import Indexer
from kraken_market.settings import Settings
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.storage import LocalDirectory
from kraken_market.trade.buy import QuoteRefused
from kraken_market.trade.publish import publish_on_chain
from kraken_market.trade.results import compute_via_market
from tests.conftest import Account
from tests.factories import product_body
from tests.ledger.conftest import DATA, Market, _deploy
from tests.trade.test_market_flow import Arbiter, RecordingForwarder, bound, share_set

SCHEMA = {
    "columns": [
        {"name": "age", "type": "numeric", "unit": "years", "min": 0, "max": 120},
        {"name": "sex", "type": "categorical", "categories": ["f", "m"]},
    ]
}
KEYS = [NodeKeyPair.generate() for _ in range(3)]


class Nodes(RecordingForwarder):
    """The nodes as the quote sees them: each one's index, node set and key."""

    def __init__(self, keys: list[NodeKeyPair], floor: int = 10) -> None:
        super().__init__()
        self.keys, self.floor = keys, floor

    def nodes(self) -> list[dict[str, Any]]:
        return [
            {
                "index": i,
                "m": len(self.keys),
                "t": 1,
                "hpke_public_key": key.public_key.raw.hex(),
                "min_cohort_floor": self.floor,
            }
            for i, key in enumerate(self.keys)
        ]


@pytest.fixture(scope="module")
def chain() -> Market:
    return _deploy("in-process", Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))))


@pytest.fixture
def indexer(engine: Engine, chain: Market) -> Indexer:
    return Indexer(chain.w3, chain.deployment, engine)


@pytest.fixture
def nodes() -> Nodes:
    return Nodes(KEYS)


@pytest.fixture
def quote_app(settings: Settings, engine: Engine, chain: Market, nodes: Nodes) -> FastAPI:
    return create_app(
        settings,
        engine=engine,
        verifier=chain.as_(2),
        forwarder=nodes,
        arbiter=Arbiter(chain.arbiter),
    )


def shared_product(
    app: FastAPI,
    chain: Market,
    indexer: Indexer,
    tmp_path: Path,
    *,
    rows: int = 30,
    keys: list[NodeKeyPair] = KEYS,
    price: int = 3 * DATA,
) -> tuple[Account, dict[str, Any], LocalDirectory]:
    """Sam's analytics product: ``rows`` rows shared to ``keys`` in the platform's storage,
    the manifest linked, published on chain and indexed."""
    seller, ledger = bound(app, chain, "sam", 7)
    body = product_body("analytics", schema=SCHEMA, prices={"computation": str(price)})
    product = seller.api.create_product(body)
    storage = share_set(app, seller, product["id"], tmp_path, rows=rows, keys=keys)
    publish_on_chain(seller.api, ledger, product["id"], stake=20 * DATA, wait=0)
    indexer.poll_once()
    return seller, product, storage


def mean(**extra: Any) -> dict[str, Any]:
    return {"function": "mean@1", "columns": ["age"], **extra}


def codes(quote: Mapping[str, Any]) -> list[str]:
    return [p["code"] for p in quote["problems"]]


def test_a_good_request_is_quoted_with_its_price_and_rows(
    quote_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    _, product, _ = shared_product(quote_app, chain, indexer, tmp_path, rows=30)
    buyer, _ = bound(quote_app, chain, "bea", 8)
    quote = buyer.api.quote_computation(mean(), [product["id"]], "research")
    assert quote["payable"] is True, quote["problems"]
    assert quote["price"] == str(3 * DATA)
    assert quote["rows"] == 30 and quote["products"][0]["rows"] == 30
    assert quote["items"] == [
        {
            "item": product["id"],
            "kind": "product",
            "title": product["title"],
            "price": str(3 * DATA),
        }
    ]
    assert quote["problems"] == [] and quote["warnings"] == []
    filtered = buyer.api.quote_computation(
        mean(filter={"column": "age", "op": ">=", "value": 60}), [product["id"]], "research"
    )
    assert filtered["payable"] and [w["code"] for w in filtered["warnings"]] == [
        "filter_may_suppress"
    ]


def test_an_unknown_function_and_column_are_problems_of_the_quote(
    quote_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    _, product, _ = shared_product(quote_app, chain, indexer, tmp_path)
    buyer, _ = bound(quote_app, chain, "bea", 8)
    unknown = buyer.api.quote_computation({"function": "avg@1"}, [product["id"]], "research")
    assert not unknown["payable"] and codes(unknown) == ["function_unknown"]
    column = buyer.api.quote_computation(
        {"function": "mean@1", "columns": ["weight"]}, [product["id"]], "research"
    )
    assert codes(column) == ["column_unknown"]
    shape = buyer.api.quote_computation({"function": "mean"}, [product["id"]], "research")
    assert codes(shape) == ["computation_invalid"]
    floor = buyer.api.quote_computation(mean(min_cohort=3), [product["id"]], "research")
    assert codes(floor) == ["cohort_below_floor"]


def test_too_few_rows_are_refused_before_payment(
    quote_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    _, product, _ = shared_product(quote_app, chain, indexer, tmp_path, rows=5)
    buyer, _ = bound(quote_app, chain, "bea", 8)
    quote = buyer.api.quote_computation(mean(), [product["id"]], "research")
    assert codes(quote) == ["cohort_too_small"] and quote["rows"] == 5


def test_a_regression_beyond_its_accuracy_envelope_is_refused_before_payment(
    quote_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    """Three rows cannot give standard errors for three coefficients (intercept and the
    one-hot columns of sex): the schema and the row count show it, so nobody pays."""
    _, product, _ = shared_product(quote_app, chain, indexer, tmp_path, rows=3)
    buyer, _ = bound(quote_app, chain, "bea", 8)
    summary = {"function": "linear_regression_summary@1", "columns": ["sex"],
               "params": {"target": "age"}}  # fmt: skip
    quote = buyer.api.quote_computation(summary, [product["id"]], "research")
    assert not quote["payable"] and "outside_accuracy_envelope" in codes(quote)
    problem = next(p for p in quote["problems"] if p["code"] == "outside_accuracy_envelope")
    assert "more rows than coefficients" in problem["message"]


def test_the_sellers_broken_share_set_is_found_before_payment(
    quote_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    _, product, storage = shared_product(quote_app, chain, indexer, tmp_path)
    buyer, _ = bound(quote_app, chain, "bea", 8)
    token = storage.read(
        next(p for p in storage.root.rglob("manifest.jws")).relative_to(storage.root).as_posix()
    )
    share = next(storage.root.rglob("node-1.kshare"))
    share.unlink()
    missing = buyer.api.quote_computation(mean(), [product["id"]], "research")
    assert codes(missing) == ["object_not_found"] and "node-1" in missing["problems"][0]["message"]
    manifest = next(storage.root.rglob("manifest.jws"))
    manifest.write_bytes(token[:-8] + b"AAAAAAAA")  # a signature that does not verify
    forged = buyer.api.quote_computation(mean(), [product["id"]], "research")
    assert codes(forged) == ["manifest_invalid"]


def test_a_share_set_for_other_nodes_is_found_before_payment(
    quote_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    others = [NodeKeyPair.generate() for _ in range(3)]
    _, product, _ = shared_product(quote_app, chain, indexer, tmp_path, keys=others)
    buyer, _ = bound(quote_app, chain, "bea", 8)
    quote = buyer.api.quote_computation(mean(), [product["id"]], "research")
    assert codes(quote) == ["manifest_mismatch"]


def test_an_ineligible_buyer_and_the_owner_are_told_before_payment(
    quote_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    seller, product, _ = shared_product(quote_app, chain, indexer, tmp_path)
    buyer, _ = bound(quote_app, chain, "bea", 8)
    purpose = buyer.api.quote_computation(mean(), [product["id"]], "marketing")
    assert codes(purpose) == ["not_eligible"]
    assert purpose["rows"] is None and purpose["products"][0]["rows"] is None  # not told
    own = seller.api.quote_computation(mean(), [product["id"]], "research")
    assert "own_product" in codes(own)


def test_every_problem_is_answered_at_once(
    quote_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    _, product, _ = shared_product(quote_app, chain, indexer, tmp_path, rows=5)
    buyer, _ = bound(quote_app, chain, "bea", 8)
    quote = buyer.api.quote_computation(
        {"function": "mean@1", "columns": ["weight"]},
        [product["id"], "0x" + "ab" * 32],
        "marketing",
    )
    assert set(codes(quote)) >= {"product_not_found", "not_eligible"}
    assert quote["price"] is None  # an item without a price on chain: no total


def test_a_quote_needs_products_and_a_session(quote_app: FastAPI, chain: Market) -> None:
    buyer, _ = bound(quote_app, chain, "bea", 8)
    with pytest.raises(ApiError) as empty:
        buyer.api.quote_computation(mean(), [], "research")
    assert empty.value.status_code == 422
    anonymous = TestClient(quote_app).post(
        "/api/v1/computations/quote",
        json={"computation": mean(), "products": ["0x" + "ab" * 32], "purpose": "research"},
    )
    assert anonymous.status_code == 401


def test_a_refused_quote_is_not_paid(
    quote_app: FastAPI, chain: Market, indexer: Indexer, tmp_path: Path
) -> None:
    _, product, _ = shared_product(quote_app, chain, indexer, tmp_path)
    buyer, ledger = bound(quote_app, chain, "bea", 8)
    before = ledger.balance()
    spec = ComputationSpec(function="avg@1", columns=["age"])
    request_id = "0x" + "cd" * 32
    seen: list[dict[str, Any]] = []
    with pytest.raises(QuoteRefused) as refused:
        compute_via_market(
            buyer.api,
            ledger,
            spec,
            [product["id"]],
            "research",
            request_id,
            tmp_path / "jobs",
            on_quote=seen.append,
        )
    assert refused.value.code == "quote_refused" and "avg@1" in refused.value.message
    assert [p["code"] for p in seen[0]["problems"]] == ["function_unknown"]
    assert ledger.balance() == before and ledger.computation(request_id) is None
    assert not (tmp_path / "jobs").exists()  # no result key made for a job never paid
