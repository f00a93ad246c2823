"""Who is calling: bearer-token authentication behind a replaceable interface.

Routes depend only on ``CurrentPrincipal`` / ``FreshPrincipal`` (``api.deps``).
What turns a bearer token into a :class:`Principal` is the app's
:class:`Authenticator`: in the marketplace, the identity platform, whose
tokens are sessions opened with verifiable presentations
(``identity.platform.IdentityPlatform``); tests may pass their own.
"""

from __future__ import annotations

from typing import Protocol

from kraken_market.identity.principal import Principal


class Authenticator(Protocol):
    def authenticate(self, token: str) -> Principal:
        """The principal behind ``token``; raises ``Unauthenticated`` if there is none."""
        ...

    def recheck(self, principal: Principal) -> None:
        """Before a sensitive action: raise if a credential behind the principal's session
        has been revoked (or its company is no longer identified) since login."""
        ...
