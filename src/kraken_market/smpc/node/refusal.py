"""Refunds without waiting: a node refuses on chain a paid job the buyer cannot be blamed for.

A node that cannot run a paid, held job because of what the *seller* gave it (the
signed manifest, the share files), because the data admit no answer within the
function's bound (a regression's features found collinear inside the computation), or
because its own storage is gone calls
``Market.refuse(request_id, reason)``: the held payment goes back to the buyer in
that transaction, instead of after the deadline. It does so only once the chain
checks of ``authorise`` passed (the job is the one paid for, its payment is
held, the buyer holds its grants), so a refusal is always about the inputs, never
about the request. One node's refusal is enough: the others read the payment as
no longer held (``awaiting_delivery``) and drop the job; a node that comes second
finds the computation refunded and records who did it.

Everything else fails the job *without* a refund: what the buyer asked for (an
unknown function or column, a cohort below the node's floor, a grant that lapsed,
another request than the one paid for, a deadline passed) and what may pass by
itself (a node or the chain not answering, a peer lost, a time-out, storage that
does not answer now): a retry may run the job, and after the deadline the buyer
reclaims the payment (``Market.reclaim``).

The contract refuses a refusal once any node attested delivery (every node then
computed: the inputs were fine), and the node serves a result only once its
delivery is attested (``NodeService.result``), so a refusal never comes with a
result.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from kraken_market.ledger.errors import LedgerError, Reverted
from kraken_market.ledger.model import PaymentStatus
from kraken_market.smpc.node.authorise import ChainView

SELLER_FAULTS: dict[str, str] = {
    "manifest_invalid": "the manifest is malformed or not signed by the product's owner",
    "manifest_mismatch": "a share file's hash or size differs from the manifest, or the "
    "shares are for another node set or key",
    "share_set_mismatch": "the share set was made for another number of nodes or threshold",
    "object_not_found": "the manifest or this node's share file is missing from storage",
    "object_name_invalid": "the product's storage link is not a valid object name",
    "bucket_not_found": "the storage bucket of the shares is gone",
    "storage_access_denied": "the node may no longer read the shares' storage",
    "share_file_invalid": "this node's share file is not a share file of the product",
    "envelope_invalid": "this node's share file is not encrypted as the format says",
    "envelope_truncated": "this node's share file is cut short",
    "envelope_misdirected": "this node's share file is sealed for another node or product",
    "envelope_tampered": "this node's share file was modified after it was sealed",
    # Found only inside the computation, and every node finds it alike: the data make
    # the regression's features collinear (or constant), so no answer within the stated
    # bound exists, and a retry would fail the same way. Nobody pays for it.
    "design_ill_conditioned": "the regression's features are collinear or constant in "
    "the data: no answer within the stated accuracy exists",
}
"""Codes that refund the buyer at once, and what each says about the inputs."""


def refundable(code: str) -> bool:
    """Whether a job failed with ``code`` for a reason the buyer did not cause."""
    return code in SELLER_FAULTS


def refund(
    chain: ChainView, lock: threading.Lock, request_id: str, code: str, tries: int = 3
) -> dict[str, Any]:
    """Refuse ``request_id`` on chain for ``code`` (one of :data:`SELLER_FAULTS`) and say
    how the buyer's money came back: ``{"status": "refunded", "transaction", "node",
    "reason", "amount"}`` (by this node or another), ``{"status": "reclaimed"}``, or
    ``{"status": "not_refunded", "reason"}`` (the payment stays held: the buyer may
    reclaim it after the deadline, or a retry refuses again)."""
    reason = "not_tried"
    for attempt in range(tries):
        try:
            with lock:
                tx = chain.refuse(request_id, code)
                record = chain.computation(request_id)
            amount = 0 if record is None else record.amount
            return _refunded(tx, chain.account, code, amount)
        except Reverted as exc:
            reason = exc.reason
        except LedgerError as exc:
            reason = exc.code
        if reason in ("computation_not_held", "delivery_attested", "not_node", "paused"):
            break
        time.sleep(0.2 * (attempt + 1))
    with lock:
        try:
            record = chain.computation(request_id)
            refusal = chain.refusal(request_id)
        except LedgerError:
            record = refusal = None
    if record is not None and record.status == PaymentStatus.REFUNDED and refusal is not None:
        return _refunded(refusal.tx_hash, refusal.node, refusal.reason, record.amount)
    if record is not None and record.status == PaymentStatus.RECLAIMED:
        return {"status": "reclaimed"}
    return {"status": "not_refunded", "reason": reason}


def _refunded(tx: str | None, node: str, code: str, amount: int) -> dict[str, Any]:
    return {
        "status": "refunded",
        "transaction": tx,
        "node": node,
        "reason": code,
        "amount": str(amount),
    }
