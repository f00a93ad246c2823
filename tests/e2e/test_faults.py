"""Faults on the real platform: the whole platform killed with kill -9 right after a
payment, and a compute node killed in the middle of a job. In both, after a restart
the buyer resumes the same request: the result arrives, the payment was taken once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pandas as pd  # type: ignore[import-untyped]
import pytest
from rich.console import Console

from kraken_market.ledger.model import PaymentStatus
from kraken_market.platform.report import PlatformInfo
from kraken_market.settings import Settings
from kraken_market.smpc import job_auth
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.story.actors import Actor
from kraken_market.story.context import Story
from kraken_market.story.hospital import SCHEMA, patients
from kraken_market.trade.buy import computation_job, pay_computation
from kraken_market.trade.publish import publish_on_chain
from kraken_market.trade.results import compute_via_market, result_key
from tests import served
from tests.e2e.test_up import ports, start

SPEC = ComputationSpec(function="mean@1", columns=["age", "heart_rate"])


class Platform:
    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env, self.tmp = env, tmp
        self.process, self.info = start(env, timeout=120)

    def story(self) -> Story:
        settings = Settings(
            data_dir=Path(self.env["KRAKEN_DATA_DIR"]),
            api_port=int(self.env["KRAKEN_API_PORT"]),
            chain_port=int(self.env["KRAKEN_CHAIN_PORT"]),
        )
        return Story(settings, self.info, self.tmp / "out", Console(quiet=True))

    def restart(self) -> None:
        # the killed 'up' left its platform.json: not a sign the new one is ready
        (Path(self.env["KRAKEN_DATA_DIR"]) / "platform.json").unlink(missing_ok=True)
        self.process, self.info = start(self.env, timeout=120)

    def wait_restarted(self, name: str, killed: int, url: str) -> None:
        """``up`` restarted its child ``name`` (killed with pid ``killed``): a new pid in
        platform.json, and the child answers at ``url`` again."""
        path = Path(self.env["KRAKEN_DATA_DIR"]) / "platform.json"
        deadline = time.monotonic() + 60
        while PlatformInfo.model_validate_json(path.read_text()).processes[name] == killed:
            assert self.process.poll() is None, "up stopped instead of restarting it"
            assert time.monotonic() < deadline, f"{name} was not restarted"
            time.sleep(0.2)
        while True:
            try:
                served.get(url, timeout=2).raise_for_status()
                return
            except httpx2.HTTPError:
                assert time.monotonic() < deadline, f"{name} does not answer after its restart"
                time.sleep(0.2)

    def wait_gone(self) -> None:
        """Every process of the platform has stopped (its ports are free)."""
        deadline = time.monotonic() + 30
        while any(_listening(port) for port in ports(self.env)):
            assert time.monotonic() < deadline, "the platform's processes outlived it"
            time.sleep(0.2)

    def logs(self) -> str:
        """The tail of every process's log and of the nodes' MPC workers' (on failure)."""
        data = Path(self.env["KRAKEN_DATA_DIR"])
        files = sorted((data / "logs").glob("*.log")) + sorted(data.glob("nodes/*/jobs/*/*.log"))
        return "\n".join(f"== {f}\n{f.read_text(errors='replace')[-1500:]}" for f in files)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()


def _listening(port: int) -> bool:
    try:
        served.get(f"http://127.0.0.1:{port}/", timeout=0.5)
    except httpx2.HTTPError:
        return False
    return True


