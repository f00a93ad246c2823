"""Publish on chain, pay, fulfil from the payment notification, claim and rule: the API,
the seller's and buyer's SDK and the indexer against one in-process chain."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import pytest
from eth_tester import EthereumTester, PyEVMBackend
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web3 import EthereumTesterProvider, Web3

from kraken_market.api.app import create_app
from kraken_market.catalog.schemas import DataSchema
from kraken_market.client import ApiError
from kraken_market.db.engine import make_session_factory
from kraken_market.identity import binding
from kraken_market.ledger.client import Ledger, dev_account
from kraken_market.ledger.indexer import Indexer
from kraken_market.ledger.model import PaymentStatus
from kraken_market.sdk import Marketplace
from kraken_market.settings import Settings
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.owner import share_file
from kraken_market.smpc.storage import LocalDirectory
from kraken_market.trade.buy import buy_access, computation_job, pay_computation
from kraken_market.trade.claims import evidence_hash
from kraken_market.trade.fulfilment import Fulfilment
from kraken_market.trade.publish import publish_on_chain
from kraken_market.trade.refunds import ComputationRefunded, ComputationRefused, chain_now, when
from kraken_market.trade.results import compute_via_market
from kraken_market.trade.unions import join_on_chain
from tests.conftest import Account, person
from tests.factories import product_body
from tests.ledger.conftest import DATA, PARAMETERS, Market, _deploy, time_travel

SPEC = ComputationSpec(function="mean@1", columns=["age"])


class RecordingForwarder:
    """Stands in for the nodes' HTTP endpoints: records each job forwarded."""

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []
        self.full: list[tuple[str, float]] = []  # what busy() answers next, then None

    def forward(self, job: Mapping[str, Any]) -> dict[str, Any]:
        self.jobs.append(dict(job))
        return {"http://node0": {"state": "queued"}}

    def busy(self) -> tuple[str, float] | None:
        return self.full.pop(0) if self.full else None

    def nodes(self) -> list[dict[str, Any]]:
        return []  # no node describes itself: the quote checks no share set against one


class Arbiter:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def rule(self, purchase_id: int, *, uphold: bool) -> str:
        return self.ledger.rule(purchase_id, uphold=uphold).tx_hash


@pytest.fixture(scope="module")
def chain() -> Market:
    return _deploy("in-process", Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend()))))


@pytest.fixture
def forwarder() -> RecordingForwarder:
    return RecordingForwarder()


@pytest.fixture
def market_app(
    settings: Settings, engine: Engine, chain: Market, forwarder: RecordingForwarder
) -> FastAPI:
    return create_app(
        settings,
        engine=engine,
        verifier=chain.as_(2),
        forwarder=forwarder,
        arbiter=Arbiter(chain.arbiter),
    )


@pytest.fixture
def indexer(engine: Engine, chain: Market) -> Indexer:
    return Indexer(chain.w3, chain.deployment, engine)


def bound(app: FastAPI, chain: Market, name: str, index: int, **kw: Any) -> tuple[Account, Ledger]:
    """A logged-in person whose DID is bound to dev account ``index`` (funded)."""
    who = person(app, name, **kw)
    made = binding.bind(
        who.key, dev_account(index), audience=app.state.identity.base_url, now=datetime.now(UTC)
    )
    who.api.bind(made.jws, made.account_signature)
    ledger = chain.as_(index)
    if ledger.balance() < 100 * DATA:
        chain.funded(ledger)
    return who, ledger


def analytics_product(seller: Account) -> dict[str, Any]:
    body = product_body("analytics", storage_links=["s3://shares/p/manifest.jws"])
    return seller.api.create_product(body)


