"""What a wallet needs from a Depute tool: accept an invitation, log in as the
company's representative, download one's attorney credentials.

The HTTP client can be injected (``http=``); errors are the SDK's
:class:`~kraken_market.client.ApiError` (the server's stable ``code``) and
:class:`~kraken_market.client.ApiUnreachable`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2

from kraken_market.access.wire import KeyDeposit
from kraken_market.client import ApiError, ApiUnreachable
from kraken_market.depute.config import INVITATION_PATH
from kraken_market.errors import InvalidRequest
from kraken_market.identity import credentials, presentations
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.dids import DidResolver
from kraken_market.identity.errors import CredentialInvalid, WrongAudience
from kraken_market.identity.keys import DidKey
from kraken_market.smpc.manifest import Manifest, SignedManifest

present = presentations.present
"""Re-exported: wallets import the Depute client alone."""


def _call(http: httpx2.Client, method: str, url: str, **kwargs: Any) -> Any:
    try:
        response = http.request(method, url, **kwargs)
    except httpx2.HTTPError as exc:
        raise ApiUnreachable(
            f"cannot reach the Depute tool at {url} ({type(exc).__name__})"
        ) from exc
    if response.is_success:
        return response.json() if response.content else None
    try:
        body = response.json()
        code, message, details = body["code"], body["message"], body.get("details")
    except (ValueError, KeyError, TypeError):
        code, message, details = "http_error", response.text[:200], None
    raise ApiError(response.status_code, code, message, details)


def _split(url: str) -> tuple[str, str]:
    base, found, secret = url.partition(INVITATION_PATH)
    if not found or not secret or "/" in secret:
        raise InvalidRequest(f"not a Depute invitation link: {url!r}")
    return base.rstrip("/"), secret.split("?")[0]


def _own_audience(base: str, offered: Any) -> str:
    """The audience to sign for, which must be the Depute tool's own address: a link
    to a hostile server could otherwise ask for a presentation to the marketplace
    (with a marketplace nonce) and log in there as the wallet's holder."""
    if offered != base:
        raise WrongAudience(
            f"the server at {base} asks for a presentation to {offered!r}; refusing to sign "
            "one for another verifier (a Depute tool's audience is its own URL)",
            details={"server": base, "audience": offered if isinstance(offered, str) else None},
        )
    return base


def accept_invitation(
    url: str, holder_key: DidKey, person_credential: str, *, http: httpx2.Client | None = None
) -> str:
    """Accept the invitation at ``url`` with a presentation of ``person_credential``
    bound to the invitation's nonce; the AttorneyCredential (vc+jwt) it returns is
    checked (signed by the inviting company, about ``holder_key``) before it is
    handed back for the wallet to store."""
    base, secret = _split(url)
    client = http or httpx2.Client(timeout=30.0)
    try:
        offer = _call(client, "GET", f"{base}/api{INVITATION_PATH}{secret}")
        presentation = present(
            holder_key,
            [person_credential],
            audience=_own_audience(base, offer["audience"]),
            nonce=offer["nonce"],
        )
        issued = _call(
            client,
            "POST",
            f"{base}/api{INVITATION_PATH}{secret}/accept",
            json={"presentation": presentation},
        )
    finally:
        if http is None:
            client.close()
    token = str(issued["credential"])
    checked = credentials.verify(token, DidResolver(), datetime.now(UTC))
    if (
        checked.type is not CredentialType.ATTORNEY
        or checked.issuer != offer["company"]
        or checked.subject_id != holder_key.did
    ):
        raise CredentialInvalid(
            "the Depute tool returned a credential that is not this invitation's "
            "AttorneyCredential for you",
            details={"issuer": checked.issuer, "subject": checked.subject_id},
        )
    return token


def _presented(
    client: httpx2.Client, base: str, challenge: str, holder: DidKey, tokens: list[str]
) -> str:
    """A presentation of ``tokens`` to the Depute tool at ``base`` alone, on a nonce it
    issued at ``challenge`` (its own audience only: ``_own_audience``)."""
    issued = _call(client, "POST", f"{base}{challenge}")
    return present(
        holder, tokens, audience=_own_audience(base, issued["audience"]), nonce=issued["nonce"]
    )


def login(
    base_url: str, holder: DidKey, tokens: list[str], *, http: httpx2.Client | None = None
) -> dict[str, Any]:
    """Log in to a Depute tool as the company's representative; its session answer."""
    base = base_url.rstrip("/")
    client = http or httpx2.Client(timeout=30.0)
    try:
        presentation = _presented(client, base, "/api/auth/challenge", holder, tokens)
        session: dict[str, Any] = _call(
            client, "POST", f"{base}/api/auth/login", json={"presentation": presentation}
        )
        return session
    finally:
        if http is None:
            client.close()


