"""The buyer's client of the compute nodes (``smpc.client``): when it stops waiting."""

from __future__ import annotations

from typing import Any

import pytest

from kraken_market.smpc.client import AnalyticsClient, NodeUnreachable

RID = "0x" + "ab" * 32
PAID_BACK = {"status": "refunded", "transaction": "0x" + "cd" * 32, "node": "0x1", "amount": "1"}


def client_seeing(*statuses: dict[str, Any]) -> AnalyticsClient:
    nodes = AnalyticsClient(["http://127.0.0.1:9", "http://127.0.0.1:9", "http://127.0.0.1:9"])
    nodes.status = lambda request_id: dict(enumerate(statuses))  # type: ignore[method-assign]
    return nodes


def test_a_refusal_that_paid_the_buyer_back_ends_the_wait_at_once() -> None:
    """The other nodes would wait for the refusing node to join until their time-out;
    nothing is retried after a refund, so the buyer hears of it at once."""
    refused = {"state": "failed", "error": {"code": "manifest_mismatch"}, "refund": PAID_BACK}
    with client_seeing({"state": "running"}, refused, {"state": "running"}) as nodes:
        statuses = nodes.wait(RID, timeout=0, poll=0)
    assert statuses[1]["refund"] == PAID_BACK


@pytest.mark.parametrize(
    "refund", [None, {"status": "not_refunded", "reason": "the chain refused"}]
)
def test_a_failure_without_a_refund_waits_for_the_running_nodes(refund: Any) -> None:
    """Without a refund the job is run again once every node stopped: not before."""
    failed = {"state": "failed", "error": {"code": "peer_lost"}, "refund": refund}
    nodes = client_seeing({"state": "running"}, failed, {"state": "running"})
    with nodes, pytest.raises(NodeUnreachable):
        nodes.wait(RID, timeout=0, poll=0)