def share_set(
    app: FastAPI,
    seller: Account,
    product_id: str,
    folder: Path,
    *,
    rows: int = 30,
    keys: list[NodeKeyPair] | None = None,
) -> LocalDirectory:
    """A real share set of ``rows`` rows (ages and sexes) of the seller's product, signed
    by the seller's DID key and encrypted to ``keys``, in the API's storage; the product
    points at it. The quote and the nodes read it as they read a seller's upload."""
    product = seller.api.product(product_id)
    schema = DataSchema.model_validate(
        {"columns": [c for c in product["schema"]["columns"] if c["name"] in ("age", "sex")]}
    )
    data = folder / f"{product_id[2:10]}.csv"
    ages = [20 + i % 60 for i in range(rows)]
    sexes = ["f" if i % 2 else "m" for i in range(rows)]
    pd.DataFrame({"age": ages, "sex": sexes}).to_csv(data, index=False)
    storage = LocalDirectory(Path(app.state.settings.resolved_storage_location))
    nodes = keys or [NodeKeyPair.generate() for _ in range(3)]
    signed = share_file(
        data, product_id, schema, [k.public_key for k in nodes], storage, seller.key.private_key
    )
    link = signed.manifest.files[0].name.rsplit("/", 1)[0] + "/manifest.jws"
    seller.api.update_product(product_id, {"storage_links": [link]})
    return storage


def listed_analytics(
    app: FastAPI, chain: Market, indexer: Indexer
) -> tuple[Account, Ledger, dict[str, Any]]:
    """Sam's analytics product, published on chain with a stake and indexed."""
    seller, ledger = bound(app, chain, "sam", 7)
    product = analytics_product(seller)
    publish_on_chain(seller.api, ledger, product["id"], stake=20 * DATA, wait=0)
    indexer.poll_once()
    return seller, ledger, product


def test_a_product_is_listed_once_the_indexer_sees_its_publication(
    market_app: FastAPI, chain: Market, indexer: Indexer
) -> None:
    seller, ledger = bound(market_app, chain, "sam", 7)
    product = analytics_product(seller)
    published = publish_on_chain(seller.api, ledger, product["id"], stake=20 * DATA, wait=0)
    assert published.transaction is not None and not published.listed
    assert seller.api.chain_state(product["id"])["published"] is False
    indexer.poll_once()
    state = seller.api.chain_state(product["id"])
    assert state["published"] and state["owner"] == ledger.address
    assert state["owner_did"] == seller.key.did
    assert (state["quality"], state["stake"]) == ("staked", str(20 * DATA))
    assert state["metadata_matches"] and state["policy_matches"]
    again = publish_on_chain(seller.api, ledger, product["id"], wait=1)
    assert again.transaction is None and again.listed  # a retry locks no second stake
    seller.api.update_product(product["id"], {"title": "Resting heart rate, edited"})
    assert seller.api.chain_state(product["id"])["metadata_matches"] is False


def test_a_paid_computation_is_forwarded_once(
    market_app: FastAPI,
    chain: Market,
    indexer: Indexer,
    forwarder: RecordingForwarder,
    engine: Engine,
) -> None:
    seller, _seller_ledger, product = listed_analytics(market_app, chain, indexer)
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    key = NodeKeyPair.generate().public_key
    rid = "0x" + secrets.token_hex(32)
    spec = SPEC.model_dump(mode="json", by_alias=True)
    job = buyer.api.submit_computation(computation_job(rid, spec, [product["id"]], key))
    assert job["state"] == "awaiting_payment" and not forwarder.jobs

    paid = pay_computation(buyer.api, ledger, rid, SPEC.digest(), [product["id"]], "research", key)
    balance = ledger.balance()
    fulfilment = Fulfilment(make_session_factory(engine), forwarder)
    indexer.subscribe(fulfilment, Fulfilment.EVENTS)
    indexer.poll_once()
    assert len(forwarder.jobs) == 1
    sent = forwarder.jobs[0]
    assert sent["products"] == [
        {
            "product_id": product["id"],
            "manifest": "s3://shares/p/manifest.jws",
            "owner": seller.key.did,
        }
    ]
    assert buyer.api.computation(rid)["state"] == "forwarded"
    for event in indexer.history(names=["ComputationRequested"]):  # redelivered: no resend
        fulfilment(event)
    assert fulfilment.catch_up() == 0 and len(forwarder.jobs) == 1
    again = pay_computation(buyer.api, ledger, rid, SPEC.digest(), [product["id"]], "research", key)
    assert again.transaction is None and again.purchase_id == paid.purchase_id
    assert ledger.balance() == balance  # never charged twice
    # the same job again is the same job; other content under the id is refused
    assert buyer.api.submit_computation(computation_job(rid, spec, [product["id"]], key))
    other = computation_job(rid, spec, [product["id"]], NodeKeyPair.generate().public_key)
    with pytest.raises(ApiError) as refused:
        buyer.api.submit_computation(other)
    assert refused.value.api_code == "job_conflict"
    stranger, _ = bound(market_app, chain, "una", 9)
    with pytest.raises(ApiError) as hidden:
        stranger.api.computation(rid)
    assert hidden.value.api_code == "computation_not_found"