@pytest.fixture
def platform(environment: dict[str, str], tmp_path: Path) -> Iterator[Platform]:
    running = Platform(environment, tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def story(platform: Platform) -> Iterator[Story]:
    told = platform.story()
    try:
        yield told
    finally:
        told.close()


def listed_product(story: Story) -> tuple[Actor, str]:
    seller = story.cast.actor("Sam")
    product = seller.api.create_product(
        {
            "title": "Patients",
            "description": "Age, heart rate, sex.",
            "access_mode": "analytics",
            "schema": SCHEMA,
            "prices": {"computation": str(2 * 10**18)},
            "policy": {"purposes": ["research"]},
            "stake": "0",
        }
    )
    data = story.work_dir / "patients.csv"
    patients(60).to_csv(data, index=False)
    manifest = story.share(seller.api, data, product["id"], SCHEMA, seller.key)
    seller.api.update_product(product["id"], {"storage_links": [manifest]})
    publish_on_chain(seller.api, seller.ledger, product["id"], wait=30)
    return seller, str(product["id"])


def paid_job(story: Story, product: str) -> tuple[Actor, str, int, int]:
    """A buyer who left a mean with the marketplace and paid it: (buyer, request id,
    balance before paying, amount paid)."""
    buyer = story.cast.actor("Rhea", category="research-institution")
    rid = story.request_id()
    key = result_key(story.keys_dir, rid)
    body = SPEC.model_dump(mode="json", by_alias=True)
    buyer.api.submit_computation(computation_job(rid, body, [product], key.public_key))
    before = buyer.ledger.balance()
    paid = pay_computation(
        buyer.api, buyer.ledger, rid, SPEC.digest(), [product], "research", key.public_key
    )
    return buyer, rid, before, paid.amount


def expected_mean() -> pd.Series:
    return patients(60)[["age", "heart_rate"]].mean()


def test_a_payment_survives_kill_9_of_the_platform_and_is_taken_once(
    platform: Platform, story: Story
) -> None:
    _, product = listed_product(story)
    buyer, rid, before, paid = paid_job(story, product)
    os.kill(platform.process.pid, signal.SIGKILL)  # the API, indexer and nodes go with it
    platform.process.communicate()
    platform.wait_gone()

    platform.restart()
    story.cast.login(buyer)  # sessions outlive a restart; a fresh one anyway
    outcome = compute_via_market(
        buyer.api, buyer.ledger, SPEC, [product], "research", rid, story.keys_dir, timeout=180
    )
    assert outcome.table is not None
    assert outcome.table.loc["mean", "age"] == pytest.approx(expected_mean()["age"], abs=1e-6)
    assert buyer.ledger.balance() == before - paid  # paid once, resumed without paying
    record = buyer.ledger.computation(rid)
    assert record is not None and record.status == PaymentStatus.PAID  # the nodes attested


def test_a_node_killed_mid_job_is_restarted_and_the_buyer_retries_without_paying(
    platform: Platform, story: Story
) -> None:
    _, product = listed_product(story)
    buyer, rid, before, paid = paid_job(story, product)
    node = platform.info.nodes[1]

    def job_at(url: str, account: str) -> httpx2.Response:  # as its buyer: nobody else sees it
        signed = job_auth.sign(buyer.account, rid, account)
        return served.get(f"{url}/jobs/{rid}", headers=signed, timeout=5)

    deadline = time.monotonic() + 60
    while True:  # kill node 1 while the job runs there
        answer = job_at(node.url, node.account)
        if answer.status_code == 200 and answer.json()["state"] == "running":
            break
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.01)
    killed = platform.info.processes["node-1"]
    os.kill(killed, signal.SIGKILL)  # up restarts it; the API, the chain and the others go on
    platform.wait_restarted("node-1", killed, f"{node.url}/healthz")
    failed = job_at(node.url, node.account).json()
    assert failed["state"] == "failed" and failed["error"]["code"] == "node_restarted"
    story.cast.login(buyer)
    try:
        outcome = compute_via_market(
            buyer.api, buyer.ledger, SPEC, [product], "research", rid, story.keys_dir, timeout=180
        )
    except Exception as exc:
        jobs = [job_at(n.url, n.account).text for n in platform.info.nodes]
        workers = subprocess.run(
            ["ps", "-eo", "pid,ppid,etime,args"], capture_output=True, text=True
        ).stdout
        running = [line for line in workers.splitlines() if "node.worker" in line]
        raise AssertionError(f"{exc}\n{jobs}\n{running}\n{platform.logs()}") from exc
    assert outcome.table is not None
    assert outcome.table.loc["mean", "heart_rate"] == pytest.approx(
        expected_mean()["heart_rate"], abs=1e-6
    )
    assert buyer.ledger.balance() == before - paid
