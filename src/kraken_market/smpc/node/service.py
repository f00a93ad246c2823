"""The compute node's logic (no HTTP): accept jobs, run them, deliver, attest.

``submit`` checks the chain (``authorise``) and the products' signed manifests
(the computation must plan against their columns) before a job is accepted,
so a refusal is immediate and nothing is fetched; a node with
``max_queued_jobs`` waiting answers ``node_busy`` (503, ``Retry-After``)
instead. Accepted jobs wait until the lead node starts them on every node at
once (``schedule``): ``prepare`` leases this node's MPC port (``ports``),
``start`` runs the job's MPC process (``runner``) on one thread, at most
``max_concurrent_jobs`` at a time (one more at the other nodes: a process may
end there a moment after the lead's). After a delivery the node attests the result
commitment on chain. A paid job that cannot run because of the seller's manifest
or share files, or this node's storage, is refused on chain first, which refunds
the buyer at once (``refusal``); a result is served only once its delivery is
attested. Every state change is in the job store first; on start,
queued jobs are resumed, prepared ones go back to the queue, jobs that were
running fail with ``node_restarted`` (their peers have moved on; submit again)
and pending attestations are retried.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx2

from kraken_market.access.custody import KeyCustody
from kraken_market.errors import Conflict, KrakenError, Overloaded, ServiceUnavailable
from kraken_market.ledger.model import PaymentStatus
from kraken_market.logs import get_logger
from kraken_market.smpc import job_auth
from kraken_market.smpc.config import NodeConfig
from kraken_market.smpc.functions.plan import plan
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.node import runner
from kraken_market.smpc.node.attestation import attest
from kraken_market.smpc.node.authorise import ChainView, authorise
from kraken_market.smpc.node.errors import JobConflict, ResultNotReady, ResultWithheld
from kraken_market.smpc.node.forkserver import ForkServer
from kraken_market.smpc.node.jobs import JobRecord, JobRequest, JobStore
from kraken_market.smpc.node.peers import Peers
from kraken_market.smpc.node.ports import PortLeases
from kraken_market.smpc.node.refusal import refund, refundable
from kraken_market.smpc.node.schedule import LeadScheduler
from kraken_market.smpc.node.worker import ProductInput, WorkerJob
from kraken_market.smpc.share_set import NodeSet, checked_share_set
from kraken_market.smpc.storage import ShareStorage, open_storage

log = get_logger(__name__)

STALE_CHECK = 300.0
"""Seconds between re-checks, on chain, of jobs queued here that nobody started (their
payment may have been reclaimed): such a job fails instead of waiting for ever."""


class NodeBusy(Overloaded):
    code = "node_busy"


class JobNotQueued(Conflict):
    code = "job_not_queued"


class PortMismatch(Conflict):
    code = "port_mismatch"


class NodeService:
    def __init__(
        self,
        config: NodeConfig,
        chain: ChainView,
        key: NodeKeyPair,
        *,
        storage: ShareStorage | None = None,
        http: httpx2.Client | None = None,
    ) -> None:
        """``http``: how this node reaches the other nodes (tests pass in-process apps)."""
        self.config, self.chain, self.key = config, chain, key
        self.storage = storage or open_storage(config.storage)
        self.store = JobStore(config.database)
        self._chain_lock = threading.Lock()  # one nonce sequence, one web3 session
        self._buyers: dict[str, str] = {}  # request id -> the buyer's account, from the chain
        self._running: dict[str, runner.Running] = {}
        self._threads: list[threading.Thread] = []
        self._jobs_lock = threading.Lock()  # state moves between queued/starting/running
        base = config.parties[config.index].rpartition(":")[2]
        self.ports = PortLeases(int(base), config.mpc_port_span)
        self.peers = Peers(config.index, chain.account, self._registered, chain.sign, http=http)
        self.scheduler = LeadScheduler(self)
        self.forker = ForkServer(config.python)  # makes each job's MPC process (forkserver)
        self._stale_check = time.monotonic()
        # Key custody (owner-offline batch and stream access): its own SQLite file.
        self.custody = KeyCustody(
            config.data_dir / "custody.sqlite", key, chain, chain_lock=self._chain_lock
        )

    # -- lifecycle ----------------------------------------------------------------------

    def start_service(self) -> None:
        """Resume after a restart and start the scheduler thread."""
        for record in self.store.with_state("starting"):
            self.store.update(record.request_id, state="queued", port=None)
        for record in self.store.with_state("running"):
            if record.commitment is not None and self._result_file(record.request_id).is_file():
                self.store.update(record.request_id, state="delivered")  # attested below
                continue
            self.fail(
                record.request_id,
                "node_restarted",
                "the node restarted during the computation; submit the job again",
            )
        pending = [
            r.request_id
            for r in self.store.with_state("delivered")
            if (r.attestation or "").startswith(("pending", "failed"))
        ]
        self.forker.pid  # noqa: B018 - started now (its imports), not on the first job
        thread = threading.Thread(target=self.scheduler.run, name="scheduler", daemon=True)
        thread.start()
        self._threads.append(thread)
        if pending:
            threading.Thread(target=self._attest_all, args=(pending,), daemon=True).start()

    def close(self) -> None:
        self.scheduler.stop()
        for running in list(self._running.values()):
            runner.stop(running)
        for thread in self._threads:
            thread.join(10)
        self.forker.close()
        self.store.close()
        self.custody.close()

    @property
    def lead(self) -> bool:
        """Node 0 starts every job on all nodes (``schedule``)."""
        return self.config.index == 0

    def _registered(self) -> list[tuple[str, str]]:
        with self._chain_lock:
            return self.chain.registered_nodes()

    def info(self) -> dict[str, Any]:
        return {
            "index": self.config.index,
            "m": self.config.m,
            "t": self.config.threshold,
            "account": self.chain.account,
            "hpke_public_key": self.key.public_key.raw.hex(),
            "min_cohort_floor": self.config.min_cohort_floor,
            "tls": self.config.ssl,
            "load": self.load(),
        }

    def load(self) -> dict[str, Any]:
        """How busy this node is, for a buyer deciding whether to pay now: jobs waiting
        and running, the limits, and (at the lead) the wait a new job would have."""
        waiting = len(self.store.with_state("queued", "starting"))
        running = self.active()
        capacity = self.config.max_concurrent_jobs
        load: dict[str, Any] = {
            "queued": waiting,
            "running": running,
            "max_concurrent_jobs": capacity,
            "max_queued_jobs": self.config.max_queued_jobs,
        }
        if self.lead:
            rounds = (waiting + running) // capacity
            load["estimated_wait_seconds"] = round(rounds * self.scheduler.mean_duration(), 1)
        return load

    def active(self) -> int:
        """Jobs holding a slot here: prepared (a port leased) or running."""
        return len(self.ports.held())

    # -- jobs -----------------------------------------------------------------------------

    def submit(self, request: JobRequest) -> JobRecord:
        """Accept a job after the chain and manifest checks (idempotent per request id;
        a failed job may be submitted again)."""
        data = request.model_dump(mode="json", by_alias=True)
        existing = self.store.find(request.key)
        if existing is not None and existing.request != data:
            raise JobConflict(f"job {request.request_id} exists with other content")
        if existing is not None and existing.state != "failed":
            return existing
        waiting = len(self.store.with_state("queued", "starting"))
        if waiting >= self.config.max_queued_jobs:
            wait = max(1.0, self.scheduler.mean_duration())
            raise NodeBusy(
                f"node {self.config.index} has {waiting} jobs waiting, its limit: "
                f"submit again in {wait:.0f} s (the payment stays held until the deadline)",
                retry_after=wait,
            )
        self._check(request)
        now = time.time()
        record = self.store.put(JobRecord(request.key, data, "queued", now, now))
        self.scheduler.wake()
        return record

    def status(self, request_id: str) -> JobRecord:
        return self.store.get(request_id)

    def public(self, request_id: str) -> dict[str, Any]:
        """The job's status as shown to its buyer (with its place in the queue at the lead)."""
        record = self.store.get(request_id)
        queue = self.scheduler.queue(record.request_id) if self.lead else None
        return record.public(self.config.index, queue)

    # -- starting a job on every node at once (``schedule``) -----------------------------------

    def check_paid(self, request_id: str) -> None:
        """The chain still holds the payment for the job (else the refusal)."""
        self._authorise(JobRequest.model_validate(self.store.get(request_id).request))

    def prepare(self, request_id: str) -> int:
        """Lease this node's MPC port for the job (idempotent); the job is ``starting``."""
        with self._jobs_lock:
            record = self.store.get(request_id)
            if record.state == "starting" and record.port is not None:
                return record.port
            if record.state != "queued":
                raise JobNotQueued(
                    f"job {request_id} is {record.state} at node {self.config.index}",
                    details={"state": record.state, "error": record.error},
                )
            # One more than the lead runs: a node's MPC process may end a moment after
            # the lead's, and the lead must not wait for that.
            limit = self.config.max_concurrent_jobs + (0 if self.lead else 1)
            if self.active() >= limit:
                raise NodeBusy(
                    f"node {self.config.index} runs {self.active()} jobs, its limit",
                    retry_after=max(1.0, self.scheduler.mean_duration()),
                )
            port = self.ports.lease(record.request_id)
            self.store.update(record.request_id, state="starting", port=port)
            return port

    def abandon(self, request_id: str) -> None:
        """Fail a waiting job if the chain refuses it now (asked by the lead, or a job
        that waited long); a chain that does not answer leaves it waiting."""
        try:
            self.check_paid(request_id)
        except ServiceUnavailable:
            return
        except KrakenError as exc:
            with self._jobs_lock:
                record = self.store.find(request_id)
                if record is not None and record.state in ("queued", "starting"):
                    self.fail(request_id, exc.code, exc.message)

    def release(self, request_id: str, *, older_than: float | None = None) -> None:
        """Give the port back: the job waits in the queue again (``older_than``: only
        if it was prepared before that time, not prepared again meanwhile)."""
        with self._jobs_lock:
            record = self.store.find(request_id)
            if older_than is not None and record is not None and record.updated > older_than:
                return
            if record is not None and record.state == "starting":
                self.store.update(record.request_id, state="queued", port=None)
            if record is None or record.state != "running":
                self.ports.release(request_id.lower())
        self.scheduler.wake()

    def expire_leases(self, ttl: float) -> None:
        """Give back ports of jobs prepared ``ttl`` seconds ago and never started (their
        lead died or gave up); re-check on chain jobs queued for long (see STALE_CHECK)."""
        now = time.time()
        for record in self.store.with_state("starting"):
            if now - record.updated > ttl:
                self.release(record.request_id, older_than=now - ttl)
        if time.monotonic() - self._stale_check < STALE_CHECK:
            return
        self._stale_check = time.monotonic()
        for record in self.store.with_state("queued"):
            if now - record.created > STALE_CHECK:
                self.abandon(record.request_id)

    def start(self, request_id: str, ports: list[int]) -> JobRecord:
        """Run the prepared job with every node's port (from the lead)."""
        with self._jobs_lock:
            record = self.store.get(request_id)
            if record.state == "running":
                return record
            if record.state != "starting" or record.port is None:
                raise JobNotQueued(
                    f"job {request_id} is {record.state} at node {self.config.index}, not prepared",
                    details={"state": record.state},
                )
            if len(ports) != self.config.m or ports[self.config.index] != record.port:
                raise PortMismatch(
                    f"the start names ports {ports} for {self.config.m} nodes; node "
                    f"{self.config.index} leased {record.port}"
                )
            record = self.store.update(record.request_id, state="running")
        thread = threading.Thread(
            target=self._execute, args=(record.request_id, list(ports)), daemon=True
        )
        thread.start()
        return record

    def require_buyer(self, request_id: str, signature: str | None, signed_at: str | None) -> None:
        """Refuse to show a job to anyone but its buyer (``smpc.job_auth``): the account
        that signed must be the one the chain records as having paid for it."""
        self.store.get(request_id)  # job_not_found first: nothing to show anyway
        signer = job_auth.signer_of(signature, signed_at, request_id, self.chain.account)
        buyer = self._buyers.get(request_id)
        if buyer is None:
            with self._chain_lock:
                record = self.chain.computation(request_id)
            buyer = "" if record is None else str(record.buyer)
            self._buyers[request_id] = buyer
        if signer.lower() != buyer.lower():
            raise job_auth.NotJobBuyer(
                f"job {request_id} is shown to its buyer only, not to {signer}",
                details={"request_id": request_id},
            )

    def result(self, request_id: str) -> bytes:
        """The encrypted result file, once this node's delivery is attested on chain (or
        the payment was paid out on the others' attestations): a computation that was
        refunded or reclaimed meanwhile gives no result away."""
        record = self.store.get(request_id)
        if record.state != "delivered":
            raise ResultNotReady(f"job {request_id} is {record.state}, not delivered")
        if record.attestation == "pending":
            raise ResultNotReady(f"job {request_id} is delivered, its attestation pending")
        if record.attestation not in ("attested", "not_needed") and not self._paid_out(
            record.request_id
        ):
            raise ResultWithheld(
                f"job {request_id} was computed but its payment was not paid out "
                f"(attestation: {record.attestation}): no result is served for it",
                details={"attestation": record.attestation},
            )
        return self._result_file(record.request_id).read_bytes()

    def _paid_out(self, request_id: str) -> bool:
        """Whether the chain paid the computation out on the other nodes' attestations
        (this node's own attestation failed, e.g. the chain did not answer): the buyer
        paid for a delivered result, so it is served. A refunded or reclaimed one is not."""
        try:
            with self._chain_lock:
                paid = self.chain.computation(request_id)
        except ServiceUnavailable:
            return False  # ask again later: the buyer's client retries another node
        if paid is None or paid.status != PaymentStatus.PAID:
            return False
        self.store.update(request_id, attestation="not_needed")
        return True

    def _result_file(self, request_id: str) -> Path:
        return self.config.results_dir / f"{request_id}.kres"

    def _authorise(self, request: JobRequest) -> None:
        with self._chain_lock:
            authorise(
                self.chain,
                request.request_id,
                request.computation,
                [p.product_id for p in request.products],
                bytes.fromhex(request.result_public_key),
                min_cohort_floor=self.config.min_cohort_floor,
            )

    def _check(self, request: JobRequest) -> None:
        """The chain's checks, then the products' inputs: a paid job whose manifest or
        share file is missing or invalid is refused on chain (the buyer is refunded at
        once, ``details.refund`` says how) before the refusal is answered."""
        self._authorise(request)
        try:
            shapes = [self._inputs(product) for product in request.products]
        except KrakenError as exc:
            if refundable(exc.code):
                self._with_refund(exc, self._refund(request.request_id, exc.code))
            raise
        plan(request.computation, shapes)

    def _inputs(self, product: ProductInput) -> tuple[Any, ...]:
        """The product's columns, schema and rows from its signed manifest, which must
        list a share file for this node, encrypted to its key, present in storage."""
        me = NodeSet(
            self.config.m,
            self.config.threshold,
            {self.config.index: self.key.public_key.fingerprint},
        )
        manifest = checked_share_set(
            self.storage, product.manifest, product.owner, product.product_id, me
        )
        return (manifest.columns, manifest.schema, manifest.rows)

    def _refund(self, request_id: str, code: str) -> dict[str, Any]:
        outcome = refund(self.chain, self._chain_lock, request_id, code)
        log.warning("job_refused_on_chain", request_id=request_id, code=code, refund=outcome)
        return outcome

    @staticmethod
    def _with_refund(exc: KrakenError, outcome: dict[str, Any]) -> None:
        details = exc.details if isinstance(exc.details, dict) else {"detail": exc.details}
        exc.details = {**details, "refund": outcome}

    def _execute(self, request_id: str, ports: list[int]) -> None:
        try:
            self._run(request_id, ports)
        except Exception as exc:  # never lose a job silently
            self.fail(request_id, "node_error", f"{type(exc).__name__}: {exc}"[:300])
        finally:
            self.ports.release(request_id)
            self.scheduler.wake()

    def _run(self, request_id: str, ports: list[int]) -> None:
        request = JobRequest.model_validate(self.store.get(request_id).request)
        try:
            self._authorise(request)  # the payment may have been reclaimed meanwhile
        except KrakenError as exc:
            self.fail(request_id, exc.code, exc.message)
            return
        started = time.monotonic()
        outcome = self._compute(request, ports)
        self.scheduler.finished(time.monotonic() - started)
        if "error" in outcome:
            code, message = outcome["error"]["code"], outcome["error"]["message"]
            paid_back = self._refund(request_id, code) if refundable(code) else None
            self.fail(request_id, code, message, refund=paid_back)
            return
        result = outcome["results"][0]
        self.config.results_dir.mkdir(parents=True, exist_ok=True)
        work = self.config.jobs_dir / request_id
        (work / result["file"]).replace(self._result_file(request_id))
        shutil.rmtree(work, ignore_errors=True)
        timings = {
            **outcome.get("timings", {}),
            "compute": result["seconds"],
            "comparisons": result["comparisons"],
        }
        self.store.update(
            request_id,
            suppressed=result["suppressed"],
            commitment=result["commitment"],
            attestation="pending",
            timings=timings,
        )
        self.ports.release(request_id)  # the slot is free; attesting is chain I/O only
        self.scheduler.wake()
        self._attest(request_id)  # "delivered" once the commitment is on chain (or tried)
        self.store.update(request_id, state="delivered")

    def _compute(self, request: JobRequest, ports: list[int]) -> dict[str, Any]:
        config = self.config
        job = WorkerJob(
            request_id=request.key,
            node_index=config.index,
            m=config.m,
            t=config.threshold,
            storage=str(config.storage),
            key_file=str(config.hpke_key_file),
            products=request.products,
            computations=[request.computation],
            result_key=request.result_public_key,
            out_dir=str(config.jobs_dir / request.key),
            join_timeout=config.join_timeout,
            node_pid=self.forker.pid,  # the worker's parent: it ends with it
        )
        parties = runner.party_addresses(config.parties, ports)
        running = runner.launch(
            job,
            parties,
            forker=self.forker,
            cwd=config.mpc_dir,
            ssl=config.ssl,
            timeout=config.job_timeout,
            python=config.python,
        )
        self._running[request.key] = running
        try:
            return runner.wait(running)
        finally:
            self._running.pop(request.key, None)

    def fail(
        self, request_id: str, code: str, message: str, *, refund: dict[str, Any] | None = None
    ) -> None:
        """The job failed; ``refund``: how the buyer was paid back (``refusal``)."""
        shutil.rmtree(self.config.jobs_dir / request_id, ignore_errors=True)
        self.ports.release(request_id.lower())
        self.store.update(
            request_id,
            state="failed",
            error={"code": code, "message": message},
            port=None,
            refund=refund,
        )

    def _attest_all(self, request_ids: list[str]) -> None:
        for request_id in request_ids:
            self._attest(request_id)

    def _attest(self, request_id: str) -> None:
        record = self.store.get(request_id)
        assert record.commitment is not None
        state, tx = attest(self.chain, self._chain_lock, request_id, record.commitment)
        self.store.update(request_id, attestation=state, attest_tx=tx)