def test_a_job_is_refused_before_payment_while_the_nodes_are_full_and_the_sdk_waits(
    market_app: FastAPI, chain: Market, indexer: Indexer, forwarder: RecordingForwarder
) -> None:
    _seller, _seller_ledger, product = listed_analytics(market_app, chain, indexer)
    buyer, _ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    spec = SPEC.model_dump(mode="json", by_alias=True)
    job = computation_job(
        "0x" + secrets.token_hex(32), spec, [product["id"]], NodeKeyPair.generate().public_key
    )
    forwarder.full = [("the compute node at http://node0 has 64 jobs waiting", 1.0)]
    refused = TestClient(market_app, headers=buyer.headers).post("/api/v1/computations", json=job)
    assert (refused.status_code, refused.json()["code"]) == (503, "nodes_busy")
    assert refused.headers["Retry-After"] == "1"
    assert "nothing is paid" in refused.json()["message"]
    with pytest.raises(ApiError) as absent:  # nothing was stored
        buyer.api.computation(job["request_id"])
    assert absent.value.api_code == "computation_not_found"
    forwarder.full = [("the compute node at http://node0 has 64 jobs waiting", 1.0)]
    started = time.monotonic()
    accepted = buyer.api.submit_computation(job)  # the SDK waits as told, then gets in
    assert accepted["state"] == "awaiting_payment" and time.monotonic() - started >= 1.0


def test_jobs_for_unpublished_products_are_refused(market_app: FastAPI, chain: Market) -> None:
    seller, _ = bound(market_app, chain, "sam", 7)
    product = analytics_product(seller)  # in the catalog, not on chain
    buyer, _ = bound(market_app, chain, "rhea", 8, category="research-institution")
    job = computation_job(
        "0x" + secrets.token_hex(32),
        SPEC.model_dump(mode="json", by_alias=True),
        [product["id"]],
        NodeKeyPair.generate().public_key,
    )
    with pytest.raises(ApiError) as refused:
        buyer.api.submit_computation(job)
    assert refused.value.api_code == "not_published"


def test_a_paid_job_left_behind_by_a_crash_is_forwarded_by_catch_up(
    market_app: FastAPI,
    chain: Market,
    indexer: Indexer,
    forwarder: RecordingForwarder,
    engine: Engine,
) -> None:
    _seller, _seller_ledger, product = listed_analytics(market_app, chain, indexer)
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    key = NodeKeyPair.generate().public_key
    rid = "0x" + secrets.token_hex(32)
    buyer.api.submit_computation(
        computation_job(rid, SPEC.model_dump(mode="json", by_alias=True), [product["id"]], key)
    )
    pay_computation(buyer.api, ledger, rid, SPEC.digest(), [product["id"]], "research", key)
    indexer.poll_once()  # stored, but no fulfilment subscribed: the process "died"
    assert not forwarder.jobs
    assert Fulfilment(make_session_factory(engine), forwarder).catch_up() == 1
    assert [j["request_id"] for j in forwarder.jobs] == [rid]


