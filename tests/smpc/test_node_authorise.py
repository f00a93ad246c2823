"""A node refuses unknown, unpaid, ungranted or mismatched jobs before touching a share,
and refunds the buyer on chain at once when the refusal is the seller's doing.

In-process chain; the node service is not started, so accepted jobs stay queued.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_tester import EthereumTester, PyEVMBackend
from fastapi.testclient import TestClient
from web3 import EthereumTesterProvider, Web3

from kraken_market.identity.dids import did_key
from kraken_market.ledger.client import dev_account
from kraken_market.ledger.model import PaymentStatus
from kraken_market.smpc import job_auth
from kraken_market.smpc.config import NodeConfig
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.manifest import verify_manifest
from kraken_market.smpc.node.app import create_app
from kraken_market.smpc.node.authorise import LedgerChain
from kraken_market.smpc.node.jobs import JobRecord, JobRequest
from kraken_market.smpc.node.service import NodeService
from kraken_market.smpc.node.worker import ProductInput
from kraken_market.smpc.storage import LocalDirectory
from tests.api.test_docs import check_docs_page
from tests.crash_bodies import assert_no_body_crashes
from tests.smpc.market_setup import (
    BUYER,
    DATA,
    NODE_ACCOUNTS,
    PRICE,
    Market,
    deploy_market,
    node_keys,
    share,
)
from tests.smpc.market_setup import table as make_table

SPEC = ComputationSpec(function="mean@1", columns=["age"])


class World:
    def __init__(self, root: Path) -> None:
        w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
        self.market = Market(w3, deploy_market(w3))
        self.keys = node_keys()
        self.market.register_nodes([k.public_key for k in self.keys], ["http://n"] * 3)
        self.owner = Ed25519PrivateKey.generate()
        self.store = root / "store"
        self.product = self.market.publish()
        self.market.grant(self.product)
        self.input = self.share(self.product, [k.public_key for k in self.keys], root)
        config = NodeConfig(
            index=0,
            data_dir=root / "node",
            parties=("127.0.0.1:27000", "127.0.0.1:28000", "127.0.0.1:29000"),
            storage=self.store,
            chain_url="in-process",
            deployment_file=root / "none.json",
        )
        chain = LedgerChain(self.market.as_(NODE_ACCOUNTS[0]))
        self.service = NodeService(config, chain, self.keys[0])
        self.http = TestClient(create_app(self.service, manage=False))
        self.root = root

    def share(self, product: str, keys, root: Path) -> ProductInput:
        return share(make_table(12), product, keys, self.store, self.owner, root)

    def job(
        self,
        spec: ComputationSpec = SPEC,
        *,
        products: list[ProductInput] | None = None,
        key: NodeKeyPair | None = None,
        paid_spec: ComputationSpec | None = None,
        paid_key: NodeKeyPair | None = None,
    ) -> JobRequest:
        key = key or NodeKeyPair.generate()
        products = products or [self.input]
        rid = self.market.pay(
            paid_spec or spec, [p.product_id for p in products], (paid_key or key).public_key
        )
        return JobRequest(
            request_id=rid,
            computation=spec,
            products=products,
            result_public_key=key.public_key.raw.hex(),
        )

    def submit(self, request: JobRequest) -> tuple[int, dict[str, Any]]:
        response = self.http.post("/jobs", json=request.model_dump(mode="json", by_alias=True))
        return response.status_code, response.json()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = World(tmp_path_factory.mktemp("authorise"))
    yield world
    world.service.store.close()


def test_a_paid_and_granted_job_is_accepted_and_queued(world: World) -> None:
    request = world.job()
    status, body = world.submit(request)
    assert status == 202, body
    assert body["state"] == "queued" and body["node_index"] == 0
    assert world.submit(request) == (202, body)  # idempotent
    rid, node = request.request_id, world.service.chain.account
    buyer = job_auth.sign(dev_account(BUYER), rid, node)
    assert world.http.get(f"/jobs/{rid}", headers=buyer).json()["state"] == "queued"
    result = world.http.get(f"/jobs/{rid}/result", headers=buyer)
    assert result.status_code == 409 and result.json()["code"] == "result_not_ready"
    # The request id is public (on chain): the job is shown to its buyer only.
    for path in (f"/jobs/{rid}", f"/jobs/{rid}/result"):
        anonymous = world.http.get(path)
        assert (anonymous.status_code, anonymous.json()["code"]) == (
            401,
            "buyer_signature_required",
        )
        stranger = world.http.get(path, headers=job_auth.sign(dev_account(9), rid, node))
        assert (stranger.status_code, stranger.json()["code"]) == (403, "not_job_buyer")
        elsewhere = job_auth.sign(dev_account(BUYER), rid, dev_account(5).address)
        assert world.http.get(path, headers=elsewhere).status_code == 403  # another node's
    other = request.model_copy(update={"computation": ComputationSpec(function="sum@1")})
    assert world.submit(other)[1]["code"] == "job_conflict"


def test_an_unknown_request_is_refused(world: World) -> None:
    request = JobRequest(
        request_id="0x" + "77" * 32,
        computation=SPEC,
        products=[world.input],
        result_public_key="00" * 32,
    )
    assert world.submit(request)[0:1] == (404,)
    assert world.submit(request)[1]["code"] == "computation_unknown"
    assert world.http.get("/jobs/0x" + "77" * 32).json()["code"] == "job_not_found"


def test_a_job_other_than_the_paid_one_is_refused(world: World) -> None:
    status, body = world.submit(world.job(paid_spec=ComputationSpec(function="sum@1")))
    assert (status, body["code"]) == (403, "request_mismatch")
    assert "function_id" in body["message"]
    status, body = world.submit(world.job(paid_key=NodeKeyPair.generate()))
    assert (status, body["code"]) == (403, "request_mismatch")
    assert "result key" in body["message"]
    paid = world.job()
    extra = world.market.publish()
    world.market.grant(extra)
    other = world.share(extra, [k.public_key for k in world.keys], world.root)
    swapped = paid.model_copy(update={"products": [world.input, other]})
    status, body = world.submit(swapped)
    assert (status, body["code"]) == (403, "request_mismatch")


def test_a_job_without_a_valid_grant_is_refused(world: World) -> None:
    request = world.job()
    world.market.as_(2).revoke_grant(dev_account(BUYER).address, world.product, 0)
    try:
        status, body = world.submit(request)
    finally:
        world.market.grant(world.product)
    assert (status, body["code"]) == (403, "grant_missing")


def test_a_delivered_job_and_a_small_cohort_are_refused(world: World) -> None:
    request = world.job()
    for account in NODE_ACCOUNTS[1:]:
        world.market.as_(account).attest(request.request_id, hashlib.sha256(b"x").digest())
    status, body = world.submit(request)
    assert (status, body["code"]) == (409, "computation_closed")
    small = ComputationSpec(function="mean@1", columns=["age"], min_cohort=2)
    status, body = world.submit(world.job(small))
    assert (status, body["code"]) == (422, "cohort_below_floor")


def test_share_files_for_other_keys_are_refused_before_any_computation(world: World) -> None:
    product = world.market.publish()
    world.market.grant(product)
    strangers = [NodeKeyPair.generate().public_key for _ in range(3)]
    request = world.job(products=[world.share(product, strangers, world.root)])
    status, body = world.submit(request)
    assert (status, body["code"]) == (422, "manifest_mismatch")
    assert body["details"]["refund"]["status"] == "refunded"  # the seller's shares: not ours


def _held(world: World, request: JobRequest) -> PaymentStatus:
    record = world.market.as_(BUYER).computation(request.request_id)
    assert record is not None
    return record.status


def test_a_missing_share_file_refunds_the_buyer_at_once(world: World) -> None:
    """The seller's share file for this node is gone from storage: the node refuses the
    paid job on chain before answering, so the buyer has its money back at once (not
    after the deadline), and every later submission is refused as refunded."""
    product = world.market.publish()
    world.market.grant(product)
    shared = world.share(product, [k.public_key for k in world.keys], world.root)
    storage = LocalDirectory(world.store)
    manifest = verify_manifest(storage.read(shared.manifest), shared.owner, product)
    storage.delete(manifest.file_for(0).name)
    buyer = world.market.as_(BUYER)
    buyer.drip(100 * DATA)  # enough that paying tops nothing up (market_setup.pay)
    before = buyer.balance()
    request = world.job(products=[shared])
    assert buyer.balance() == before - PRICE
    status, body = world.submit(request)
    assert (status, body["code"]) == (404, "object_not_found"), body
    refund = body["details"]["refund"]
    assert refund["status"] == "refunded" and refund["reason"] == "object_not_found"
    assert refund["node"] == dev_account(NODE_ACCOUNTS[0]).address
    assert refund["amount"] == str(PRICE)
    assert buyer.balance() == before  # at once
    assert _held(world, request) is PaymentStatus.REFUNDED
    receipt = world.market.w3.eth.get_transaction_receipt(refund["transaction"])
    assert receipt["status"] == 1
    status, body = world.submit(request)
    assert (status, body["code"]) == (402, "payment_not_held")
    assert "refunded at once" in body["message"] and "object_not_found" in body["message"]


def test_a_manifest_not_signed_by_the_owner_refunds_the_buyer(world: World) -> None:
    product = world.market.publish()
    world.market.grant(product)
    shared = world.share(product, [k.public_key for k in world.keys], world.root)
    stranger = did_key(Ed25519PrivateKey.generate().public_key())  # not who signed it
    request = world.job(products=[shared.model_copy(update={"owner": stranger})])
    status, body = world.submit(request)
    assert (status, body["code"]) == (422, "manifest_invalid"), body
    assert body["details"]["refund"]["status"] == "refunded"
    assert _held(world, request) is PaymentStatus.REFUNDED


def test_a_refusal_of_the_buyers_own_making_refunds_nothing(world: World) -> None:
    """An unknown column is in the buyer's request, not the seller's data: the payment
    stays held (reclaimable after the deadline)."""
    request = world.job(ComputationSpec(function="mean@1", columns=["height"]))
    status, body = world.submit(request)
    assert (status, body["code"]) == (422, "column_unknown"), body
    assert "refund" not in (body["details"] or {})
    assert _held(world, request) is PaymentStatus.HELD


def test_a_result_is_served_only_once_its_delivery_is_attested(world: World) -> None:
    """A computation refunded (or reclaimed) after the nodes computed gives no result
    away: the node serves it only once its attestation is on chain."""
    request = world.job()
    world.market.as_(NODE_ACCOUNTS[1]).refuse(request.request_id, "envelope_tampered")
    rid = request.request_id.lower()
    results = world.service.config.results_dir
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{rid}.kres").write_bytes(b"sealed result")
    now = time.time()
    data = request.model_dump(mode="json", by_alias=True)
    node = world.service.chain.account
    buyer = job_auth.sign(dev_account(BUYER), rid, node)
    for attestation, code in (
        ("failed: computation_not_held", "result_withheld"),
        ("pending", "result_not_ready"),
    ):
        record = JobRecord(rid, data, "delivered", now, now, commitment="ab" * 32)
        world.service.store.put(replace(record, attestation=attestation))
        answer = world.http.get(f"/jobs/{rid}/result", headers=buyer)
        assert (answer.status_code, answer.json()["code"]) == (409, code)
    world.service.store.put(replace(record, attestation="attested"))
    assert world.http.get(f"/jobs/{rid}/result", headers=buyer).content == b"sealed result"


def test_a_result_paid_out_on_the_other_nodes_attestations_is_served(world: World) -> None:
    """This node's own attestation failed (the chain did not answer), the others' paid the
    sellers: the buyer paid for a delivered result, so this node serves its share too."""
    request = world.job()
    for index in NODE_ACCOUNTS[1:]:
        world.market.as_(index).attest(request.request_id, b"\x07" * 32)
    rid = request.request_id.lower()
    results = world.service.config.results_dir
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{rid}.kres").write_bytes(b"sealed result")
    now = time.time()
    data = request.model_dump(mode="json", by_alias=True)
    record = JobRecord(rid, data, "delivered", now, now, commitment="ab" * 32)
    world.service.store.put(replace(record, attestation="failed: chain_unavailable"))
    buyer = job_auth.sign(dev_account(BUYER), rid, world.service.chain.account)
    answer = world.http.get(f"/jobs/{rid}/result", headers=buyer)
    assert answer.status_code == 200 and answer.content == b"sealed result"
    assert world.service.store.get(rid).attestation == "not_needed"


def test_expired_and_reclaimed_payments_are_refused(world: World) -> None:
    request = world.job()
    tester = world.market.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    tester.time_travel(world.market.now() + 3601)
    world.market.grant(world.product)  # the grant itself is still valid
    status, body = world.submit(request)
    assert (status, body["code"]) == (409, "computation_expired")
    world.market.as_(BUYER).reclaim(request.request_id)
    status, body = world.submit(request)
    assert (status, body["code"]) == (402, "payment_not_held")


def test_no_body_crashes_a_node(tmp_path: Path) -> None:
    from kraken_market.smpc.node.app import MAX_BODY

    world = World(tmp_path)
    assert assert_no_body_crashes(world.http, MAX_BODY) > 20
    assert world.http.get("/healthz").status_code == 200


def test_the_node_api_docs_are_served_without_a_cdn(world: World) -> None:
    check_docs_page(world.http, "/docs", "/openapi.json")
    check_docs_page(world.http, "/redoc", "/openapi.json")
