"""Forwarding computation jobs to the compute nodes registered on chain.

The nodes' endpoints are read from the Authority contract (``Ledger.nodes()``:
an admin registered each node's account, HPKE key and endpoint), refreshed
every :data:`NODES_TTL` seconds; web3 is imported on the first forward, not
when the API starts. Each node answers for itself: one node down does not stop
the others, and every answer (state or refusal code, and the refund a node made
when it refused a paid job for a reason the buyer did not cause) is kept for the
buyer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx2

from kraken_market.ledger.configured import ConfiguredLedger
from kraken_market.settings import Settings

NODES_TTL = 30.0
"""Seconds the registered nodes' endpoints are reused before the chain is read again."""
BUSY_TTL = 1.0
"""Seconds the nodes' load is reused before they are asked again."""


def nodes_from_chain(settings: Settings) -> Callable[[], list[str]]:
    """A function listing the registered nodes' endpoints, in registration order."""
    reader = ConfiguredLedger(settings)

    def endpoints() -> list[str]:
        return [node.endpoint.rstrip("/") for node in reader.get().nodes()]

    return endpoints


class NodeForwarder:
    def __init__(
        self,
        endpoints: Callable[[], Sequence[str]],
        *,
        http: httpx2.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._endpoints = endpoints
        self._cached: tuple[float, list[str]] | None = None
        self._busy: tuple[float, tuple[str, float] | None] | None = None
        self._infos: tuple[float, list[dict[str, Any]]] | None = None
        self._lock = threading.Lock()
        self.http = http or httpx2.Client(timeout=timeout)

    def endpoints(self) -> list[str]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > NODES_TTL:
                self._cached = (time.monotonic(), list(self._endpoints()))
            return self._cached[1]

    def forward(self, job: Mapping[str, Any]) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for endpoint in self.endpoints():
            try:
                response = self.http.post(f"{endpoint}/jobs", json=dict(job))
            except httpx2.HTTPError as exc:
                answers[endpoint] = {"error": "node_unreachable", "message": type(exc).__name__}
                continue
            try:
                body = response.json()
            except ValueError:
                body = {}
            if response.is_success:
                answers[endpoint] = {"state": str(body.get("state", "queued"))}
            else:
                answers[endpoint] = {
                    "error": str(body.get("code", "http_error")),
                    "message": str(body.get("message", response.text[:200])),
                }
                details = body.get("details")
                if isinstance(details, dict) and isinstance(details.get("refund"), dict):
                    answers[endpoint]["refund"] = details["refund"]  # the buyer was paid back
        return answers

    def nodes(self) -> list[dict[str, Any]]:
        """Each registered node's description of itself (``GET /node``: index, m, t,
        HPKE public key, min_cohort_floor), for the quote; a node that does not answer
        is left out (``busy`` tells the buyer). Reused for ``NODES_TTL`` seconds."""
        with self._lock:
            if self._infos is not None and time.monotonic() - self._infos[0] < NODES_TTL:
                return self._infos[1]
        infos = []
        for endpoint in self.endpoints():
            try:
                response = self.http.get(f"{endpoint}/node", timeout=3.0)
                response.raise_for_status()
                info = response.json()
                int(info["index"]), int(info["m"]), int(info["t"]), str(info["hpke_public_key"])
            except (httpx2.HTTPError, ValueError, KeyError, TypeError):
                continue
            infos.append(info)
        if len(infos) == len(self.endpoints()):  # a node that did not answer: ask again
            with self._lock:
                self._infos = (time.monotonic(), infos)
        return infos

    def busy(self) -> tuple[str, float] | None:
        """Why the nodes cannot take a new job now, and in how many seconds to ask again
        (None: they can). Asked before the buyer pays (``ComputationService.submit``):
        a node that does not answer or whose queue is full would leave the payment held
        for nothing. Answers are reused for ``BUSY_TTL`` seconds."""
        with self._lock:
            if self._busy is not None and time.monotonic() - self._busy[0] < BUSY_TTL:
                return self._busy[1]
        verdict: tuple[str, float] | None = None
        for endpoint in self.endpoints():
            try:
                response = self.http.get(f"{endpoint}/node", timeout=3.0)
                load = response.json()["load"]
                queued, limit = int(load["queued"]), int(load["max_queued_jobs"])
            except (httpx2.HTTPError, ValueError, KeyError, TypeError):
                verdict = (f"the compute node at {endpoint} does not answer", 5.0)
                break
            if queued >= limit:
                wait = float(load.get("estimated_wait_seconds") or 10.0)
                verdict = (f"the compute node at {endpoint} has {queued} jobs waiting", wait)
                break
        with self._lock:
            self._busy = (time.monotonic(), verdict)
        return verdict