def test_a_claim_is_filed_with_evidence_and_ruled_through_the_api(
    market_app: FastAPI, chain: Market, indexer: Indexer
) -> None:
    seller, seller_ledger = bound(market_app, chain, "sam", 7)
    product = seller.api.create_product(product_body("batch"))
    publish_on_chain(seller.api, seller_ledger, product["id"], stake=20 * DATA, wait=0)
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    bought = buy_access(buyer.api, ledger, product["id"], "research")
    indexer.poll_once()
    statement = "The file has 10 rows, not the 10,000 described."
    digest = buyer.api.claim_evidence(bought.purchase_id, product["id"], statement)
    assert digest == evidence_hash(bought.purchase_id, product["id"], statement)
    stranger, _ = bound(market_app, chain, "una", 9)
    with pytest.raises(ApiError) as not_theirs:
        stranger.api.claim_evidence(bought.purchase_id, product["id"], "me too")
    assert not_theirs.value.api_code == "not_buyer"
    ledger.file_claim(bought.purchase_id, product["id"], bytes.fromhex(digest[2:]))
    indexer.poll_once()
    assert seller.api.chain_state(product["id"])["quality"] == "disputed"
    [claim] = seller.api.claims(product["id"])
    assert (claim["statement"], claim["status"]) == (statement, "open")

    with pytest.raises(ApiError) as no_role:
        seller.api.rule(bought.purchase_id, uphold=True)
    assert no_role.value.api_code == "forbidden"
    arbiter = person(market_app, "ada", roles=("arbiter",))
    web = TestClient(market_app)
    waiting = web.get("/api/v1/claims?status=open", headers=arbiter.headers).json()
    assert (bought.purchase_id, product["id"].lower(), statement) in [
        (c["purchase_id"], c["product_id"], c["statement"]) for c in waiting
    ]  # the module's chain is shared by the database variants: earlier claims are on it too
    ruled = arbiter.api.rule(bought.purchase_id, uphold=False)
    assert ruled["transaction"].startswith("0x")
    indexer.poll_once()
    assert seller.api.chain_state(product["id"])["quality"] == "staked"
    assert [c["status"] for c in arbiter.api.claims(product["id"])] == ["rejected"]
    still_open = web.get("/api/v1/claims?status=open", headers=arbiter.headers).json()
    assert bought.purchase_id not in [c["purchase_id"] for c in still_open]
    rejected = web.get("/api/v1/claims?status=rejected", headers=arbiter.headers).json()
    assert bought.purchase_id in [c["purchase_id"] for c in rejected]
    second = buy_access(buyer.api, ledger, product["id"], "research", again=True)  # same grant
    assert second.purchase_id != bought.purchase_id
    ledger.approve_product(second.purchase_id, product["id"])  # a claimed purchase cannot
    indexer.poll_once()
    state = seller.api.chain_state(product["id"])
    assert (state["quality"], state["stake"], state["approvals"]) == (
        "approving",
        str(20 * DATA),
        1,
    )
    assert state["release_at"] is not None  # other buyers may object for one claim window
    time_travel(chain, PARAMETERS["claim_window"])
    ledger.release_stake(product["id"])  # anyone may send it: the seller is paid
    indexer.poll_once()
    state = seller.api.chain_state(product["id"])
    assert (state["quality"], state["stake"], state["approvals"]) == ("approved", "0", 1)


def test_claims_are_private_to_owner_and_arbiters(market_app: FastAPI, chain: Market) -> None:
    seller, _ = bound(market_app, chain, "sam", 7)
    product = seller.api.create_product(product_body("batch"))
    nosy = person(market_app, "una")
    answer = TestClient(market_app).get(
        f"/api/v1/products/{product['id']}/claims", headers=nosy.headers
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "forbidden")
    every = TestClient(market_app).get("/api/v1/claims", headers=nosy.headers)
    assert (every.status_code, every.json()["code"]) == (403, "forbidden")