def my_credentials(
    base_url: str, holder: DidKey, tokens: list[str], *, http: httpx2.Client | None = None
) -> list[dict[str, Any]]:
    """Every AttorneyCredential the company issued to ``holder`` (for a wallet to store)."""
    base = base_url.rstrip("/")
    client = http or httpx2.Client(timeout=30.0)
    try:
        presentation = _presented(client, base, "/api/credentials/challenge", holder, tokens)
        found: list[dict[str, Any]] = _call(
            client, "POST", f"{base}/api/credentials", json={"presentation": presentation}
        )
        return found
    finally:
        if http is None:
            client.close()


def ask_chain_desk(
    base_url: str,
    holder: DidKey,
    tokens: list[str],
    path: str,
    body: dict[str, Any],
    *,
    timeout: float = 120.0,
    http: httpx2.Client | None = None,
) -> dict[str, Any]:
    """Ask the company's chain desk (``depute.desk``) for a chain action on one of the
    company's products, proving who asks with a presentation to that tool alone."""
    base = base_url.rstrip("/")
    client = http or httpx2.Client(timeout=timeout)
    try:
        presentation = _presented(client, base, "/api/chain/challenge", holder, tokens)
        answer: dict[str, Any] = _call(
            client, "POST", f"{base}/api{path}", json={**body, "presentation": presentation}
        )
        return answer
    finally:
        if http is None:
            client.close()


def publish_for_company(
    base_url: str,
    holder: DidKey,
    tokens: list[str],
    product: str,
    *,
    stake: int | None = None,
    wait: float = 30.0,
) -> dict[str, Any]:
    """Have the company's Depute tool publish its product from the company's account."""
    body: dict[str, Any] = {"wait": wait}
    if stake is not None:
        body["stake"] = str(stake)
    return ask_chain_desk(
        base_url, holder, tokens, f"/products/{product}/publish", body, timeout=wait + 90
    )


def sync_for_company(
    base_url: str, holder: DidKey, tokens: list[str], product: str
) -> dict[str, Any]:
    """Have the company's Depute tool apply the product's catalog entry on chain."""
    return ask_chain_desk(base_url, holder, tokens, f"/products/{product}/sync", {})


def join_union_for_company(
    base_url: str, holder: DidKey, tokens: list[str], union_id: str, *, wait: float = 30.0
) -> dict[str, Any]:
    """Have the company's Depute tool propose or consent to a union on chain."""
    body = {"wait": wait}
    return ask_chain_desk(
        base_url, holder, tokens, f"/unions/{union_id}/join", body, timeout=wait + 90
    )


class DeskSigner:
    """Signs for a company's product through the company's Depute tool: share manifests
    with the company's key (``smpc.manifest.ManifestSigner``) and key deposits with the
    company's account (``access.wire.DepositSigner``). The employee encrypts and shares
    the data on their machine; the company's keys never leave the tool."""

    def __init__(self, base_url: str, holder: DidKey, tokens: list[str], company: str) -> None:
        self.base_url, self.holder, self.tokens, self.company = base_url, holder, tokens, company
        self._address: str | None = None

    @property
    def owner(self) -> str:
        return self.company

    @property
    def address(self) -> str:
        """The company's ledger account (the owner on chain of its products)."""
        if self._address is None:
            with httpx2.Client(timeout=30.0) as client:
                found = _call(client, "GET", f"{self.base_url.rstrip('/')}/api/account")
            self._address = str(found["account"])
        return self._address

    def sign_deposit(self, deposit: KeyDeposit) -> str:
        from kraken_market.access.wire import check_signer

        answer = ask_chain_desk(
            self.base_url,
            self.holder,
            self.tokens,
            f"/products/{deposit.item.lower()}/deposit",
            {"deposit": deposit.model_dump(mode="json")},
        )
        signature = str(answer["signature"])
        check_signer(deposit.message(), signature, self.address)  # signed what was sent
        return signature

    def sign(self, manifest: Manifest) -> SignedManifest:
        from kraken_market.smpc.manifest import verify_manifest

        answer = ask_chain_desk(
            self.base_url,
            self.holder,
            self.tokens,
            f"/products/{manifest.product_id}/manifest",
            {"manifest": manifest.to_json()},
        )
        token = str(answer["jws"])
        if verify_manifest(token, self.company, manifest.product_id) != manifest:
            raise CredentialInvalid("the Depute tool signed another manifest than the one sent")
        return SignedManifest(manifest, token)
