"""The lead node starts jobs together on every node, so no node waits for a busy peer.

MPyC needs every party connected before a computation starts. When each node
started jobs on its own, a node could hold one of its few slots for a job whose
peers were busy with other jobs, for up to ``join_timeout`` (head-of-line
blocking; under load, jobs failed with ``peer_unreachable``). Here node 0 (the
*lead*) decides for the deployment, in the order it received the jobs:

1. it takes the first queued job it is not waiting on, while it runs fewer than
   ``max_concurrent_jobs``; it re-checks the payment on chain (a job whose
   payment was reclaimed fails at once, and the lead tells the others to drop it
   too; a chain that does not answer only delays the job);
2. *prepare*: it leases its own MPC port and asks every other node to lease
   one (``POST /jobs/{id}/prepare``, signed: ``smpc.node.peers``); a node
   that does not have the job yet, is at its own limit or does not answer
   makes the lead give back every lease and try that job again later
   (0.5 s, doubling to 5 s), and the next one meanwhile;
3. *start*: it sends every node the full list of ports
   (``POST /jobs/{id}/start``) and starts its own MPC process.

Each node checks the chain again before its MPC process starts, and gives back
a lease that no start followed within ``START_TTL`` seconds (the lead died). Every job waits
only for running jobs, never for a peer, so a job's place in the lead's queue
and the lead's recent job durations give the buyer an honest estimate
(``queue`` in the lead's job status). Runs in the compute node (node 0's
scheduler thread).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from kraken_market.errors import KrakenError, ServiceUnavailable
from kraken_market.logs import get_logger
from kraken_market.smpc.node.peers import PeerRefused, PeerUnavailable

if TYPE_CHECKING:
    from kraken_market.smpc.node.service import NodeService

log = get_logger(__name__)

START_TTL = 20.0
"""Seconds a node keeps a port leased for a prepared job that the lead did not start."""
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 5.0
TICK = 0.5
DEFAULT_DURATION = 10.0
"""Seconds a job is assumed to take before this node has run any."""
FINISHING = "to finish a running job"
"""Why a job waits when a peer is at its limit: the job keeps its turn (no pause)."""


class LeadScheduler:
    def __init__(self, service: NodeService) -> None:
        self.service = service
        self._wake = threading.Condition()
        self._due: dict[str, float] = {}  # request id -> when to try it again
        self._pause: dict[str, float] = {}
        self._waiting: dict[str, str] = {}  # request id -> what it waits for, in words
        self._durations: deque[float] = deque(maxlen=20)
        self._stop = False

    # -- from the service ------------------------------------------------------------------

    def wake(self) -> None:
        with self._wake:
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()

    def finished(self, seconds: float) -> None:
        """A job's MPC process ended after ``seconds`` (for the estimates)."""
        self._durations.append(seconds)
        self.wake()

    def mean_duration(self) -> float:
        durations = list(self._durations)
        return sum(durations) / len(durations) if durations else DEFAULT_DURATION

    def queue(self, request_id: str) -> dict[str, Any] | None:
        """Where a queued job stands: jobs ahead of it, an estimate of the wait, and what
        it waits for when that is not only its turn."""
        queued = [r.request_id for r in self.service.store.with_state("queued")]
        if request_id not in queued:
            return None
        ahead = queued.index(request_id)
        capacity = self.service.config.max_concurrent_jobs
        busy = self.service.active()
        rounds = (ahead + busy) // capacity
        return {
            "position": ahead + 1,
            "ahead": ahead,
            "running": busy,
            "estimated_wait_seconds": round(rounds * self.mean_duration(), 1),
            "waiting_for": self._waiting.get(request_id),
        }

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        while True:
            with self._wake:
                if self._stop:
                    return
                self._wake.wait(TICK)
                if self._stop:
                    return
            try:
                self.service.expire_leases(START_TTL)
                if self.service.lead:  # the other nodes only answer the lead's calls
                    self.schedule()
            except Exception as exc:  # the scheduler must outlive any one failure
                log.error("scheduler_failed", error=f"{type(exc).__name__}: {exc}"[:300])

    def schedule(self) -> None:
        """Start queued jobs, in order, while this node has room."""
        capacity = self.service.config.max_concurrent_jobs
        for record in self.service.store.with_state("queued"):
            if self.service.active() >= capacity:
                return
            rid = record.request_id
            if self._due.get(rid, 0.0) > time.monotonic():
                continue
            reason = self._try(rid)
            if reason is None:
                for table in (self._due, self._pause, self._waiting):
                    table.pop(rid, None)
                continue
            if reason.endswith(FINISHING):  # a peer still ends a job: its turn stays
                self._waiting[rid] = reason
                return
            pause = min(self._pause.get(rid, FIRST_PAUSE / 2) * 2, LONGEST_PAUSE)
            self._pause[rid], self._due[rid] = pause, time.monotonic() + pause
            self._waiting[rid] = reason

    def _try(self, rid: str) -> str | None:
        """Start ``rid`` on every node; None, or why not yet (in words)."""
        service = self.service
        try:
            service.check_paid(rid)
        except ServiceUnavailable as exc:  # the chain does not answer: not the job's fault
            return f"the chain to answer ({exc.code})"
        except KrakenError as exc:  # the chain refuses it (reclaimed, expired, ...)
            service.fail(rid, exc.code, exc.message)
            self._abandon(rid)
            return None
        peers = service.peers.others()
        missing = set(range(service.config.m)) - {p.index for p in peers} - {service.config.index}
        if missing:
            return f"node {', '.join(map(str, sorted(missing)))} to answer"
        try:
            ports = {service.config.index: service.prepare(rid)}
        except KrakenError as exc:  # no free port here, or the job moved meanwhile
            return exc.message
        prepared = []
        try:
            for peer in peers:
                ports[peer.index] = int(service.peers.call(peer, "prepare", rid)["port"])
                prepared.append(peer)
        except (PeerUnavailable, PeerRefused) as exc:
            for peer in prepared:
                try:
                    service.peers.call(peer, "release", rid)
                except (PeerUnavailable, PeerRefused) as failed:  # it lapses after START_TTL
                    log.warning("release_not_delivered", node=peer.index, error=str(failed))
            service.release(rid)
            return _why(exc)
        order = [ports[i] for i in range(service.config.m)]
        for peer in peers:
            try:
                service.peers.call(peer, "start", rid, {"ports": order})
            except (PeerUnavailable, PeerRefused) as exc:
                # The others start and fail with peer_unreachable after join_timeout;
                # the buyer's retry runs the job again with new ports.
                log.warning("start_not_delivered", request_id=rid, node=peer.index, error=str(exc))
        service.start(rid, order)
        return None

    def _abandon(self, rid: str) -> None:
        """Tell the other nodes the chain refused the job, so that it does not wait in
        their queues until its deadline (each checks the chain itself before it fails it)."""
        for peer in self.service.peers.others():
            try:
                self.service.peers.call(peer, "abandon", rid)
            except (PeerUnavailable, PeerRefused) as exc:  # its stale check catches it later
                log.warning("abandon_not_delivered", node=peer.index, error=str(exc))


def _why(exc: PeerUnavailable | PeerRefused) -> str:
    if isinstance(exc, PeerUnavailable):
        return exc.message
    if exc.peer_code == "job_not_found":
        return f"node {exc.node} to receive the job"
    if exc.peer_code == "node_busy":
        return f"node {exc.node} {FINISHING}"
    if exc.peer_code == "job_not_queued":  # failed there: the buyer's retry re-queues it
        return f"node {exc.node} to receive the job again ({exc.message[:120]})"
    return f"node {exc.node} ({exc.peer_code}: {exc.message[:120]})"
