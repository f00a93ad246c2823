"""Why a compute node refuses or fails a job; each ``code`` is part of the public API::

    NotFound (404)
    ├── ComputationUnknown      computation_unknown  (no such request on chain)
    └── JobNotFound             job_not_found        (this node has no such job)
    Forbidden (403)
    ├── RequestMismatch         request_mismatch     (function, products or result key
    │                                                 differ from what was paid for)
    └── GrantMissing            grant_missing        (the buyer has no valid grant)
    PaymentRequired (402)
    └── PaymentNotHeld          payment_not_held     (reclaimed, or never paid)
    Conflict (409)
    ├── ComputationClosed       computation_closed   (already paid out: delivered)
    ├── ComputationExpired      computation_expired  (past its deadline on chain)
    ├── JobConflict             job_conflict         (same request id, other content)
    ├── ResultNotReady          result_not_ready     (not delivered, or its attestation
    │                                                 pending)
    └── ResultWithheld          result_withheld      (computed, but its payment was not
                                                      paid out: refunded or reclaimed)
    InvalidRequest (422)
    └── CohortBelowFloor        cohort_below_floor   (min_cohort under this node's floor)

A job that was accepted and then fails records ``{code, message}`` in its
status instead (``peer_unreachable``, ``peer_lost``, ``job_timeout``,
``worker_crashed``, ``node_restarted``, ``computation_failed`` or the code of a
share-file or manifest check). A refusal that is not the buyer's doing (the
codes of ``smpc.node.refusal.SELLER_FAULTS``) refunds the buyer on chain first:
its answer's ``details.refund`` (at submission) or the job's ``refund`` says how.
"""

from __future__ import annotations

from kraken_market.errors import Conflict, Forbidden, InvalidRequest, KrakenError, NotFound


class ComputationUnknown(NotFound):
    code = "computation_unknown"


class JobNotFound(NotFound):
    code = "job_not_found"


class RequestMismatch(Forbidden):
    code = "request_mismatch"


class GrantMissing(Forbidden):
    code = "grant_missing"


class PaymentRequired(KrakenError):
    code = "payment_required"
    status = 402


class PaymentNotHeld(PaymentRequired):
    code = "payment_not_held"


class ComputationClosed(Conflict):
    code = "computation_closed"


class ComputationExpired(Conflict):
    code = "computation_expired"


class JobConflict(Conflict):
    code = "job_conflict"


class ResultNotReady(Conflict):
    code = "result_not_ready"


class CohortBelowFloor(InvalidRequest):
    code = "cohort_below_floor"


class ResultWithheld(Conflict):
    code = "result_withheld"
