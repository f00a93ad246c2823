"""The buyer's SDK for computations: pay, submit to the nodes, follow, fetch, recombine.

::

    key = NodeKeyPair.generate()                       # the result key (X25519)
    request_id = request_computation(ledger, spec, items, purpose, key.public_key)
    nodes = AnalyticsClient(["http://node0:8800", ...])
    nodes.submit(JobRequest(request_id=..., computation=spec, products=[...],
                            result_public_key=key.public_key.raw.hex()))
    nodes.wait(request_id, t=1)
    result = nodes.result(request_id, spec, key, t=1, chain=LedgerChain(ledger))
    result.table                                       # a pandas DataFrame (None: suppressed)

The HTTP client is injected (``http=``), so tests pass the nodes' in-process
apps. Each node's encrypted result file is checked against the commitment that
node attested on chain (SHA-256 of the file) before it is used: a modified file
is refused, naming the node. Any t + 1 attested shares recombine.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import httpx2

from kraken_market.client import PUSHBACK_RETRIES, error_fields, retry_after
from kraken_market.errors import KrakenError, ServiceUnavailable
from kraken_market.ledger.client import Ledger
from kraken_market.smpc import job_auth
from kraken_market.smpc.buyer import ComputationResult, combine_results
from kraken_market.smpc.errors import ResultSharesInvalid
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair, NodePublicKey
from kraken_market.smpc.node.jobs import JobRequest
from kraken_market.smpc.results import commitment, open_result

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

ZERO = b"\x00" * 32
DONE = ("delivered", "failed")


WITHHELD = ("result_withheld", "result_not_ready")
"""A node that computed but does not serve its share (yet): its attestation did not
reach the chain, or is still pending. The other nodes' shares recombine without it."""


class NodeError(KrakenError):
    """An error answer from a compute node, with its ``code``."""

    def __init__(self, node: int, status: int, code: str, message: str) -> None:
        super().__init__(f"node {node}: {message}", details={"node": node, "code": code})
        self.node, self.status_code, self.node_code = node, status, code

    def roll_up(self) -> str:
        return f"{self.node_code}: {self.message}"


class NodeUnreachable(ServiceUnavailable):
    code = "node_unreachable"


class Attestations(Protocol):
    def attestation(self, request_id: str, node_account: str) -> bytes: ...


def request_computation(
    ledger: Ledger,
    spec: ComputationSpec,
    items: Sequence[str],
    purpose: int,
    result_key: NodePublicKey,
    *,
    request_id: str | None = None,
) -> str:
    """Pay for ``spec`` over ``items`` (products or unions) on chain; the request id."""
    rid = request_id or "0x" + secrets.token_hex(32)
    key_hash = hashlib.sha256(result_key.raw).digest()
    ledger.request_computation(rid, spec.digest(), list(items), purpose, key_hash)
    return rid


