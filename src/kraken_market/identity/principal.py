"""Who is calling, as every route and service sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

from kraken_market.types import AccountRef

ADMIN = "admin"
ARBITER = "arbiter"
PLATFORM_ROLES = frozenset({ADMIN, ARBITER})
ACTIONS = ("buy", "manage", "publish")
"""What an attorney credential's scope names (schemas/AttorneyCredential.json)."""


@dataclass(frozen=True)
class Principal:
    """The party a request acts for.

    ``account`` is what owner checks and history entries refer to: the company's
    DID when a person acts for a company (with an attorney credential), else the
    person's own DID. ``did`` is always the natural person who signed in.
    ``roles`` are platform roles proven by ``PlatformRoleCredential``s.
    """

    account: AccountRef
    name: str
    did: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    company: str | None = None
    session: str | None = None
    scope: frozenset[str] = field(default_factory=frozenset)
    """What the attorney credential allows for ``company``: publish, buy, manage."""

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def may(self, action: str) -> bool:
        """Whether this principal may ``action`` (publish, buy, manage) as ``account``:
        always for oneself, for a company only within the attorney credential's scope."""
        return self.company is None or action in self.scope

    def allowed(self) -> list[str]:
        """The actions this principal may take as ``account``: all for oneself."""
        return [action for action in ACTIONS if self.may(action)]