def test_a_union_is_bought_as_one_item_and_computed_over_its_members(
    market_app: FastAPI,
    chain: Market,
    indexer: Indexer,
    forwarder: RecordingForwarder,
    engine: Engine,
    tmp_path: Path,
) -> None:
    first, first_ledger = bound(market_app, chain, "sam", 7)
    second, second_ledger = bound(market_app, chain, "sol", 9)
    members = []
    for owner, ledger in ((first, first_ledger), (second, second_ledger)):
        product = analytics_product(owner)
        publish_on_chain(owner.api, ledger, product["id"], stake=20 * DATA, wait=0)
        members.append(product["id"])
    # Each owner's SDK (as 'kraken-market unions create|consent'): catalog, then chain.
    proposer = Marketplace(first.api, first_ledger, tmp_path)
    listed = proposer.create_union("Two cohorts", {members[0]: 1, members[1]: 3}, wait=0)
    union = bytes.fromhex(listed["id"][2:])
    assert listed["status"] == "pending"
    assert first_ledger.union(union)["consents_missing"] == 1  # type: ignore[index]
    early, _ = bound(market_app, chain, "una", 6, category="research-institution")
    with pytest.raises(ApiError) as pending:  # not every member consented yet
        early.api.grant(listed["id"], "research")
    assert pending.value.api_code == "product_not_for_sale"
    consenting = Marketplace(second.api, second_ledger, tmp_path)
    consented = consenting.consent_union(listed["id"], wait=0)
    assert consented["status"] == "awaiting_chain"  # on chain, not indexed yet
    with pytest.raises(ApiError) as unindexed:
        early.api.grant(listed["id"], "research")
    assert unindexed.value.api_code == "product_not_for_sale"
    assert "waits for the chain" in unindexed.value.message
    indexer.poll_once()
    assert first.api.union(listed["id"])["status"] == "active"
    assert second_ledger.union(union)["status"] == "active"  # type: ignore[index]
    again = join_on_chain(second.api, second_ledger, listed["id"], wait=0)
    assert (again.sent, again.status) == (None, "active")  # nothing is sent twice
    with pytest.raises(ApiError) as unlisted:
        early.api.grant(listed["id"], "marketing")  # a purpose no member's policy allows
    assert unlisted.value.api_code == "not_eligible"
    indexer.subscribe(Fulfilment(make_session_factory(engine), forwarder), Fulfilment.EVENTS)
    indexer.poll_once()
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    key = NodeKeyPair.generate().public_key
    rid = "0x" + secrets.token_hex(32)
    spec = SPEC.model_dump(mode="json", by_alias=True)
    buyer.api.submit_computation(computation_job(rid, spec, members, key))
    union_id = "0x" + union.hex()
    pay_computation(buyer.api, ledger, rid, SPEC.digest(), [union_id], "research", key)
    indexer.poll_once()
    [sent] = forwarder.jobs
    assert [p["product_id"] for p in sent["products"]] == members
    assert {p["owner"] for p in sent["products"]} == {first.key.did, second.key.did}
    paid = chain.as_(8).computation(rid)
    assert paid is not None and chain.as_(8).purchase(paid.purchase_id).items == (union,)  # type: ignore[union-attr]


def test_a_derived_product_is_published_with_its_parents_and_its_lineage_is_on_chain(
    market_app: FastAPI, chain: Market, indexer: Indexer
) -> None:
    from kraken_market.ledger.provenance import history

    seller, ledger = bound(market_app, chain, "sam", 7)
    parent = seller.api.create_product(product_body("batch"))
    publish_on_chain(seller.api, ledger, parent["id"], stake=20 * DATA, wait=0)
    curated = seller.api.create_product(
        product_body("batch", title="Cleaned heart rate", parents=[parent["id"]])
    )
    publish_on_chain(seller.api, ledger, curated["id"], stake=20 * DATA, wait=0)
    indexer.poll_once()
    assert ledger.parents_of(curated["id"]) == [bytes.fromhex(parent["id"][2:])]
    lineage = history(ledger, curated["id"]).as_dict()["lineage"]["edges"]
    assert lineage == [{"child": curated["id"], "parent": parent["id"]}]
    assert seller.api.chain_state(curated["id"])["metadata_matches"]  # parents are covered


