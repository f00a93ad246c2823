"""Forwarding computation jobs to the compute nodes registered on chain.

The nodes' endpoints are read from the Authority contract (``Ledger.nodes()``:
an admin registered each node's account, HPKE key and endpoint), refreshed
every :data:`NODES_TTL` seconds; web3 is imported on the first forward, not
when the API starts. Each node answers for itself: one node down does not stop
the others, and every answer (state or refusal code) is kept for the buyer.
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
        return answers