class AnalyticsClient:
    def __init__(
        self,
        endpoints: Sequence[str],
        *,
        buyer: LocalAccount | None = None,
        node_accounts: Mapping[str, str] | None = None,
        http: httpx2.Client | None = None,
        timeout: float = 30,
    ) -> None:
        """``buyer``: the account that paid; a node shows a job's status and result to
        it alone (``smpc.job_auth``), so reading them needs it. ``node_accounts``:
        each endpoint's account as the chain registers it, so that the buyer's
        signature names the node the chain knows, not whatever a node says it is (a
        node could otherwise ask for a signature valid at another)."""
        self.endpoints = [e.rstrip("/") for e in endpoints]
        self.buyer = buyer
        known = {url.rstrip("/"): account for url, account in (node_accounts or {}).items()}
        self._accounts: dict[int, str] = {
            i: known[url] for i, url in enumerate(self.endpoints) if url in known
        }
        self._owned = http is None
        self.http = http or httpx2.Client(timeout=timeout)

    def close(self) -> None:
        if self._owned:
            self.http.close()

    def __enter__(self) -> AnalyticsClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, node: int, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        for _attempt in range(PUSHBACK_RETRIES):
            try:
                response = self.http.request(method, self.endpoints[node] + path, **kwargs)
            except httpx2.HTTPError as exc:
                where = self.endpoints[node]
                raise NodeUnreachable(f"node {node} at {where} does not answer") from exc
            wait = retry_after(response)
            if wait is None:
                break
            time.sleep(wait)  # the node pushed back (503 node_busy, Retry-After): wait, retry
        if response.status_code >= 400:
            code, message, _ = error_fields(response)
            raise NodeError(node, response.status_code, code, message)
        return response

    def info(self, node: int) -> dict[str, Any]:
        data: dict[str, Any] = self._call(node, "GET", "/node").json()
        self._accounts.setdefault(node, str(data["account"]))
        return data

    def _as_buyer(self, node: int, request_id: str) -> dict[str, str]:
        """Headers proving the buyer asks (none without a buyer: the node then refuses)."""
        if self.buyer is None:
            return {}
        if node not in self._accounts:
            self.info(node)
        return job_auth.sign(self.buyer, request_id, self._accounts[node])

    def job(self, node: int, request_id: str) -> dict[str, Any]:
        """One node's status of the job."""
        headers = self._as_buyer(node, request_id)
        data: dict[str, Any] = self._call(
            node, "GET", f"/jobs/{request_id}", headers=headers
        ).json()
        return data

    def submit(self, request: JobRequest) -> list[dict[str, Any]]:
        """Submit to every node; the first refusal is raised (nodes check the same chain)."""
        body = request.model_dump(mode="json", by_alias=True)
        return [
            self._call(i, "POST", "/jobs", json=body).json() for i in range(len(self.endpoints))
        ]

    def status(self, request_id: str) -> dict[int, dict[str, Any]]:
        return {i: self.job(i, request_id) for i in range(len(self.endpoints))}

    def wait(
        self,
        request_id: str,
        *,
        timeout: float = 900,
        poll: float = 0.5,
        progress: Callable[[dict[int, dict[str, Any]]], None] | None = None,
    ) -> dict[int, dict[str, Any]]:
        """The nodes' statuses once the job is :func:`settled`; ``job_timeout`` if it
        is not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            statuses = self.status(request_id)
            if progress is not None:
                progress(statuses)
            if settled(statuses):
                return statuses
            if time.monotonic() > deadline:
                raise NodeUnreachable(f"the nodes did not finish {request_id} in {timeout:g} s")
            time.sleep(poll)

    def result(
        self,
        request_id: str,
        spec: ComputationSpec,
        key: NodeKeyPair,
        *,
        t: int,
        chain: Attestations | None,
    ) -> ComputationResult:
        """Fetch, verify (commitments on chain), decrypt and recombine the result shares."""
        shares, unverified, missing = {}, [], {}
        for i in range(len(self.endpoints)):
            status = self.job(i, request_id)
            if status["state"] != "delivered":
                error = status.get("error") or {}
                missing[i] = (
                    f"{status['state']}: {error.get('code')} ({error.get('message', '')[:200]})"
                    if error
                    else str(status["state"])
                ) + _refund_note(status.get("refund"))
                continue
            headers = self._as_buyer(i, request_id)
            try:
                sealed = self._call(i, "GET", f"/jobs/{request_id}/result", headers=headers).content
            except NodeError as exc:
                if exc.node_code not in WITHHELD:
                    raise
                missing[i] = f"{exc.node_code}: {exc.message[:200]}"  # t + 1 others will do
                continue
            if chain is not None:
                committed = chain.attestation(request_id, self.info(i)["account"])
                if committed == ZERO:
                    unverified.append(i)
                    continue
                if committed != commitment(sealed):
                    raise ResultSharesInvalid(
                        f"node {i}'s result file does not match the commitment it attested on "
                        "chain: it was modified after delivery",
                        details={"node": i},
                    )
            shares[i] = open_result(sealed, key, request_id.lower(), i)
        if len(shares) < t + 1:
            causes = [f"node {i} {why}" for i, why in missing.items()]
            causes += [f"node {i} delivered but has not attested on chain" for i in unverified]
            raise ResultSharesInvalid(
                f"{len(shares)} verified result shares, t + 1 = {t + 1} needed: "
                + ("; ".join(causes) or "no node delivered"),
                details={"verified": sorted(shares), "not_attested": unverified, "nodes": missing},
            )
        return combine_results(spec, shares, t)


def _refund_note(refund: Mapping[str, Any] | None) -> str:
    """What a node that refused the job did with the payment (``smpc.node.refusal``)."""
    if not refund:
        return ""
    if refund.get("status") == "refunded":
        return f", the buyer refunded at once (tx {refund.get('transaction')})"
    return f", the payment {refund.get('status')} ({refund.get('reason', '')})"


def settled(statuses: Mapping[int, Mapping[str, Any]]) -> bool:
    """Whether waiting for the nodes is over: every node delivered or failed; or a node
    failed and none runs (the run cannot deliver, since MPC needs every node: a node
    that missed its start still waits in its queue, and a retry runs the job again); or
    a node refused the job and paid the buyer back (nothing will be retried, and the
    other nodes would only wait for the refusing one to join, until their time-out)."""
    states = {s["state"] for s in statuses.values()}
    if states <= set(DONE) or ("failed" in states and "running" not in states):
        return True
    return any(_paid_back(s) for s in statuses.values())


def _paid_back(status: Mapping[str, Any]) -> bool:
    """A node failed the job and the buyer's payment is back (``smpc.node.refusal``)."""
    refund = status.get("refund") or {}
    return status["state"] == "failed" and refund.get("status") in ("refunded", "reclaimed")
