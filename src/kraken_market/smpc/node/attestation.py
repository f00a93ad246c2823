"""A node's attestation of a delivered result on chain (``Market.attest``).

The commitment is SHA-256 of the encrypted result file (``smpc.results``). The
contract pays the held amount out at the ``attestations_required``-th
attestation and refuses later ones (``computation_not_held``): a node that
comes after that records ``not_needed``. Another node's attestation can land
between this node's gas estimate and its transaction and make this one the
payout, which needs more gas: a revert without a contract reason is retried
with a fresh estimate.
"""

from __future__ import annotations

import threading
import time

from kraken_market.ledger.errors import LedgerError, Reverted
from kraken_market.ledger.model import PaymentStatus
from kraken_market.smpc.node.authorise import ChainView

FINAL = ("computation_not_held", "already_attested", "not_node")


def attest(
    chain: ChainView, lock: threading.Lock, request_id: str, commitment: str, tries: int = 3
) -> tuple[str, str | None]:
    """(``attested`` | ``not_needed`` | ``failed: <reason>``, transaction hash or None)."""
    reason = "not_tried"
    for attempt in range(tries):
        try:
            with lock:
                return "attested", chain.attest(request_id, bytes.fromhex(commitment))
        except Reverted as exc:
            reason = exc.reason
        except LedgerError as exc:
            reason = exc.code
        if reason == "computation_not_held":
            with lock:
                current = chain.computation(request_id)
            if current is not None and current.status == PaymentStatus.PAID:
                return "not_needed", None
        if reason in FINAL:
            break
        time.sleep(0.2 * (attempt + 1))
    return f"failed: {reason}", None
