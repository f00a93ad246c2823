"""Identity errors: each way a DID, credential, presentation or session can fail
has its own stable code, so a wallet can tell its user exactly what to fix::

    KrakenError
    ├── InvalidRequest
    │   └── InvalidDid                    422 invalid_did
    ├── NotFound
    │   └── SessionNotFound               404 session_not_found (not one of yours)
    ├── Unauthenticated (401)
    │   ├── MalformedToken                    malformed_token
    │   ├── TokenTooLarge                     token_too_large
    │   ├── UnsupportedAlgorithm              unsupported_algorithm (none, HMAC, RSA...)
    │   ├── InvalidSignature                  invalid_signature
    │   ├── CredentialExpired                 credential_expired
    │   ├── CredentialNotYetValid             credential_not_yet_valid
    │   ├── PresentationExpired               presentation_expired
    │   ├── CredentialInvalid                 credential_invalid (schema, type, shape)
    │   ├── CredentialRevoked                 credential_revoked
    │   ├── CredentialMissing                 credential_missing (no PersonCredential...)
    │   ├── UntrustedIssuer                   untrusted_issuer
    │   ├── HolderMismatch                    holder_mismatch
    │   ├── WrongAudience                     wrong_audience
    │   ├── NonceUnknown                      nonce_unknown (never issued, or expired)
    │   ├── NonceReused                       nonce_reused
    │   ├── SessionInvalid                    session_invalid (expired, logged out, unknown)
    │   └── SessionEnded                      session_ended (a credential behind it was
    │                                         revoked or expired; details.reason says which)
    ├── Forbidden (403)
    │   ├── CsrfHeaderMissing                 csrf_header_missing (cookie session, unsafe
    │                                         method, no X-Kraken-CSRF header)
    │   ├── CompanyNotIdentified              company_not_identified
    │   ├── RoleRequired                      role_required
    │   └── ScopeRequired                     scope_required (beyond an attorney's scope)
    └── ServiceUnavailable (503)
        ├── DidUnavailable                    did_unavailable (did:web fetch failed)
        └── StatusUnavailable                 status_unavailable (fail closed)
"""

from __future__ import annotations

from kraken_market.errors import (
    Forbidden,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
)


class InvalidDid(InvalidRequest):
    code = "invalid_did"


class MalformedToken(Unauthenticated):
    code = "malformed_token"


class TokenTooLarge(Unauthenticated):
    code = "token_too_large"


class UnsupportedAlgorithm(Unauthenticated):
    code = "unsupported_algorithm"


class InvalidSignature(Unauthenticated):
    code = "invalid_signature"


class CredentialExpired(Unauthenticated):
    code = "credential_expired"


class CredentialNotYetValid(Unauthenticated):
    code = "credential_not_yet_valid"


class PresentationExpired(Unauthenticated):
    code = "presentation_expired"


class CredentialInvalid(Unauthenticated):
    code = "credential_invalid"


class CredentialRevoked(Unauthenticated):
    code = "credential_revoked"


class CredentialMissing(Unauthenticated):
    code = "credential_missing"


class UntrustedIssuer(Unauthenticated):
    code = "untrusted_issuer"


class HolderMismatch(Unauthenticated):
    code = "holder_mismatch"


class WrongAudience(Unauthenticated):
    code = "wrong_audience"


class NonceUnknown(Unauthenticated):
    code = "nonce_unknown"


class NonceReused(Unauthenticated):
    code = "nonce_reused"


class SessionInvalid(Unauthenticated):
    code = "session_invalid"


class SessionEnded(Unauthenticated):
    """The marketplace ended the session itself: a credential behind it was revoked or
    expired (``details.reason`` is that refusal's code), so the page can say why."""

    code = "session_ended"


class CsrfHeaderMissing(Forbidden):
    """A cookie-authenticated write without ``X-Kraken-CSRF: 1``: a page of another
    origin cannot add that header without a CORS preflight, which only the configured
    origins pass, so its absence marks a cross-site request forgery (OWASP CSRF
    Prevention Cheat Sheet, "custom request headers")."""

    code = "csrf_header_missing"


class CompanyNotIdentified(Forbidden):
    code = "company_not_identified"


class RoleRequired(Forbidden):
    code = "role_required"


class ScopeRequired(Forbidden):
    code = "scope_required"


class DidUnavailable(ServiceUnavailable):
    code = "did_unavailable"


class StatusUnavailable(ServiceUnavailable):
    code = "status_unavailable"


class SessionNotFound(NotFound):
    code = "session_not_found"