def test_a_pause_and_a_new_price_apply_to_the_next_purchase_even_with_a_grant(
    market_app: FastAPI, chain: Market
) -> None:
    from kraken_market.ledger.errors import Reverted
    from kraken_market.trade.buy import ensure_grant
    from kraken_market.trade.publish import sync_on_chain

    seller, seller_ledger = bound(market_app, chain, "sam", 7)
    product = seller.api.create_product(product_body("batch"))
    publish_on_chain(seller.api, seller_ledger, product["id"], stake=20 * DATA, wait=0)
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    ensure_grant(buyer.api, ledger, product["id"], "research")  # granted before the pause
    seller.api.update_product(product["id"], {"availability": "paused"})
    assert sync_on_chain(seller.api, seller_ledger, product["id"]) == ["availability paused"]
    balance = ledger.balance()
    with pytest.raises(Reverted):
        ledger.buy_access(product["id"], 0)
    assert ledger.balance() == balance
    seller.api.update_product(
        product["id"], {"availability": "listed", "prices": {"access": "7000"}}
    )
    assert sync_on_chain(seller.api, seller_ledger, product["id"]) == [
        "availability listed",
        "prices",
    ]
    assert buy_access(buyer.api, ledger, product["id"], "research").amount == 7000
    assert sync_on_chain(seller.api, seller_ledger, product["id"]) == []


def test_a_product_published_on_chain_by_someone_else_is_neither_granted_nor_paid(
    market_app: FastAPI, chain: Market, indexer: Indexer
) -> None:
    from kraken_market.ledger.model import ModeCode, Prices
    from kraken_market.trade.buy import ensure_grant
    from kraken_market.trade.publish import PublishedElsewhere
    from kraken_market.trade.publishers import ChainOwnerUnverified

    seller, seller_ledger = bound(market_app, chain, "sam", 7)
    product = seller.api.create_product(product_body("batch"))
    mallory, mallory_ledger = bound(market_app, chain, "mallory", 9)
    mallory_ledger.publish(  # the catalog id is public: Mallory publishes it first
        product["id"], mode=ModeCode.BATCH, prices=Prices(access=1), stake=20 * DATA
    )
    indexer.poll_once()
    state = seller.api.chain_state(product["id"])
    assert state["published"] and not state["verified"] and state["owner_did"] == mallory.key.did
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    with pytest.raises(ApiError) as refused:
        buyer.api.grant(product["id"], "research")
    assert refused.value.api_code == "chain_owner_unverified"
    with pytest.raises(ChainOwnerUnverified):
        ensure_grant(buyer.api, ledger, product["id"], "research")
    with pytest.raises(PublishedElsewhere):
        publish_on_chain(seller.api, seller_ledger, product["id"], wait=0)
    with pytest.raises(ApiError) as not_theirs:  # Mallory cannot register as its publisher
        mallory.api.register_publisher(product["id"])
    assert not_theirs.value.api_code == "not_owner"


class FlakyForwarder(RecordingForwarder):
    """Node 2 does not answer the first time (it was restarting)."""

    def forward(self, job: Mapping[str, Any]) -> dict[str, Any]:
        self.jobs.append(dict(job))
        late = {"error": "node_unreachable", "message": "ConnectError"}
        node2 = late if len(self.jobs) == 1 else {"state": "queued"}
        return {"http://node0": {"state": "queued"}, "http://node2": node2}


