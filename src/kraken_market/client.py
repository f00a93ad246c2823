"""The Python SDK: a typed client of the marketplace API.

The HTTP client is injected (``MarketClient(http=...)``), so tests hand in
the app's in-process test client and scripts a configured ``httpx2.Client``.
Every error answer is raised as :class:`ApiError` with the server's stable
``code``; transport failures as :class:`ApiUnreachable`. When the API pushes back
(429 ``rate_limited`` or 503 with ``Retry-After``), a call waits as told and sends
again, a few times, before it gives up with that answer.

A client given a whole login answer (:meth:`MarketClient.use_session`) keeps its
session alive: a session token lasts minutes (``identity_session_seconds``), a
notebook lasts hours, so when the API answers ``session_invalid`` the client
exchanges its refresh token at ``POST /api/v1/auth/refresh`` (as the web apps do
with their cookie) and sends the request again, once. Every request the client sends
with its session renews so: JSON calls, uploads to the API (their bytes read again),
a HEAD for an object's size and a streamed download. The refresh re-checks the
credentials, so a revoked one still ends the session. A refresh token works once,
so threads sharing a client renew one at a time: a thread that finds the session
renewed while it waited sends with the new token instead of refreshing again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import quote

import httpx2

from kraken_market.errors import KrakenError, ServiceUnavailable
from kraken_market.storage.errors import UploadRefused
from kraken_market.storage.transfer import BlockReader, Progress, Source, prepared


class ApiError(KrakenError):
    """An error answer from the API, carrying its ``code``, status and details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.status_code = status
        self.api_code = code

    def roll_up(self) -> str:
        return f"{self.api_code}: {self.message}"


class ApiUnreachable(ServiceUnavailable):
    code = "api_unreachable"


PUSHBACK_RETRIES = 4
"""Sends of one call while the API answers 429/503 with a Retry-After it can wait for."""
MAX_WAIT = 30.0
REFRESH_PATH = "/api/v1/auth/refresh"
ERROR_HEADER = "x-kraken-error"
"""The header in which the API repeats a refusal's code (``api.errors``): a HEAD's
answer has no body."""


def retry_after(response: httpx2.Response) -> float | None:
    """Seconds to wait before sending again, if the API pushed back and said when
    (RFC 9110 §10.2.3, delay-seconds); None: take the answer as it is."""
    if response.status_code not in (429, 503):
        return None
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return seconds if 0 <= seconds <= MAX_WAIT else None


def error_fields(response: httpx2.Response) -> tuple[str, str, Any]:
    """(code, message, details) of an error answer of the API or a node
    (``{"code", "message", "details"}``); ``http_error`` when it is not one."""
    try:
        body = response.json()
        return str(body["code"]), str(body["message"]), body.get("details")
    except (ValueError, KeyError, TypeError):
        return "http_error", response.text[:200], None


