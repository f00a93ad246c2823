"""Errors of the Depute tool, each with its own stable code, beside the identity
errors it reuses (``company_not_identified``, ``holder_mismatch``, ``nonce_reused``
...)::

    KrakenError
    ├── Unauthenticated (401)
    │   └── ...identity.errors         (the presentation or its credentials)
    ├── Forbidden (403)
    │   ├── NotRepresentative              not_representative
    │   ├── InvitationNotForYou            invitation_not_for_you
    │   ├── MarketplaceRefused             marketplace_refused (the relayed login)
    │   ├── CrossSiteRequest               cross_site_request (a form posted from elsewhere)
    │   ├── AuthorisationRequired          authorisation_required (no active publish scope)
    │   ├── NotCompanyProduct              not_company_product (the chain desk)
    │   └── CompanyNotIdentified           company_not_identified (identity.errors)
    ├── NotFound (404)
    │   ├── AuthorisationNotFound          authorisation_not_found
    │   └── InvitationNotFound             invitation_not_found
    ├── Conflict (409)
    │   ├── InvitationUsed                 invitation_used
    │   └── DeputeExists                   depute_exists (init twice)
    ├── InvitationExpired (410)            invitation_expired
    └── ServiceUnavailable (503)
        ├── MarketplaceUnavailable         marketplace_unavailable
        └── PublicationPending             publication_pending (the registry is unreachable)
"""

from __future__ import annotations

from kraken_market.errors import Conflict, Forbidden, KrakenError, NotFound, ServiceUnavailable


class NotRepresentative(Forbidden):
    code = "not_representative"


class InvitationNotForYou(Forbidden):
    code = "invitation_not_for_you"


class MarketplaceRefused(Forbidden):
    code = "marketplace_refused"


class CrossSiteRequest(Forbidden):
    code = "cross_site_request"


class AuthorisationRequired(Forbidden):
    code = "authorisation_required"


class NotCompanyProduct(Forbidden):
    code = "not_company_product"


class AuthorisationNotFound(NotFound):
    code = "authorisation_not_found"


class InvitationNotFound(NotFound):
    code = "invitation_not_found"


class InvitationUsed(Conflict):
    code = "invitation_used"


class DeputeExists(Conflict):
    code = "depute_exists"


class InvitationExpired(KrakenError):
    code = "invitation_expired"
    status = 410


class MarketplaceUnavailable(ServiceUnavailable):
    code = "marketplace_unavailable"


class PublicationPending(ServiceUnavailable):
    code = "publication_pending"