def test_a_job_a_node_missed_is_forwarded_again(
    market_app: FastAPI, chain: Market, indexer: Indexer, engine: Engine
) -> None:
    _seller, _seller_ledger, product = listed_analytics(market_app, chain, indexer)
    buyer, ledger = bound(market_app, chain, "rhea", 8, category="research-institution")
    key = NodeKeyPair.generate().public_key
    rid = "0x" + secrets.token_hex(32)
    spec = SPEC.model_dump(mode="json", by_alias=True)
    buyer.api.submit_computation(computation_job(rid, spec, [product["id"]], key))
    pay_computation(buyer.api, ledger, rid, SPEC.digest(), [product["id"]], "research", key)
    flaky = FlakyForwarder()
    fulfilment = Fulfilment(make_session_factory(engine), flaky)
    indexer.subscribe(fulfilment, Fulfilment.EVENTS)
    indexer.poll_once()
    assert buyer.api.computation(rid)["state"] == "awaiting_payment"  # not every node has it
    assert fulfilment.catch_up() == 1
    assert buyer.api.computation(rid)["state"] == "forwarded" and len(flaky.jobs) == 2


WORDS = {
    "object_not_found": "the share file shares/p/0.kms is not in storage",
    "column_unknown": "the product has no column 'weight'",
}
"""What a node says of each refusal (as a node's error answer words it)."""


class RefusingNode:
    """A node that refuses every job: for ``object_not_found`` (the seller's share file
    is missing) it refuses the paid job on chain, so the buyer is refunded at once; for
    a buyer's own mistake (``column_unknown``) it only answers."""

    def __init__(self, chain: Market, code: str = "object_not_found") -> None:
        self.node, self.code, self.jobs = chain.as_(4), code, list[dict[str, Any]]()

    def nodes(self) -> list[dict[str, Any]]:
        return []

    def forward(self, job: Mapping[str, Any]) -> dict[str, Any]:
        self.jobs.append(dict(job))
        answer: dict[str, Any] = {"error": self.code, "message": WORDS[self.code]}
        if self.code == "object_not_found":
            tx = self.node.refuse(job["request_id"], self.code).tx_hash
            answer["refund"] = {"status": "refunded", "transaction": tx, "reason": self.code}
        return {"http://node0": answer}

    def busy(self) -> tuple[str, float] | None:
        return None


class IndexingApi:
    """The buyer's API client, with the indexer polled before each read of the job (the
    platform's indexer runs on its own; here one thread does both, in turn)."""

    def __init__(self, api: Any, indexer: Indexer) -> None:
        self.api, self.indexer = api, indexer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)

    def computation(self, request_id: str) -> dict[str, Any]:
        self.indexer.poll_once()
        return dict(self.api.computation(request_id))


def test_a_job_a_node_refused_is_refunded_and_resuming_it_says_so(
    settings: Settings, engine: Engine, chain: Market, indexer: Indexer, tmp_path: Any
) -> None:
    """The nodes refuse a paid job for the seller's fault: the buyer's SDK stops with the
    refund (no retry, no second payment), the API shows the payment refunded with its
    transaction and refuses a retry, and resuming the request id says the same again
    without forwarding anything."""
    node = RefusingNode(chain)
    app = create_app(settings, engine=engine, verifier=chain.as_(2), forwarder=node)
    seller, _seller_ledger, product = listed_analytics(app, chain, indexer)
    share_set(app, seller, product["id"], tmp_path)  # a share set the quote finds sound
    buyer, ledger = bound(app, chain, "rhea", 8, category="research-institution")
    indexer.subscribe(Fulfilment(make_session_factory(engine), node), Fulfilment.EVENTS)
    api = IndexingApi(buyer.api, indexer)
    rid = "0x" + secrets.token_hex(32)
    before = ledger.balance()
    with pytest.raises(ComputationRefunded) as refunded:
        compute_via_market(api, ledger, SPEC, [product["id"]], "research", rid, tmp_path)  # type: ignore[arg-type]
    assert len(node.jobs) == 1  # forwarded once, never retried
    assert ledger.balance() == before  # paid, and refunded at once
    refusal = ledger.refusal(rid)
    assert refusal is not None and str(refusal.tx_hash) in refunded.value.message
    said = " ".join(refunded.value.message.split())
    assert f"a node: {WORDS['object_not_found']} [object_not_found]" in said  # in words
    assert refunded.value.details["payment"] == "refunded"

    job = api.computation(rid)
    assert job["state"] == "refused"
    assert job["nodes"]["http://node0"]["refund"]["transaction"] == refusal.tx_hash
    assert job["payment"] == {
        "state": "refunded",
        "amount": "700",  # the product's computation price, in base units
        "deadline": ledger.computation(rid).deadline,  # type: ignore[union-attr]
        "transaction": refusal.tx_hash,
        "reason": "object_not_found",
        "node": dev_account(4).address,
    }
    with pytest.raises(ApiError) as retried:
        buyer.api.retry_computation(rid)
    assert retried.value.api_code == "payment_returned"
    assert "refunded you at once" in retried.value.message

    with pytest.raises(ComputationRefunded) as resumed:  # the same request id again
        compute_via_market(api, ledger, SPEC, [product["id"]], "research", rid, tmp_path)  # type: ignore[arg-type]
    assert resumed.value.message == refunded.value.message
    assert len(node.jobs) == 1 and ledger.balance() == before


