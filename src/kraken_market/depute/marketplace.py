"""The marketplace as the Depute tool sees it: over HTTP, as any other client.

What it asks: which issuers the marketplace trusts (``/identity/issuers``),
whether a company is identified (``/companies/{did}/identified``), and who
represents it. KCIT shows a company's ``representative_did`` only to admins
and to the representative (it is a natural person's DID), and tells whether a
DID represents a company only to that person or to the company: the tool asks
with a question signed by the company's key (``companies.questions``).
Revocation lists go to the registry with ``PUT /status-lists/{id}``
(the issuer-signed list is its own authorisation).

Transport failures and 5xx answers are :class:`MarketplaceUnavailable`; the
HTTP client is injected so tests could hand in another transport.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx2

from kraken_market.depute.errors import MarketplaceRefused, MarketplaceUnavailable
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver, https_fetch
from kraken_market.identity.keys import DidKey
from kraken_market.identity.status_check import RemoteStatusLists, StatusChecker
from kraken_market.identity.trust import TrustRegistry
from kraken_market.identity.verifier import LoginVerifier

API = "/api/v1"


def _did_path(did: str) -> str:
    return quote(did, safe=":")  # KCIT paths keep ':'; a '%' travels as '%25'


def _error_of(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
        return {"code": body["code"], "message": body["message"], "status": response.status_code}
    except (ValueError, KeyError, TypeError):
        return {
            "code": "http_error",
            "message": response.text[:200],
            "status": response.status_code,
        }


class Marketplace:
    def __init__(
        self, url: str, registry_url: str | None = None, http: httpx2.Client | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.registry_url = (registry_url or url).rstrip("/")
        self.http = http or httpx2.Client(timeout=10.0, follow_redirects=False)
        self.resolver = DidResolver(https_fetch())

    def close(self) -> None:
        self.http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        try:
            response = self.http.request(method, self.url + path, **kwargs)
        except httpx2.HTTPError as exc:
            raise MarketplaceUnavailable(
                f"cannot reach the marketplace at {self.url} ({type(exc).__name__})",
                details={"marketplace": self.url},
            ) from exc
        if response.status_code >= 500:
            raise MarketplaceUnavailable(
                f"the marketplace at {self.url} failed (HTTP {response.status_code})",
                details={"marketplace": self.url, **_error_of(response)},
            )
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        if not response.is_success:
            error = _error_of(response)
            raise MarketplaceRefused(
                f"the marketplace refused {method} {path}: {error['code']}: {error['message']}",
                details=error,
            )
        return response.json()

    def trusted_issuers(self) -> dict[CredentialType, frozenset[str]]:
        issuers = self._json("GET", f"{API}/identity/issuers")["issuers"]
        return {
            CredentialType(name): frozenset(dids)
            for name, dids in issuers.items()
            if name in CredentialType.__members__.values()
        }

    def company_status(self, did: str) -> str | None:
        """``identified``, ``pending``, ``suspended``, or None: unknown to KCIT."""
        answer = self._json("GET", f"{API}/companies/{_did_path(did)}/identified")
        status = answer.get("status")
        return None if status is None else str(status)

    def legal_name(self, did: str) -> str | None:
        response = self._request("GET", f"{API}/companies/{_did_path(did)}")
        return str(response.json()["legal_name"]) if response.is_success else None

    def is_representative(self, company: DidKey, did: str) -> bool:
        """Whether KCIT names ``did`` as the company's representative (yes/no only),
        asked with a question signed by the company's key (``companies.questions``):
        KCIT tells no one else who represents a company."""
        from kraken_market.companies import questions
        from kraken_market.db.base import utcnow

        question = questions.ask(company, did, audience=self.registry_url, now=utcnow())
        answer = self._json(
            "POST",
            f"{API}/companies/{_did_path(company.did)}/representative",
            json={"question": question},
        )
        return answer.get("representative") is True

    def bind_account(self, company: str, jws: str, account_signature: str) -> dict[str, Any]:
        """The company's ledger account, bound to its DID (the signed binding is the
        authorisation); KCIT's public view of the company after it."""
        answer: dict[str, Any] = self._json(
            "PUT",
            f"{API}/companies/{_did_path(company)}/account",
            json={"binding": jws, "account_signature": account_signature},
        )
        return answer

    def publish_list(self, list_url: str, credential: str) -> dict[str, Any]:
        """PUT the issuer-signed status list credential at its registry URL."""
        path = list_url.removeprefix(self.registry_url)
        answer: dict[str, Any] = self._json("PUT", path, json={"credential": credential})
        return answer

    def fetch(self, url: str) -> bytes:
        """A status list for the verifier: the registry's through ``self.url`` (it may
        be reached at another address than the one it names), others over HTTPS."""
        if url.startswith(self.registry_url + "/"):
            response = self._request("GET", url.removeprefix(self.registry_url))
            response.raise_for_status()
            return response.content
        if not url.startswith("https://"):
            raise ValueError(f"status list {url} is neither at the registry nor on HTTPS")
        return https_fetch()(url)

    def verifier(self, audience: str, max_bytes: int) -> LoginVerifier:
        """A login verifier with the marketplace's trust: its trusted issuers, KCIT for
        attorney credentials, status lists read fresh on every check (max age 0)."""
        trust = TrustRegistry(self.trusted_issuers(), self.company_status)
        lists = RemoteStatusLists(self.fetch, self.resolver, max_age=0.0)
        return LoginVerifier(
            self.resolver,
            trust,
            StatusChecker(lists, lists, local_prefix=self.registry_url),
            audience=audience,
            max_bytes=max_bytes,
        )
