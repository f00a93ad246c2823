"""Login verification: from a presentation to the identity a session acts as.

The order matters for safety and cost: the presentation's signature,
audience and lifetime first (cheap to refuse, and nothing else is trusted
before), then the nonce is consumed (a replay fails even if every credential
is fine), then each credential (signature by its issuer, schema, validity,
trusted issuer, holder is the subject, status bit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kraken_market.identity import credentials, presentations
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.credentials import VerifiedCredential
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import CredentialInvalid, CredentialMissing, HolderMismatch
from kraken_market.identity.status_check import StatusChecker
from kraken_market.identity.trust import TrustRegistry

REVOCABLE = frozenset({CredentialType.ATTORNEY, CredentialType.PLATFORM_ROLE})
"""Credentials that grant rights must be revocable: without a status entry a leaked
issuer key could mint ones nobody can withdraw short of suspending the issuer."""


@dataclass(frozen=True)
class Identity:
    """Who signed in, proven by credentials: the person, and the company they act for."""

    did: str
    name: str
    roles: frozenset[str] = frozenset()
    buyer_categories: frozenset[str] = frozenset()
    company: str | None = None
    company_scope: frozenset[str] = frozenset()
    credentials: tuple[VerifiedCredential, ...] = field(default=(), repr=False)


def newest(persons: list[VerifiedCredential]) -> VerifiedCredential:
    """The PersonCredential a session stands on when a wallet presents several: the one
    issued last (of equal dates, the one presented last).

    A wallet keeps every credential it was given and presents them all, oldest first,
    so "the first one" would be the oldest forever: a person whose first credential
    named no country stayed without one, whatever they were issued since. The
    newest states what the issuer knows now; claims are never mixed across
    credentials (two could disagree).
    """
    return max(reversed(persons), key=lambda credential: credential.valid_from)


class LoginVerifier:
    def __init__(
        self,
        resolver: DidResolver,
        trust: TrustRegistry,
        status: StatusChecker,
        *,
        audience: str,
        max_bytes: int,
    ) -> None:
        self.resolver = resolver
        self.trust = trust
        self.status = status
        self.audience = audience
        self.max_bytes = max_bytes

    def verify(
        self,
        token: str,
        *,
        now: datetime,
        consume_nonce: Callable[[str], None],
        act_for: str | None = None,
    ) -> Identity:
        """Verify a login presentation; ``act_for`` picks the company among attorney
        credentials (needed only when the holder presents more than one)."""
        presentation = presentations.open_presentation(
            token, self.resolver, audience=self.audience, now=now, max_bytes=self.max_bytes
        )
        consume_nonce(presentation.nonce)
        verified = [
            self.check_credential(t, presentation.holder, now) for t in presentation.credentials
        ]
        return self.identity(presentation.holder, verified, act_for)

    def check_credential(self, token: str, holder: str, now: datetime) -> VerifiedCredential:
        credential = credentials.verify(token, self.resolver, now, self.max_bytes)
        if credential.subject_id != holder:
            raise HolderMismatch(
                f"the {credential.type.value} is about {credential.subject_id}, "
                f"but {holder} presented it",
                details={"subject": credential.subject_id, "holder": holder},
            )
        self.trust.check(credential)
        if credential.type in REVOCABLE and credential.status is None:
            raise CredentialInvalid(
                f"a {credential.type.value} must carry a credentialStatus: the marketplace "
                "accepts only authorisations and roles that their issuer can revoke",
                details={"issuer": credential.issuer},
            )
        self.recheck(credential)
        return credential

    def recheck(self, credential: VerifiedCredential) -> None:
        """Status (and, for attorney credentials, the company's KCIT status) now."""
        if credential.type is CredentialType.ATTORNEY:
            self.trust.check_company(credential.issuer)
        if credential.status is not None:
            self.status.check(credential.status, credential.issuer, credential.type.value)

    def identity(
        self, holder: str, verified: list[VerifiedCredential], act_for: str | None
    ) -> Identity:
        """Who ``holder`` is by the ``verified`` credentials: their newest PersonCredential,
        the attorney credential for ``act_for`` (needed if several), roles, categories."""
        by_type: dict[CredentialType, list[VerifiedCredential]] = {}
        for credential in verified:
            by_type.setdefault(credential.type, []).append(credential)
        persons = by_type.get(CredentialType.PERSON, [])
        if not persons:
            raise CredentialMissing(
                "a login presentation must include a PersonCredential from a trusted issuer"
            )
        attorneys = by_type.get(CredentialType.ATTORNEY, [])
        if act_for is not None:
            attorneys = [c for c in attorneys if c.issuer == act_for]
            if not attorneys:
                raise CredentialMissing(
                    f"to act for {act_for}, present an AttorneyCredential it issued to you",
                    details={"company": act_for},
                )
        elif len(attorneys) > 1:
            raise CredentialMissing(
                "several AttorneyCredentials presented: say which company to act for",
                details={"companies": sorted(c.issuer for c in attorneys)},
            )
        attorney = attorneys[0] if attorneys else None
        person = newest(persons)
        used = [person, *([attorney] if attorney else [])]
        used += by_type.get(CredentialType.PLATFORM_ROLE, [])
        used += by_type.get(CredentialType.BUYER_CATEGORY, [])
        return Identity(
            did=holder,
            name=str(person.subject["name"]),
            roles=frozenset(
                str(c.subject["role"]) for c in by_type.get(CredentialType.PLATFORM_ROLE, [])
            ),
            buyer_categories=frozenset(
                str(c.subject["category"]) for c in by_type.get(CredentialType.BUYER_CATEGORY, [])
            ),
            company=attorney.issuer if attorney else None,
            company_scope=frozenset(attorney.subject["scope"]) if attorney else frozenset(),
            credentials=tuple(used),
        )