def test_a_job_refused_for_the_buyers_own_mistake_stays_held_and_says_until_when(
    settings: Settings, engine: Engine, chain: Market, indexer: Indexer, tmp_path: Any
) -> None:
    node = RefusingNode(chain, "column_unknown")
    app = create_app(settings, engine=engine, verifier=chain.as_(2), forwarder=node)
    seller, _seller_ledger, product = listed_analytics(app, chain, indexer)
    share_set(app, seller, product["id"], tmp_path)  # a share set the quote finds sound
    buyer, ledger = bound(app, chain, "rhea", 8, category="research-institution")
    indexer.subscribe(Fulfilment(make_session_factory(engine), node), Fulfilment.EVENTS)
    api = IndexingApi(buyer.api, indexer)
    rid = "0x" + secrets.token_hex(32)
    before = ledger.balance()
    with pytest.raises(ComputationRefused) as refused:
        compute_via_market(api, ledger, SPEC, [product["id"]], "research", rid, tmp_path)  # type: ignore[arg-type]
    assert len(node.jobs) == 2  # asked once more (a refusal may pass), then told
    record = ledger.computation(rid)
    assert record is not None and record.status is PaymentStatus.HELD
    assert ledger.balance() == before - record.amount  # nothing refunded: held
    message = " ".join(refused.value.message.split())
    assert f"(a node: {WORDS['column_unknown']} [column_unknown])" in message
    assert "nothing was refunded" in message
    assert f"reclaim them after {when(record.deadline, chain_now(ledger))[:20]}" in message
    assert f"kraken-market trade reclaim {rid}" in message
    assert refused.value.details["deadline"] == record.deadline


class DescribingForwarder(RecordingForwarder):
    """Nodes of which only some describe themselves (``GET /node``)."""

    def __init__(self, answering: list[bytes]) -> None:
        super().__init__()
        self.answering = answering

    def nodes(self) -> list[dict[str, Any]]:
        return [{"hpke_public_key": key.hex()} for key in self.answering]


def test_balances_and_registered_nodes_are_read_from_the_chain(
    settings: Settings, engine: Engine, chain: Market
) -> None:
    reader = chain.as_(2)
    registered = reader.nodes()
    app = create_app(
        settings,
        engine=engine,
        chain=reader,
        forwarder=DescribingForwarder([registered[0].hpke_public_key]),
    )
    web = TestClient(app)
    account = dev_account(7).address
    answer = web.get(f"/api/v1/ledger/balances/{account.lower()}").json()
    assert answer == {"account": account, "balance": str(reader.balance(account))}
    bad = web.get("/api/v1/ledger/balances/0x1234")
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")

    nodes = web.get("/api/v1/ledger/nodes").json()
    assert [(n["endpoint"], n["answering"]) for n in nodes] == [
        (node.endpoint, index == 0) for index, node in enumerate(registered)
    ]
    assert nodes[0]["hpke_public_key"] == registered[0].hpke_public_key.hex()