class MarketClient:
    def __init__(self, http: httpx2.Client, *, uploads: httpx2.Client | None = None) -> None:
        """``uploads``: the client that sends bytes to presigned storage URLs (never with
        this API's token); made on first use if not given."""
        self.http = http
        self._token: dict[str, Any] | None = None
        self._uploads = uploads
        self._refresh_token: str | None = None
        self._renewing = threading.Lock()

    @classmethod
    def connect(
        cls, base_url: str, token: str | None = None, timeout: float = 30.0
    ) -> MarketClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return cls(httpx2.Client(base_url=base_url, headers=headers, timeout=timeout))

    def use_session(self, session: dict[str, Any]) -> None:
        """Act in ``session`` (the answer of :meth:`login` or :meth:`refresh`): send its
        token, and renew it with its refresh token when it has expired."""
        self.http.headers["Authorization"] = f"Bearer {session['session_token']}"
        self._refresh_token = session.get("refresh_token")

    def close(self) -> None:
        self.http.close()
        if self._uploads is not None:
            self._uploads.close()

    def __enter__(self) -> MarketClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._sent(method, path, **kwargs)
        if response.is_success:
            return response.json() if response.content else None
        raise ApiError(response.status_code, *error_fields(response))

    def _renewable(self, path: str, response: httpx2.Response) -> bool:
        """The session token expired and this client holds a refresh token to renew it."""
        if self._refresh_token is None or path == REFRESH_PATH:
            return False
        if 'error="invalid_token"' in response.headers.get("www-authenticate", ""):
            return True  # RFC 6750 §3.1: the API's word for it, in a HEAD's answer too
        return error_fields(response)[0] == "session_invalid"

    def _renew(self, sent_with: str | None) -> None:
        """Renew the session whose ``Authorization`` was ``sent_with`` and found expired,
        unless another thread renewed it meanwhile (the refresh token works once)."""
        with self._renewing:
            if self.http.headers.get("Authorization") != sent_with:
                return  # renewed by another thread while this one waited
            self.use_session(self.refresh(self._refresh_token or ""))

    def _sent(
        self,
        method: str,
        path: str,
        *,
        body: Callable[[], Iterable[bytes]] | None = None,
        **kwargs: Any,
    ) -> httpx2.Response:
        """``_send``, again while the API pushes back (429/503 with a Retry-After)."""
        for _attempt in range(PUSHBACK_RETRIES):
            response = self._send(method, path, body=body, **kwargs)
            wait = retry_after(response)
            if wait is None:
                break
            time.sleep(wait)  # the API pushed back (429/503 with Retry-After): wait, retry
        return response

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Callable[[], Iterable[bytes]] | None = None,
        **kwargs: Any,
    ) -> httpx2.Response:
        """One request, sent again once with a renewed session when its token expired;
        ``body`` makes the content afresh for each send (a stream is read once)."""
        sent_with = self.http.headers.get("Authorization")
        response = self._transmit(method, path, body, kwargs)
        if response.status_code == 401 and self._renewable(path, response):
            self._renew(sent_with)
            response = self._transmit(method, path, body, kwargs)
        return response

    def _transmit(
        self,
        method: str,
        path: str,
        body: Callable[[], Iterable[bytes]] | None,
        kwargs: dict[str, Any],
    ) -> httpx2.Response:
        if body is not None:
            kwargs = {**kwargs, "content": body()}
        try:
            return self.http.request(method, path, **kwargs)
        except httpx2.HTTPError as exc:
            raise ApiUnreachable(
                f"cannot reach the API at {self.http.base_url} ({type(exc).__name__}); "
                "is it running? start it with 'kraken-market up' or set KRAKEN_API_URL"
            ) from exc

    # products
    def create_product(self, product: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/api/v1/products", json=product)
        return result

    def product(self, product_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/api/v1/products/{product_id}")
        return result

    def update_product(self, product_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PATCH", f"/api/v1/products/{product_id}", json=changes)
        return result

    def retire_product(self, product_id: str, reason: str | None = None) -> dict[str, Any]:
        body = {"reason": reason} if reason else {}
        result: dict[str, Any] = self._call(
            "POST", f"/api/v1/products/{product_id}/retire", json=body
        )
        return result

    def search_products(self, **params: Any) -> dict[str, Any]:
        clean = {k: v for k, v in params.items() if v not in (None, [], ())}
        result: dict[str, Any] = self._call("GET", "/api/v1/products", params=clean)
        return result

    def history(self, product_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/api/v1/products/{product_id}/history")
        return result

    def lineage(self, product_id: str, direction: str = "both", depth: int = 16) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET",
            f"/api/v1/products/{product_id}/lineage",
            params={"direction": direction, "depth": depth},
        )
        return result

    # unions
    def create_union(self, union: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/api/v1/unions", json=union)
        return result

    def union(self, union_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/api/v1/unions/{union_id}")
        return result

    def unions(self, **params: Any) -> dict[str, Any]:
        clean = {k: v for k, v in params.items() if v is not None}
        result: dict[str, Any] = self._call("GET", "/api/v1/unions", params=clean)
        return result

    def consent(self, union_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/api/v1/unions/{union_id}/consent")
        return result

    def reject_union(self, union_id: str) -> None:
        self._call("POST", f"/api/v1/unions/{union_id}/reject")

    # companies (KCIT)
    @staticmethod
    def _company_path(did: str, action: str = "") -> str:
        # ':' may stay as it is in a path segment; '%' (did:web ports) must not.
        return f"/api/v1/companies/{quote(did, safe=':')}" + (f"/{action}" if action else "")

    def create_company(self, company: dict[str, Any]) -> dict[str, Any]:
        """Enter a company (admins), or self-register one you represent (pending)."""
        result: dict[str, Any] = self._call("POST", "/api/v1/companies", json=company)
        return result

    def company(self, did: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", self._company_path(did))
        return result

    def companies(self, **params: Any) -> dict[str, Any]:
        clean = {k: v for k, v in params.items() if v not in (None, [], ())}
        result: dict[str, Any] = self._call("GET", "/api/v1/companies", params=clean)
        return result

    def update_company(self, did: str, changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PATCH", self._company_path(did), json=changes)
        return result

    def approve_company(self, did: str, reason: str | None = None) -> dict[str, Any]:
        body = {"reason": reason} if reason else {}
        result: dict[str, Any] = self._call("POST", self._company_path(did, "approve"), json=body)
        return result

    def suspend_company(self, did: str, reason: str | None = None) -> dict[str, Any]:
        body = {"reason": reason} if reason else {}
        result: dict[str, Any] = self._call("POST", self._company_path(did, "suspend"), json=body)
        return result

    def delete_company(self, did: str, reason: str | None = None) -> None:
        params = {"reason": reason} if reason else {}
        self._call("DELETE", self._company_path(did), params=params)

    def company_audit(self, did: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", self._company_path(did, "audit"))
        return result

    def company_identified(self, did: str) -> dict[str, Any]:
        """``{"did", "identified", "status"}``: is this DID an identified company?"""
        result: dict[str, Any] = self._call("GET", self._company_path(did, "identified"))
        return result

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/api/v1/auth/me")
        return result

    # identity: login sessions, DID-account bindings, the status-list registry
    # ('kraken-market login|logout|whoami', 'wallet bind', 'issuer'; me() is above)
    def challenge(self) -> dict[str, Any]:
        """``{nonce, audience, expires_at}``: what a login presentation must be bound to."""
        result: dict[str, Any] = self._call("POST", "/api/v1/auth/challenge")
        return result

    def login(self, presentation: str, act_for: str | None = None) -> dict[str, Any]:
        """Open a session with a vp+jwt; the answer holds the session and refresh tokens."""
        body = {"presentation": presentation, "act_for": act_for}
        result: dict[str, Any] = self._call("POST", "/api/v1/auth/login", json=body)
        return result

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """A new token pair (a refresh token works once)."""
        body = {"refresh_token": refresh_token}
        result: dict[str, Any] = self._call("POST", REFRESH_PATH, json=body)
        return result

    def logout(self) -> None:
        """End the session of the bearer token this client sends."""
        self._call("POST", "/api/v1/auth/logout")

    def bind(self, binding: str, account_signature: str) -> dict[str, Any]:
        """Record the caller's DID-account binding (``identity.binding``)."""
        body = {"binding": binding, "account_signature": account_signature}
        result: dict[str, Any] = self._call("POST", "/api/v1/identity/bindings", json=body)
        return result

    def binding(self, did: str) -> dict[str, Any]:
        path = f"/api/v1/identity/bindings/{quote(did, safe=':')}"
        result: dict[str, Any] = self._call("GET", path)
        return result

    def publish_status_list(self, list_url: str, credential: str) -> dict[str, Any]:
        """PUT an issuer-signed BitstringStatusListCredential to the registry at its URL."""
        list_id = list_url.rstrip("/").rsplit("/", 1)[-1]
        body = {"credential": credential}
        result: dict[str, Any] = self._call("PUT", f"/api/v1/status-lists/{list_id}", json=body)
        return result

    # ledger
    def token(self) -> dict[str, Any]:
        """The token amounts are counted in: ``address``, ``symbol``, ``decimals`` (asked
        once per client; an ERC-20's decimals never change). Show amounts with
        :class:`kraken_market.ledger.amounts.Token` (``Token.from_json``)."""
        if self._token is None:
            self._token = self._call("GET", "/api/v1/ledger/token")
        return dict(self._token)

    # trade
    def chain_state(self, product_id: str) -> dict[str, Any]:
        """What the chain says about a product (listed, stake, quality status)."""
        result: dict[str, Any] = self._call("GET", f"/api/v1/products/{product_id}/chain")
        return result

    def register_publisher(self, product_id: str) -> dict[str, Any]:
        """Name your bound account as the one this product is published on chain from."""
        path = f"/api/v1/products/{product_id}/publisher"
        result: dict[str, Any] = self._call("POST", path)
        return result

    def eligibility(self, product_id: str, purpose: str) -> dict[str, Any]:
        """Whether this session may buy ``product_id`` for ``purpose`` now, and if not,
        the refusal buying would get (``{"eligible", "refusal": {"code", ...}}``)."""
        path = f"/api/v1/products/{product_id}/eligibility"
        answer: dict[str, Any] = self._call("GET", path, params={"purpose": purpose})
        return answer

    def deployment(self) -> dict[str, Any]:
        """The marketplace's contracts: chain id and addresses (``ledger.Deployment``)."""
        answer: dict[str, Any] = self._call("GET", "/api/v1/ledger/deployment")
        return answer

    def grant(self, product_id: str, purpose: str) -> dict[str, Any]:
        """Ask the verifier for a grant (your credentials against the product's policy)."""
        body = {"purpose": purpose}
        result: dict[str, Any] = self._call(
            "POST", f"/api/v1/products/{product_id}/grants", json=body
        )
        return result

    def submit_computation(self, job: dict[str, Any]) -> dict[str, Any]:
        """Leave a computation with the backend; forwarded to the nodes once paid."""
        result: dict[str, Any] = self._call("POST", "/api/v1/computations", json=job)
        return result

    def quote_computation(
        self,
        computation: dict[str, Any],
        products: Sequence[str],
        purpose: str,
        union: str | None = None,
    ) -> dict[str, Any]:
        """What the computation would cost and what would make it fail, before paying."""
        body = {
            "computation": computation,
            "products": list(products),
            "purpose": purpose,
            "union": union,
        }
        result: dict[str, Any] = self._call("POST", "/api/v1/computations/quote", json=body)
        return result

    def computation(self, request_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/api/v1/computations/{request_id}")
        return result

    def retry_computation(self, request_id: str) -> dict[str, Any]:
        path = f"/api/v1/computations/{request_id}/retry"
        result: dict[str, Any] = self._call("POST", path)
        return result

    def claim_evidence(self, purchase_id: int, product_id: str, statement: str) -> str:
        """Store a claim's statement; the evidence hash to file on chain."""
        body = {"purchase_id": purchase_id, "product_id": product_id, "statement": statement}
        result: dict[str, Any] = self._call("POST", "/api/v1/claims/evidence", json=body)
        return str(result["evidence_hash"])

    def claims(self, product_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/api/v1/products/{product_id}/claims")
        return result

    def rule(self, purchase_id: int, *, uphold: bool) -> dict[str, Any]:
        """The arbiter's ruling on the open claim of a purchase."""
        path = f"/api/v1/claims/{purchase_id}/ruling"
        result: dict[str, Any] = self._call("POST", path, json={"uphold": uphold})
        return result

    def insight(self, product_id: str, **params: Any) -> dict[str, Any]:
        """How a product you own sells: views, purchases, revenue (``from``, ``to``,
        ``bucket``)."""
        path = f"/api/v1/products/{product_id}/insight"
        result: dict[str, Any] = self._call("GET", path, params=params)
        return result

    def price_suggestion(self, product_id: str | None = None, **params: Any) -> dict[str, Any]:
        """What comparable products sold for: for a product, or for ``access_mode``,
        ``tags`` and ``columns``."""
        path = (
            f"/api/v1/products/{product_id}/price-suggestion"
            if product_id
            else "/api/v1/pricing/suggestion"
        )
        result: dict[str, Any] = self._call("GET", path, params=params)
        return result

    # storage: ciphertext uploaded to the platform (docs/storage.md)
    def upload_target(self, name: str, size: int, sha256: str) -> dict[str, Any]:
        """Where to send an object's bytes (or ``state: stored``: they are there already)."""
        body = {"name": name, "size": size, "sha256": sha256}
        result: dict[str, Any] = self._call("POST", "/api/v1/uploads", json=body)
        return result

    def upload_object(
        self,
        product_id: str,
        name: str,
        source: Path | BinaryIO,
        size: int | None = None,
        progress: Progress | None = None,
    ) -> str:
        """Upload an encrypted object of a product you own: a share file (.kshare), a
        signed manifest (.jws) or an encrypted data file (.kdata); ``name`` is relative to
        the product's folder or the whole name. ``source`` is a path or a binary file (read
        in 1 MiB blocks, never whole); ``progress(sent, size)`` follows it. Returns the
        stored name: what the product's storage link names. The same bytes again send
        nothing; other bytes under a taken name are ``object_exists``."""
        product = product_id.lower()
        full = name if name.startswith(product + "/") else f"{product}/{name}"
        with prepared(source, size) as ready:
            target = self.upload_target(full, ready.size, ready.sha256)
            if target["state"] == "stored":
                if progress is not None:
                    progress(ready.size, ready.size)
                return full
            self._put(target, ready, progress)
            if target.get("complete_url"):
                body = {"name": full, "size": ready.size, "sha256": ready.sha256}
                self._call("POST", target["complete_url"], json=body)
        return full

    def _put(self, target: dict[str, Any], source: Source, progress: Progress | None) -> None:
        headers = dict(target.get("headers") or {})
        if target["credentials"] == "session":  # the API itself: with this client's token
            response = self._sent(  # each send (a retry, a renewal) reads the source again
                "PUT", target["url"], body=lambda: source.blocks(progress), headers=headers
            )
            if not response.is_success:
                raise ApiError(response.status_code, *error_fields(response))
            return
        if self._uploads is None:
            self._uploads = httpx2.Client(timeout=httpx2.Timeout(60.0, connect=10.0))
        try:
            response = self._uploads.put(
                target["url"], content=source.blocks(progress), headers=headers
            )
        except httpx2.HTTPError as exc:
            raise UploadRefused(
                f"cannot reach the storage to upload {target['name']} ({type(exc).__name__}): "
                "retry; the upload starts again"
            ) from exc
        if not response.is_success:
            raise UploadRefused(
                f"the storage refused the upload of {target['name']} (HTTP "
                f"{response.status_code}: {response.text[:200]}): ask for a new upload target "
                "(the URL may have expired) and upload again"
            )

    def object_size(self, name: str, purchase: int | None = None) -> int | None:
        """The size of a stored object you may read (owner, or buyer of ``purchase``),
        or None if there is none."""
        params = {"purchase": purchase} if purchase is not None else {}
        response = self._sent("HEAD", f"/api/v1/objects/{name}", params=params)
        if response.status_code == 404:
            return None
        if not response.is_success:
            # A HEAD answer has no body (RFC 9110 §9.3.2): the code comes in a header.
            # Never GET for the reason: that would download the whole object.
            raise ApiError(
                response.status_code,
                response.headers.get(ERROR_HEADER, "http_error"),
                f"the API refused to say the size of {name} (HTTP {response.status_code})",
            )
        return int(response.headers["content-length"])

    @contextmanager
    def open_object(self, name: str, purchase: int | None = None) -> Iterator[BinaryIO]:
        """A stored object's bytes as a stream (to its product's owner, or a batch file to
        the buyer of ``purchase``)."""
        params = {"purchase": purchase} if purchase is not None else {}
        path = f"/api/v1/objects/{name}"
        try:
            for renewed in (False, True):  # renew before the stream is handed out, not after
                sent_with = self.http.headers.get("Authorization")
                with self.http.stream("GET", path, params=params) as response:
                    if not response.is_success:
                        response.read()
                        expired = response.status_code == 401 and self._renewable(path, response)
                        if expired and not renewed:
                            self._renew(sent_with)
                            continue
                        raise ApiError(response.status_code, *error_fields(response))
                    yield cast("BinaryIO", BlockReader(response.iter_bytes()))
                    return
        except httpx2.HTTPError as exc:
            raise ApiUnreachable(
                f"the download of {name} from {self.http.base_url} failed ({type(exc).__name__})"
            ) from exc
