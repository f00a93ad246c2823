"""A computation bought through the marketplace, from payment to the buyer's table.

:func:`compute_via_market` is what ``kraken-market trade compute`` and the SDK
run: a result key kept in the buyer's folder (mode 0600, written before
paying, so a crash never loses the only key that opens a paid result), the job
left with the backend, the payment (once per request id), the wait for the
backend's forward, then the nodes' result shares: each checked against the
commitment its node attested on chain, any t + 1 recombined. If every node
failed the job (a node died mid-way), it is forwarded once more under the same
request id: the payment on chain still covers it. A job the nodes refused ends
with what happened to the money (``trade.refunds``): refunded at once when a node
refused it for a reason that is not the buyer's, else held and reclaimable after
the deadline; resuming such a request says so again, without asking the nodes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import InvalidRequest, ServiceUnavailable
from kraken_market.files import write_private
from kraken_market.ledger.client import Ledger
from kraken_market.ledger.model import PaymentStatus
from kraken_market.smpc.buyer import ComputationResult
from kraken_market.smpc.client import AnalyticsClient, NodeError
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.node.authorise import LedgerChain
from kraken_market.smpc.node.identity import load_hpke
from kraken_market.trade.buy import computation_job, pay_computation, refuse_unpayable
from kraken_market.trade.refunds import ComputationRefused, in_words, refused, returned

REQUEST_ID = re.compile(r"0x[0-9a-fA-F]{64}")
RETRIES = 2
"""How often a failed job is forwarded again (after a node restart a first retry can
meet the failed run's last moments)."""
RETRY_PAUSE = 2.0
NUDGE_SECONDS = 3.0


class NotForwarded(ServiceUnavailable):
    code = "not_forwarded"


def result_key(folder: Path, request_id: str) -> NodeKeyPair:
    """The request's result key: made once, kept (0600, written atomically and synced
    before anything is paid) next to the buyer's jobs."""
    if not REQUEST_ID.fullmatch(request_id):
        raise InvalidRequest(f"{request_id!r} is not a request id: 0x and 64 hex digits")
    path = folder / f"{request_id.lower()}.key"
    if path.is_file():
        return load_hpke(path)
    key = NodeKeyPair.generate()
    write_private(path, key.private_bytes.hex() + "\n")
    return key


def _forwarded(api: MarketClient, request_id: str, timeout: float) -> dict[str, Any]:
    """The backend's job once every node took it; ``ComputationRefused`` (with the
    nodes' answers) if they refused it."""
    deadline = time.monotonic() + timeout
    nudge = time.monotonic() + NUDGE_SECONDS
    while True:
        job = api.computation(request_id)
        if job["state"] == "forwarded":
            return job
        if job["state"] == "awaiting_payment" and time.monotonic() > nudge:
            # paid, but a node did not take it (it was restarting): ask again now rather
            # than wait for the backend's periodic catch-up
            nudge = time.monotonic() + NUDGE_SECONDS
            try:
                api.retry_computation(request_id)
            except ApiError as exc:
                if exc.api_code != "not_paid":  # not indexed yet: keep waiting
                    raise
        if job["state"] == "refused":
            said = in_words(job["nodes"])
            raise ComputationRefused(
                f"the nodes refused {request_id}" + (f": {said}" if said else ""),
                details={"nodes": job["nodes"]},
            )
        if time.monotonic() > deadline:
            raise NotForwarded(
                f"{request_id} is {job['state']} after {timeout:g} s: is the indexer running "
                "('kraken-market up' runs it)?"
            )
        time.sleep(0.2)


def _answers(api: MarketClient, request_id: str) -> Any:
    """The nodes' answers to a job the backend has (their reasons, for a refusal)."""
    try:
        return api.computation(request_id).get("nodes")
    except ApiError:
        return None


def _in_node_order(endpoints: Sequence[str]) -> list[str]:
    """Endpoints sorted by the index each node reports (result shares are per index)."""
    with AnalyticsClient(list(endpoints)) as probe:
        indexes = {endpoint: int(probe.info(i)["index"]) for i, endpoint in enumerate(endpoints)}
    return sorted(endpoints, key=indexes.__getitem__)


def compute_via_market(
    api: MarketClient,
    ledger: Ledger,
    spec: ComputationSpec,
    products: Sequence[str],
    purpose: str,
    request_id: str,
    folder: Path,
    *,
    items: Sequence[str] | None = None,
    timeout: float = 900,
    on_quote: Callable[[dict[str, Any]], None] | None = None,
) -> ComputationResult:
    """Buy ``spec`` over ``products`` under ``request_id`` and return its result.
    ``items`` are what is paid for (default: the products; a Data Union's id pays for
    all its members, whose revenue the chain splits by weight). A request not paid yet
    is quoted first (``on_quote`` sees the quote) and refused, unpaid, if the quote
    names a problem (:class:`trade.buy.QuoteRefused`); a request refunded or reclaimed
    says so (nothing to compute)."""
    gone = returned(ledger, request_id, _answers(api, request_id))
    if gone is not None:  # resuming a request refunded or reclaimed: nothing to compute
        raise gone
    body = spec.model_dump(mode="json", by_alias=True)
    paid = list(items) if items else list(products)
    price = None
    if ledger.computation(request_id) is None:  # not paid yet: nobody pays for a refusal
        union = paid[0] if items else None
        quote = api.quote_computation(body, [] if union else list(products), purpose, union)
        if on_quote is not None:
            on_quote(quote)
        refuse_unpayable(quote)
        price = None if quote["price"] is None else int(quote["price"])
    key = result_key(folder, request_id)
    api.submit_computation(computation_job(request_id, body, products, key.public_key))
    pay_computation(
        api, ledger, request_id, spec.digest(), paid, purpose, key.public_key, max_amount=price
    )
    try:
        job = _forwarded(api, request_id, timeout)
    except ComputationRefused as first:
        if returned(ledger, request_id) is not None:
            raise refused(ledger, request_id, first.details.get("nodes")) from None
        try:  # e.g. refused while a node restarted: ask once more
            api.retry_computation(request_id)
            job = _forwarded(api, request_id, timeout)
        except ComputationRefused as again:
            raise refused(ledger, request_id, again.details.get("nodes")) from None
    endpoints = _in_node_order(list(job["nodes"]))
    registered = {node.endpoint: node.account for node in ledger.nodes()}
    with AnalyticsClient(endpoints, buyer=ledger.account, node_accounts=registered) as nodes:
        t = int(nodes.info(0)["t"])
        for attempt in range(RETRIES + 1):
            try:
                statuses = nodes.wait(request_id, timeout=timeout)
            except NodeError:  # a node lost the job (it was restarting): forward again
                statuses = {}
            if sum(s["state"] == "delivered" for s in statuses.values()) >= t + 1:
                break
            _unless_returned(ledger, request_id, statuses)
            if attempt < RETRIES:  # the job failed (a node died): again, paying nothing
                time.sleep(RETRY_PAUSE * (attempt + 1))
                api.retry_computation(request_id)
                try:
                    _forwarded(api, request_id, timeout)
                except ComputationRefused as exc:
                    raise refused(ledger, request_id, exc.details.get("nodes")) from None
        outcome = nodes.result(request_id, spec, key, t=t, chain=LedgerChain(ledger))
    if outcome.table is not None:
        outcome.table.attrs["labels"] = _labels(api, products)
    return outcome


def _labels(api: MarketClient, products: Sequence[str]) -> dict[str, str]:
    """The seller's own names of the columns (identifier -> label) of the first product:
    a union's members share identifiers; their labels are shown as the first names them."""
    try:
        schema = api.product(products[0]).get("schema") or {}
    except ApiError:
        return {}
    return {c["name"]: c["label"] for c in schema.get("columns", []) if c.get("label")}


def _unless_returned(ledger: Ledger, request_id: str, statuses: dict[int, Any]) -> None:
    """Stop when a node refused the running job and refunded the buyer (a share file
    missing or tampered at one node fails the job everywhere): say so, retry nothing."""
    record = ledger.computation(request_id)
    if record is not None and record.status in (PaymentStatus.REFUNDED, PaymentStatus.RECLAIMED):
        answers = {
            i: {"error": (s.get("error") or {}).get("code"), "refund": s.get("refund")}
            for i, s in statuses.items()
        }
        raise refused(ledger, request_id, answers)
