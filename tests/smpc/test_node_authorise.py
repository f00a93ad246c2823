"""A node refuses unknown, unpaid, ungranted or mismatched jobs before touching a share.

In-process chain; the node service is not started, so accepted jobs stay queued.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_tester import EthereumTester, PyEVMBackend
from fastapi.testclient import TestClient
from web3 import EthereumTesterProvider, Web3

from kraken_market.ledger.client import dev_account
from kraken_market.smpc import job_auth
from kraken_market.smpc.config import NodeConfig
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.node.app import create_app
from kraken_market.smpc.node.authorise import LedgerChain
from kraken_market.smpc.node.jobs import JobRequest
from kraken_market.smpc.node.service import NodeService
from kraken_market.smpc.node.worker import ProductInput
from tests.api.test_docs import check_docs_page
from tests.crash_bodies import assert_no_body_crashes
from tests.smpc.market_setup import BUYER, NODE_ACCOUNTS, Market, deploy_market, node_keys, share
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
