"""Refusals of sign-in with OpenID for Verifiable Presentations (``identity.signin``)::

    KrakenError
    ├── InvalidRequest
    │   ├── StateMismatch             400 state_mismatch (the response names another state)
    │   ├── RequestExpired            400 request_expired
    │   ├── RequestAnswered           400 request_answered (a replay, or a second answer)
    │   ├── NonceMismatch             400 nonce_mismatch (a presentation for another request)
    │   ├── VpTokenInvalid            400 vp_token_invalid (not DCQL-shaped, or missing a
    │   │                                                  required credential)
    │   ├── ResponseCodeMismatch      400 response_code_mismatch (same-device result
    │   │                                                  without the wallet's code)
    │   └── RequestObjectInvalid      422 request_object_invalid (the wallet's side: a
    │                                                  request it will not answer)
    ├── NotFound
    │   ├── RequestUnknown            404 request_unknown
    │   └── TransactionUnknown        404 transaction_unknown
    ├── ResponseMediaType             415 unsupported_media_type (neither form nor JSON)
    ├── RequestClosed                 410 request_closed (the Request Object of an expired or
    │                                                  answered request; details.reason)
    ├── Conflict
    │   └── ResultRedeemed            409 result_redeemed (the session was handed out once)
    └── ServiceUnavailable
        └── SigninKeyMissing          503 signin_key_missing (production without its key)

Credential refusals keep the codes of ``identity.errors`` (``wrong_audience``,
``holder_mismatch``, ``credential_revoked``...), as for ``POST /auth/login``.
"""

from __future__ import annotations

from kraken_market.errors import (
    Conflict,
    InvalidRequest,
    KrakenError,
    NotFound,
    ServiceUnavailable,
)


class StateMismatch(InvalidRequest):
    code = "state_mismatch"
    status = 400


class RequestExpired(InvalidRequest):
    code = "request_expired"
    status = 400


class RequestAnswered(InvalidRequest):
    code = "request_answered"
    status = 400


class NonceMismatch(InvalidRequest):
    code = "nonce_mismatch"
    status = 400


class VpTokenInvalid(InvalidRequest):
    code = "vp_token_invalid"
    status = 400


class ResponseCodeMismatch(InvalidRequest):
    code = "response_code_mismatch"
    status = 400


class RequestObjectInvalid(InvalidRequest):
    code = "request_object_invalid"


class RequestUnknown(NotFound):
    code = "request_unknown"


class TransactionUnknown(NotFound):
    code = "transaction_unknown"


class RequestClosed(KrakenError):
    code = "request_closed"
    status = 410


class ResultRedeemed(Conflict):
    code = "result_redeemed"


class SigninKeyMissing(ServiceUnavailable):
    code = "signin_key_missing"


class ResponseMediaType(KrakenError):
    """An Authorization Response neither form-encoded (OpenID4VP §8.2) nor JSON."""

    code = "unsupported_media_type"
    status = 415
