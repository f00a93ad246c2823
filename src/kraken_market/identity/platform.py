"""The identity side of one marketplace process, assembled from ``Settings``.

It is the app's :class:`~kraken_market.api.auth.Authenticator`: a bearer token
is a session token from ``POST /api/v1/auth/login``. Collaborators (the
did:web fetcher, the remote status-list fetcher) are constructor arguments, so
tests pass local ones instead of patching.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from kraken_market.companies.service import CompanyService
from kraken_market.db.base import utcnow
from kraken_market.db.engine import write_session
from kraken_market.identity import binding
from kraken_market.identity.binding import Binding
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver, https_fetch
from kraken_market.identity.errors import CredentialExpired, CredentialRevoked
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.models import HostedStatusList
from kraken_market.identity.principal import Principal
from kraken_market.identity.registry import STATUS_PATH, LocalStatusLists, StatusRegistry
from kraken_market.identity.service import AuthService, Lifetimes, principal_of
from kraken_market.identity.signin import SigninService
from kraken_market.identity.signin_client import SigninClient, load_signin_key
from kraken_market.identity.status_check import RemoteStatusLists, StatusChecker
from kraken_market.identity.trust import TrustRegistry
from kraken_market.identity.verifier import LoginVerifier
from kraken_market.settings import Settings

DEMO_ISSUER_TYPES = (
    CredentialType.PERSON,
    CredentialType.PLATFORM_ROLE,
    CredentialType.BUYER_CATEGORY,
    CredentialType.ORGANISATION,
)


def trusted_issuers(
    settings: Settings, demo_issuer: str | None
) -> dict[CredentialType, frozenset[str]]:
    trusted: dict[CredentialType, set[str]] = {}
    for name, dids in settings.identity_trusted_issuers.items():
        trusted.setdefault(CredentialType(name), set()).update(dids)
    if demo_issuer is not None:
        for type_ in DEMO_ISSUER_TYPES:
            trusted.setdefault(type_, set()).add(demo_issuer)
    return {type_: frozenset(dids) for type_, dids in trusted.items()}


class IdentityPlatform:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        *,
        fetch: Callable[[str], bytes] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.base_url = settings.resolved_api_url
        fetch = fetch or https_fetch()
        self.resolver = DidResolver(fetch, cache_seconds=settings.identity_did_web_cache)
        self.demo_issuer = (
            None if settings.environment == "production" else Issuer.open(settings.issuer_dir)
        )
        self.trust = TrustRegistry(
            trusted_issuers(settings, self.demo_issuer.did if self.demo_issuer else None),
            self._company_status,
        )
        self.status = StatusChecker(
            LocalStatusLists(sessions, self.resolver),
            RemoteStatusLists(fetch, self.resolver, settings.identity_status_max_age),
            local_prefix=self.base_url + STATUS_PATH,
        )
        self.verifier = LoginVerifier(
            self.resolver,
            self.trust,
            self.status,
            audience=self.base_url,
            max_bytes=settings.identity_max_token_bytes,
        )
        self.lifetimes = Lifetimes(
            session=timedelta(seconds=settings.identity_session_seconds),
            refresh=timedelta(seconds=settings.identity_refresh_seconds),
            nonce=timedelta(seconds=settings.identity_nonce_seconds),
        )
        self._signin_client: SigninClient | None = None

    def _company_status(self, did: str) -> str | None:
        with self.sessions() as session:
            status = CompanyService(session).status_of(did)
            return None if status is None else status.value

    def auth(self, session: Session) -> AuthService:
        return AuthService(session, self.verifier, self.lifetimes)

    def signin_client(self) -> SigninClient:
        """The marketplace as an OpenID4VP verifier; its key is read (outside production
        made) on first use, so an API that never signs anyone in needs none."""
        if self._signin_client is None:
            key = load_signin_key(
                self.settings.resolved_signin_key_file,
                create=self.settings.environment != "production",
            )
            self._signin_client = SigninClient(
                key,
                self.settings.signin_client_name,
                self.base_url,
                timedelta(seconds=self.settings.identity_signin_seconds),
            )
        return self._signin_client

    def signin(self, session: Session) -> SigninService:
        return SigninService(session, self.signin_client(), self.verifier)

    def verify_binding(self, jws: str, account_signature: str) -> Binding:
        """A DID-account binding signed for this marketplace, now (``identity.binding``)."""
        return binding.verify(
            jws, account_signature, self.resolver, audience=self.base_url, now=utcnow()
        )

    def registry(self, session: Session) -> StatusRegistry:
        return StatusRegistry(session, self.resolver, self.base_url, self.trust.vouched)

    def publish_demo_list(self) -> None:
        """Host the demo issuer's list if the registry lacks it (development only)."""
        if self.demo_issuer is None:
            return
        url = self.demo_issuer.status_list_url(self.base_url)
        with write_session(self.sessions) as session:
            registry = self.registry(session)
            list_id = url.rsplit("/", 1)[-1]
            if session.get(HostedStatusList, list_id) is None:
                registry.publish(
                    list_id, self.demo_issuer.status_list_credential(self.base_url), utcnow()
                )
                session.commit()

    def authenticate(self, token: str) -> Principal:
        with self.sessions() as session:
            return principal_of(self.auth(session).authenticate(token))

    def recheck(self, principal: Principal) -> None:
        """Before a sensitive action: every credential behind the session, now. A revoked
        one ends the session (committed even though the action fails)."""
        if principal.session is None:
            return
        try:
            with self.sessions() as session:
                self.auth(session).recheck(principal.session)
        except (CredentialRevoked, CredentialExpired) as exc:
            with write_session(self.sessions) as session:
                self.auth(session).end(principal.session, exc.code)
            raise
