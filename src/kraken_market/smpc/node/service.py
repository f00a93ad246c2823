"""The compute node's logic (no HTTP): accept jobs, run them, deliver, attest.

``submit`` checks the chain (``authorise``) and the products' signed manifests
(the computation must plan against their columns) before a job is accepted,
so a refusal is immediate and nothing is fetched. Accepted jobs run on
``max_concurrent_jobs`` threads, each supervising one MPC process
(``runner``); jobs whose port slots collide wait for each other. After a
delivery the node attests the result commitment on chain. Every state change is
in the job store first; on start, queued jobs are resumed, jobs that were
running fail with ``node_restarted`` (their peers have moved on; submit again)
and pending attestations are retried.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from kraken_market.access.custody import KeyCustody
from kraken_market.errors import KrakenError
from kraken_market.smpc import job_auth
from kraken_market.smpc.config import NodeConfig
from kraken_market.smpc.errors import ManifestMismatch
from kraken_market.smpc.functions.plan import plan
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.manifest import verify_manifest
from kraken_market.smpc.node import runner
from kraken_market.smpc.node.attestation import attest
from kraken_market.smpc.node.authorise import ChainView, authorise
from kraken_market.smpc.node.errors import JobConflict, ResultNotReady
from kraken_market.smpc.node.jobs import JobRecord, JobRequest, JobStore
from kraken_market.smpc.node.worker import WorkerJob
from kraken_market.smpc.storage import ShareStorage, open_storage


class NodeService:
    def __init__(
        self,
        config: NodeConfig,
        chain: ChainView,
        key: NodeKeyPair,
        *,
        storage: ShareStorage | None = None,
    ) -> None:
        self.config, self.chain, self.key = config, chain, key
        self.storage = storage or open_storage(config.storage)
        self.store = JobStore(config.database)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._chain_lock = threading.Lock()  # one nonce sequence, one web3 session
        self._buyers: dict[str, str] = {}  # request id -> the buyer's account, from the chain
        self._slots: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._running: dict[str, runner.Running] = {}
        self._threads: list[threading.Thread] = []
        # Key custody (owner-offline batch and stream access): its own SQLite file.
        self.custody = KeyCustody(
            config.data_dir / "custody.sqlite", key, chain, chain_lock=self._chain_lock
        )

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        for record in self.store.with_state("running"):
            if record.commitment is not None and self._result_file(record.request_id).is_file():
                self.store.update(record.request_id, state="delivered")  # attested below
                continue
            self._fail(
                record.request_id,
                "node_restarted",
                "the node restarted during the computation; submit the job again",
            )
        for record in self.store.with_state("queued"):
            self._queue.put(record.request_id)
        pending = [
            r.request_id
            for r in self.store.with_state("delivered")
            if (r.attestation or "").startswith(("pending", "failed"))
        ]
        for _ in range(self.config.max_concurrent_jobs):
            thread = threading.Thread(target=self._work, daemon=True)
            thread.start()
            self._threads.append(thread)
        if pending:
            threading.Thread(target=self._attest_all, args=(pending,), daemon=True).start()

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for running in list(self._running.values()):
            runner.stop(running)
        for thread in self._threads:
            thread.join(10)
        self.store.close()
        self.custody.close()

    def info(self) -> dict[str, Any]:
        return {
            "index": self.config.index,
            "m": self.config.m,
            "t": self.config.threshold,
            "account": self.chain.account,
            "hpke_public_key": self.key.public_key.raw.hex(),
            "min_cohort_floor": self.config.min_cohort_floor,
            "tls": self.config.ssl,
        }

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
        self._check(request)
        now = time.time()
        record = self.store.put(JobRecord(request.key, data, "queued", now, now))
        self._queue.put(request.key)
        return record

    def status(self, request_id: str) -> JobRecord:
        return self.store.get(request_id)

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
        record = self.store.get(request_id)
        if record.state != "delivered":
            raise ResultNotReady(f"job {request_id} is {record.state}, not delivered")
        return self._result_file(record.request_id).read_bytes()

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
        self._authorise(request)
        shapes = []
        for product in request.products:
            manifest = verify_manifest(
                self.storage.read(product.manifest), product.owner, product.product_id
            )
            entry = manifest.file_for(self.config.index)
            if (manifest.m, manifest.t) != (self.config.m, self.config.threshold):
                raise ManifestMismatch(f"{product.product_id} is shared for another node set")
            if entry.node_key != self.key.public_key.fingerprint:
                raise ManifestMismatch(f"{product.product_id}'s share file is for another key")
            shapes.append((manifest.columns, manifest.schema, manifest.rows))
        plan(request.computation, shapes)

    def _work(self) -> None:
        while (request_id := self._queue.get()) is not None:
            try:
                self._run(request_id)
            except Exception as exc:  # never lose a job silently
                self._fail(request_id, "node_error", f"{type(exc).__name__}: {exc}"[:300])

    def _run(self, request_id: str) -> None:
        record = self.store.get(request_id)
        if record.state != "queued":
            return
        request = JobRequest.model_validate(record.request)
        slot = runner.job_slot(request_id, self.config.mpc_port_span)
        with self._slots[slot]:
            try:
                self._authorise(request)  # the payment may have been reclaimed meanwhile
            except KrakenError as exc:
                self._fail(request_id, exc.code, exc.message)
                return
            self.store.update(request_id, state="running")
            outcome = self._compute(request, slot)
        if "error" in outcome:
            self._fail(request_id, outcome["error"]["code"], outcome["error"]["message"])
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
        self._attest(request_id)  # "delivered" once the commitment is on chain (or tried)
        self.store.update(request_id, state="delivered")

    def _compute(self, request: JobRequest, slot: int) -> dict[str, Any]:
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
            node_pid=os.getpid(),
        )
        parties = runner.party_addresses(config.parties, slot)
        running = runner.launch(
            job,
            parties,
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

    def _fail(self, request_id: str, code: str, message: str) -> None:
        shutil.rmtree(self.config.jobs_dir / request_id, ignore_errors=True)
        self.store.update(request_id, state="failed", error={"code": code, "message": message})

    def _attest_all(self, request_ids: list[str]) -> None:
        for request_id in request_ids:
            self._attest(request_id)

    def _attest(self, request_id: str) -> None:
        record = self.store.get(request_id)
        assert record.commitment is not None
        state, tx = attest(self.chain, self._chain_lock, request_id, record.commitment)
        self.store.update(request_id, attestation=state, attest_tx=tx)
