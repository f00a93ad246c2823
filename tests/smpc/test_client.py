"""The buyer's client of the compute nodes (``smpc.client``): when it stops waiting."""

from __future__ import annotations

from typing import Any

import pytest

from kraken_market.smpc.client import settled

PAID_BACK = {"status": "refunded", "transaction": "0x" + "cd" * 32, "node": "0x1", "amount": "1"}
RUNNING = {"state": "running"}


def nodes(*statuses: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return dict(enumerate(statuses))


def test_a_refusal_that_paid_the_buyer_back_ends_the_wait_at_once() -> None:
    """The other nodes would wait for the refusing node to join until their time-out;
    nothing is retried after a refund, so the buyer hears of it at once."""
    refused = {"state": "failed", "error": {"code": "manifest_mismatch"}, "refund": PAID_BACK}
    assert settled(nodes(RUNNING, refused, RUNNING))
    assert settled(nodes(RUNNING, refused | {"refund": {"status": "reclaimed"}}, RUNNING))


@pytest.mark.parametrize(
    "refund", [None, {"status": "not_refunded", "reason": "the chain refused"}]
)
def test_a_failure_without_a_refund_waits_for_the_running_nodes(refund: Any) -> None:
    """Without a refund the job is run again once every node stopped: not before."""
    failed = {"state": "failed", "error": {"code": "peer_lost"}, "refund": refund}
    assert not settled(nodes(RUNNING, failed, RUNNING))
    assert settled(nodes({"state": "queued"}, failed, failed))  # none runs: retry


def test_a_job_delivered_everywhere_or_still_running_everywhere() -> None:
    delivered = {"state": "delivered"}
    assert settled(nodes(delivered, delivered, delivered))
    assert not settled(nodes(delivered, RUNNING, delivered))
