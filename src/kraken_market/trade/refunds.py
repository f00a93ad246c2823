"""The buyer's side of a refused computation: what happened to the money, and reclaim.

Runs on the buyer's machine (CLI, SDK), reading the chain itself. A held payment
ends in one of three ways (``Market``): paid out on the nodes' attestations,
refunded at once when a compute node refuses the job for a reason the buyer did
not cause (the seller's manifest or share files: ``smpc.node.refusal``), or
reclaimed by the buyer after the deadline. :func:`refused` turns a refusal into
the error a buyer should read (refunded in which transaction, or reclaimable from
when), so that resuming a refused job says what happened instead of asking the
nodes again; :func:`reclaim` takes a held payment back after its deadline, and
says plainly why not otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_typing import HexStr

from kraken_market.errors import Conflict, Forbidden, KrakenError, NotFound
from kraken_market.ledger.client import Ledger, as_bytes32
from kraken_market.ledger.model import ComputationRecord, PaymentStatus


class ComputationRefunded(Conflict):
    """A node refused the job for a reason the buyer did not cause: paid back at once."""

    code = "computation_refunded"


class ComputationRefused(Conflict):
    """The nodes refused the job; the payment is still held (reclaimable after the
    deadline)."""

    code = "computation_refused"


class ComputationNotFound(NotFound):
    """No such computation request on chain (the API's code for an unknown one)."""

    code = "computation_not_found"


class PaymentReclaimed(Conflict):
    code = "payment_reclaimed"


class NothingToReclaim(Conflict):
    code = "nothing_to_reclaim"


class ReclaimNotDue(Conflict):
    code = "reclaim_not_due"


class NotYourRequest(Forbidden):
    code = "not_your_request"


def data(ledger: Ledger, units: int) -> str:
    """An amount for people, in the token's units with its decimals (``2.5 DATA``)."""
    return ledger.token().show(units)


def chain_now(ledger: Ledger) -> int:
    """The time the next block will carry (``Ledger.chain_time``)."""
    return ledger.chain_time()


def when(moment: int, now: int) -> str:
    """``2026-05-01 14:03 UTC (in 41 min)`` (or ``... (passed)``)."""
    at = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")
    left = moment - now
    if left < 0:
        return f"{at} (passed)"
    return f"{at} (in {_duration(left)})"


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


def _transaction(ledger: Ledger, event: str, request_id: str) -> str | None:
    """The transaction of the request's ``event`` (ComputationReclaimed, -Paid)."""
    market = ledger.contracts["Market"]
    logs = ledger.logs(
        {
            "address": market.address,
            "topics": [
                market.events[event]().topic,
                HexStr("0x" + as_bytes32(request_id).hex()),
            ],
        }
    )
    return "0x" + bytes(logs[0]["transactionHash"]).hex() if logs else None


CODE_WORDS = {
    "node_unreachable": "could not be reached",
    "http_error": "answered with an error",
}
"""Node answers whose message is no sentence (a transport failure names its exception)."""


def in_words(nodes: Any) -> str:
    """The nodes' reasons for a person: each distinct answer once, as the node said it,
    with its stable code in brackets and how many nodes gave it (``nodes``: endpoint ->
    answer ``{"error", "message"}``, as the backend forwarded them)."""
    answers = [a for a in (nodes or {}).values() if isinstance(a, dict) and a.get("error")]
    counted: dict[tuple[str, str], int] = {}
    for answer in answers:
        key = (str(answer["error"]), str(answer.get("message") or "").strip())
        counted[key] = counted.get(key, 0) + 1
    parts = []
    for (code, message), count in counted.items():
        if code in CODE_WORDS:
            text = CODE_WORDS[code] + (f" ({message})" if message else "")
        else:
            text = message or code.replace("_", " ")
        who = (
            "every node"
            if count == len(answers) > 1
            else f"{count} nodes"
            if count > 1
            else "a node"
        )
        parts.append(f"{who}: {text} [{code}]")
    return "; ".join(parts)


def refunded(
    ledger: Ledger, request_id: str, record: ComputationRecord, nodes: Any = None
) -> ComputationRefunded:
    refusal = ledger.refusal(request_id)
    said = in_words(nodes)
    if refusal is None:
        why = f" ({said})" if said else ""
    else:  # the chain keeps the code; the node's answer, when we have it, the words
        words = said or f"{refusal.reason.replace('_', ' ')} [{refusal.reason}]"
        why = f" ({words}; refused on chain by node {refusal.node})"
    tx = None if refusal is None else refusal.tx_hash
    return ComputationRefunded(
        f"a compute node refused computation {request_id}{why}: the product's shares are "
        f"at fault, not your request; your {data(ledger, record.amount)} came back to your account "
        f"at once (tx {tx}). Nothing to reclaim; buy it again under a new request id once "
        "the product is fixed.",
        details={
            "request_id": request_id,
            "payment": "refunded",
            "amount": str(record.amount),
            "transaction": tx,
            "reason": None if refusal is None else refusal.reason,
            "node": None if refusal is None else refusal.node,
        },
    )


def returned(ledger: Ledger, request_id: str, nodes: Any = None) -> KrakenError | None:
    """The error to show if the request's payment already went back to the buyer
    (refunded or reclaimed), else None (``nodes``: their answers, for the reason)."""
    record = ledger.computation(request_id)
    if record is None:
        return None
    if record.status == PaymentStatus.REFUNDED:
        return refunded(ledger, request_id, record, nodes)
    if record.status == PaymentStatus.RECLAIMED:
        tx = _transaction(ledger, "ComputationReclaimed", request_id)
        return PaymentReclaimed(
            f"you reclaimed the {data(ledger, record.amount)} of computation {request_id} "
            f"(tx {tx}): it is not computed any more; buy it again under a new request id",
            details={"request_id": request_id, "payment": "reclaimed", "transaction": tx},
        )
    return None


def refused(ledger: Ledger, request_id: str, nodes: Any = None) -> KrakenError:
    """What a buyer whose job the nodes refused (``nodes``: their answers) should read:
    refunded at once (with the transaction), or still held and reclaimable from when."""
    gone = returned(ledger, request_id, nodes)
    if gone is not None:
        return gone
    record = ledger.computation(request_id)
    words = in_words(nodes)
    said = f" ({words})" if words else ""
    if record is None or record.status != PaymentStatus.HELD:
        return ComputationRefused(
            f"the nodes refused computation {request_id}{said}",
            details={"nodes": nodes},
        )
    now = chain_now(ledger)
    if now > record.deadline:
        how = f"reclaim them now: kraken-market trade reclaim {request_id}"
    else:
        how = (
            f"reclaim them after {when(record.deadline, now)}: "
            f"kraken-market trade reclaim {request_id}"
        )
    return ComputationRefused(
        f"the nodes refused or could not run computation {request_id}{said}: not for a "
        "fault of the product's shares, so nothing was refunded. Your "
        f"{data(ledger, record.amount)} stay held: if the cause may pass, run it again under the "
        f"same request id (nothing is paid twice); else {how}",
        details={
            "nodes": nodes,
            "payment": "held",
            "amount": str(record.amount),
            "deadline": record.deadline,
        },
    )


@dataclass(frozen=True)
class Reclaimed:
    request_id: str
    amount: int
    transaction: str


def reclaim(ledger: Ledger, request_id: str) -> Reclaimed:
    """Take the held payment of ``request_id`` back (its deadline passed without a
    delivery); every case where there is nothing (yet) to take is said in words."""
    record = ledger.computation(request_id)
    if record is None:
        raise ComputationNotFound(
            f"no computation request {request_id} on chain (check the id, or the chain "
            "and deployment you use)"
        )
    if record.buyer.lower() != ledger.address.lower():
        raise NotYourRequest(
            f"computation {request_id} was paid by {record.buyer}, not by your account "
            f"{ledger.address}: only its buyer may reclaim it (sign with that account)",
            details={"buyer": record.buyer},
        )
    gone = returned(ledger, request_id)
    if gone is not None:
        raise NothingToReclaim(f"nothing to reclaim: {gone.message}", details=gone.details)
    if record.status == PaymentStatus.PAID:
        tx = _transaction(ledger, "ComputationPaid", request_id)
        raise NothingToReclaim(
            f"nothing to reclaim: computation {request_id} was delivered and its "
            f"{data(ledger, record.amount)} paid out to the sellers (tx {tx}); if the result is "
            f"wrong, file a claim: kraken-market trade claim {record.purchase_id} PRODUCT",
            details={"request_id": request_id, "payment": "paid", "transaction": tx},
        )
    now = chain_now(ledger)
    if now <= record.deadline:
        raise ReclaimNotDue(
            f"the {data(ledger, record.amount)} of computation {request_id} are held until "
            f"{when(record.deadline, now)}, while the nodes may still deliver: reclaim "
            "after that",
            details={"deadline": record.deadline, "seconds_left": record.deadline - now + 1},
        )
    receipt = ledger.reclaim(request_id)
    return Reclaimed(request_id, record.amount, receipt.tx_hash)


def payment_line(ledger: Ledger, request_id: str) -> str:
    """Where the request's payment stands, in one line for a person."""
    record = ledger.computation(request_id)
    if record is None:
        return "payment: none on chain for this request id"
    if record.status == PaymentStatus.HELD:
        now = chain_now(ledger)
        return (
            f"payment: {data(ledger, record.amount)} held until the nodes deliver; reclaimable "
            f"after {when(record.deadline, now)}"
        )
    if record.status == PaymentStatus.PAID:
        return f"payment: {data(ledger, record.amount)} paid out on the nodes' attestations"
    gone = returned(ledger, request_id)
    return f"payment: {gone.message}" if gone is not None else f"payment: {record.status.name}"
