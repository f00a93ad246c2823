"""Stream errors; each ``code`` is part of the public API (clients branch on it)::

    InvalidRequest (422)
    └── FrameInvalid                frame_invalid
        ├── FrameMalformed          frame_malformed          (too short, bad magic, field range)
        ├── FrameVersionUnsupported frame_version_unsupported
        ├── FrameWrongProduct       frame_wrong_product      (a frame of another product)
        ├── FrameTampered           frame_tampered           (fails AES-GCM authentication:
        │                                                      header or body changed, or the
        │                                                      key is another epoch's)
        ├── FrameReplayed           frame_replayed           (seq not after the last accepted:
        │                                                      a replay or a reordering)
        └── FrameEpochRegressed     frame_epoch_regressed    (an older epoch after a newer one)
    InvalidRequest (422)
    └── EpochScheduleInvalid        epoch_schedule_invalid
    FrameTooLarge (413)             frame_too_large
    PaymentRequired (402)           payment_required         (smpc.node.errors)
    ├── SubscriptionRequired        subscription_required    (no paid time on chain)
    └── SubscriptionExpired         subscription_expired     (paid time ended; details.paid_until)
    Forbidden (403)
    └── EpochKeyDenied              epoch_key_denied         (the key custody refuses the key)
    NotFound (404)
    └── StreamNotFound              stream_not_found         (nothing published yet on NATS)
    Conflict (409)
    ├── NotAStream                  not_a_stream             (the product's mode is not stream)
    ├── StreamSequenceConflict      stream_sequence_conflict (seq not after the stored last one)
    └── RelayDisabled               stream_relay_disabled    (streams go over NATS here)
    ServiceUnavailable (503)
    └── StreamTransportUnavailable  stream_transport_unavailable

Refusals of the relay reuse other domains' errors where they mean the same:
``product_not_found``/``not_owner``/``product_retired`` (catalog) and
``binding_required`` (trade).
"""

from __future__ import annotations

from kraken_market.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
)
from kraken_market.smpc.node.errors import PaymentRequired

__all__ = [
    "EpochKeyDenied",
    "EpochScheduleInvalid",
    "FrameEpochRegressed",
    "FrameInvalid",
    "FrameMalformed",
    "FrameReplayed",
    "FrameTampered",
    "FrameTooLarge",
    "FrameVersionUnsupported",
    "FrameWrongProduct",
    "NotAStream",
    "PaymentRequired",
    "RelayDisabled",
    "StreamNotFound",
    "StreamSequenceConflict",
    "StreamTransportUnavailable",
    "SubscriptionExpired",
    "SubscriptionRequired",
]


class FrameInvalid(InvalidRequest):
    code = "frame_invalid"


class FrameMalformed(FrameInvalid):
    code = "frame_malformed"


class FrameVersionUnsupported(FrameInvalid):
    code = "frame_version_unsupported"


class FrameWrongProduct(FrameInvalid):
    code = "frame_wrong_product"


class FrameTampered(FrameInvalid):
    code = "frame_tampered"


class FrameReplayed(FrameInvalid):
    code = "frame_replayed"


class FrameEpochRegressed(FrameInvalid):
    code = "frame_epoch_regressed"


class EpochScheduleInvalid(InvalidRequest):
    code = "epoch_schedule_invalid"


class FrameTooLarge(PayloadTooLarge):
    code = "frame_too_large"


class SubscriptionRequired(PaymentRequired):
    code = "subscription_required"


class SubscriptionExpired(PaymentRequired):
    code = "subscription_expired"


class EpochKeyDenied(Forbidden):
    code = "epoch_key_denied"


class StreamNotFound(NotFound):
    code = "stream_not_found"


class NotAStream(Conflict):
    code = "not_a_stream"


class StreamSequenceConflict(Conflict):
    code = "stream_sequence_conflict"


class RelayDisabled(Conflict):
    code = "stream_relay_disabled"


class StreamTransportUnavailable(ServiceUnavailable):
    code = "stream_transport_unavailable"
