"""Trade errors::

Forbidden (403)
└── NotEligible                 not_eligible (details: the policy rule not met)
Conflict (409)
├── ProductNotForSale           product_not_for_sale (paused, retired, policy expired)
└── BindingRequired             binding_required (no ledger account bound to the DID)
ServiceUnavailable (503)
└── VerifierUnavailable         verifier_unavailable (no verifier key configured)
"""

from __future__ import annotations

from kraken_market.errors import Conflict, Forbidden, ServiceUnavailable


class NotEligible(Forbidden):
    code = "not_eligible"


class ProductNotForSale(Conflict):
    code = "product_not_for_sale"


class BindingRequired(Conflict):
    code = "binding_required"


class OwnProduct(Conflict):
    code = "own_product"


class VerifierUnavailable(ServiceUnavailable):
    code = "verifier_unavailable"
