"""The nodes' worker run locally (``smpc.local``): which failure it names."""

from __future__ import annotations

from kraken_market.smpc.local import failure

LEFT = {"error": {"code": "peer_lost", "message": "node 1 dropped out of the computation"}}
CAUSE = {"error": {"code": "design_ill_conditioned", "message": "collinear"}}


def test_the_cause_is_named_before_a_peer_that_only_saw_it_leave() -> None:
    assert failure([LEFT, CAUSE, CAUSE]) == (1, CAUSE["error"])
    assert failure([LEFT, LEFT, CAUSE]) == (2, CAUSE["error"])
    assert failure([LEFT, LEFT, {"results": []}]) == (0, LEFT["error"])
    assert failure([{"results": []}] * 3) is None
