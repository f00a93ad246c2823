"""The company's chain desk: its products are published and kept in line on chain from
the company's own ledger account, for employees the company authorised.

Runs in the Depute tool, the one process that holds the company's keys. A company's
products are owned on chain by the company's account, never by the employee who
listed them: their revenue goes to the company, and revoking the employee here stops
him at once, since he never held any right on chain (he cannot reprice, pause,
transfer or withdraw what the company owns).

An employee asks with a presentation to this tool alone (a nonce of this tool,
``depute.sessions``); the tool checks its own record of what it authorised: an
active authorisation of that DID with ``publish`` in its scope. The catalog entry
is read from the marketplace (it must be owned by this company); the chain
transactions are the ones ``kraken-market trade publish|sync`` sends for an
individual (``trade.publish``). The stake comes from the company's account. The
tool also signs, with the company's key, the manifests of the secret shares an
employee made of a company product (the nodes check the owner's signature).

At start the tool binds the company's account to the company's DID at the
marketplace (``PUT /companies/{did}/account``, signed by both keys), naming
itself as the binding's ``service``: employees' wallets find the desk there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from kraken_market.client import ApiError, ApiUnreachable, MarketClient
from kraken_market.depute.authorisations import Authorisations
from kraken_market.depute.config import account_file
from kraken_market.depute.core import Depute
from kraken_market.depute.errors import (
    AuthorisationRequired,
    MarketplaceRefused,
    MarketplaceUnavailable,
    NotCompanyProduct,
)
from kraken_market.depute.sessions import Sessions
from kraken_market.errors import NotFound, ServiceUnavailable, ValidationFailed
from kraken_market.files import read_private
from kraken_market.identity import binding as bindings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from kraken_market.ledger.client import Ledger

PUBLISH = "publish"


class ChainDeskUnavailable(ServiceUnavailable):
    code = "chain_desk_unavailable"


@dataclass(frozen=True)
class Asked:
    """Who asked (their DID, proven by the presentation) under which authorisation."""

    employee: str
    authorisation: str


class CompanyAccount:
    """The company's ledger account and a client signing with it, made on first use;
    one transaction at a time (one nonce sequence)."""

    def __init__(self, depute: Depute) -> None:
        self.depute = depute
        self._ledger: Ledger | None = None
        self.lock = threading.Lock()
        self.bound = False

    def account(self) -> LocalAccount:
        from eth_account import Account

        key = read_private(account_file(self.depute.config.directory)).strip()
        account: LocalAccount = Account.from_key(key)
        return account

    def ledger(self) -> Ledger:
        config = self.depute.config
        if config.chain_url is None or config.deployment_file is None:
            raise ChainDeskUnavailable(
                "this Depute tool has no chain: start it with --chain-url and --deployment "
                "('kraken-market up' does)"
            )
        if self._ledger is None:
            from kraken_market.ledger.client import Ledger, connect
            from kraken_market.ledger.deployment import Deployment

            deployment = Deployment.load(config.deployment_file)
            self._ledger = Ledger(connect(config.chain_url), deployment, self.account())
        return self._ledger

    def ensure_bound(self) -> None:
        """Bind at the first chain request if the start could not (marketplace away)."""
        if not self.bound:
            self.bind()

    def bind(self) -> dict[str, Any]:
        """Bind the account to the company's DID at the marketplace (again: idempotent)."""
        from kraken_market.db.base import utcnow

        made = bindings.bind(
            self.depute.issuer.key,
            self.account(),
            audience=self.depute.marketplace.registry_url,
            now=utcnow(),
            service=self.depute.config.audience,
        )
        answer = self.depute.marketplace.bind_account(
            self.depute.company, made.jws, made.account_signature
        )
        self.bound = True
        return answer


class Desk:
    def __init__(self, depute: Depute, session: Session, account: CompanyAccount) -> None:
        self.depute = depute
        self.session = session
        self.account = account

    def _asker(self, presentation: str) -> Asked:
        identity = Sessions(self.depute, self.session).identify_employee(presentation)
        for row in Authorisations(self.depute, self.session).list("active", identity.did):
            if PUBLISH in row.scope:
                self.session.rollback()  # no lock held while the chain works
                return Asked(identity.did, row.id)
        raise AuthorisationRequired(
            f"{identity.did} holds no active authorisation of {self.depute.company} to "
            "publish: ask the company's representative (it may have been revoked)",
            details={"did": identity.did, "company": self.depute.company},
        )

    def _company_product(self, product_id: str) -> None:
        """Refuse unless the catalog names this company as the product's owner."""
        with MarketClient.connect(self.depute.config.marketplace_url) as market:
            product = _read(
                lambda: market.product(product_id),
                f"the marketplace has no product {product_id}",
                {"product": product_id},
            )
        if product["owner"] != self.depute.company:
            raise NotCompanyProduct(
                f"product {product_id} belongs to {product['owner']}, not to "
                f"{self.depute.company}: its own owner publishes it",
                details={"product": product_id, "owner": product["owner"]},
            )

    def publish(
        self, presentation: str, product_id: str, stake: int | None, wait: float
    ) -> dict[str, Any]:
        """Publish the company's product from its account, locking ``stake`` (default:
        the catalog's) from the company's DATA."""
        from kraken_market.trade.publish import publish_on_chain

        asked = self._asker(presentation)
        self._company_product(product_id)
        url = self.depute.config.marketplace_url
        with MarketClient.connect(url) as market, self.account.lock:
            self.account.ensure_bound()
            ledger = self.account.ledger()
            done = publish_on_chain(
                market, ledger, product_id, stake=stake, wait=wait, register=False
            )
        return {
            "product": done.product_id,
            "account": done.owner,
            "transaction": done.transaction,
            "stake": str(done.stake),
            "listed": done.listed,
            "asked_by": asked.employee,
        }

    def sign_manifest(
        self, presentation: str, product_id: str, manifest: dict[str, Any]
    ) -> dict[str, Any]:
        """Sign, with the company's key, the manifest of shares an authorised employee
        made of the company's product (the nodes compute only over manifests signed by
        the product's owner). The tool sees the share files' names and commitments,
        never their contents."""
        from kraken_market.smpc.manifest import Manifest, sign_manifest

        asked = self._asker(presentation)
        parsed = Manifest.from_json(manifest)
        if parsed.product_id != product_id or parsed.owner != self.depute.company:
            raise NotCompanyProduct(
                f"this manifest is for {parsed.product_id} owned by {parsed.owner}: the "
                f"tool signs manifests of {self.depute.company}'s products only",
                details={"product": parsed.product_id, "owner": parsed.owner},
            )
        self._company_product(product_id)
        signed = sign_manifest(parsed, self.depute.issuer.key.private_key)
        return {"product": product_id, "jws": signed.jws, "asked_by": asked.employee}

    def sign_deposit(
        self, presentation: str, product_id: str, deposit: dict[str, Any]
    ) -> dict[str, Any]:
        """Sign, with the company's account (the product's owner on chain), the deposit
        of a company file's or stream's key shares that an authorised employee prepared
        (the nodes take key shares only from the owner). The shares in it are sealed to
        the nodes: the tool sees their digests, never the key."""
        from kraken_market.access.wire import KeyDeposit, sign_text

        asked = self._asker(presentation)
        try:
            parsed = KeyDeposit.model_validate(deposit)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValidationFailed(f"deposit.{where}: {first['msg']}") from exc
        account = self.account.account()
        if parsed.item.lower() != product_id or parsed.depositor.lower() != account.address.lower():
            raise NotCompanyProduct(
                f"this deposit is for {parsed.item} from {parsed.depositor}: the tool signs "
                f"deposits of {self.depute.company}'s products from its account only",
                details={"product": parsed.item, "depositor": parsed.depositor},
            )
        self._company_product(product_id)
        signature = sign_text(account, parsed.message())
        return {"product": product_id, "signature": signature, "asked_by": asked.employee}

    def join_union(self, presentation: str, union_id: str, wait: float) -> dict[str, Any]:
        """Propose or consent to a Data Union on chain from the company's account, for
        an employee authorised to publish, when one of its members is the company's
        product (the chain counts one consent per owner account). The catalog's consent
        is the employee's own request to the marketplace, acting for the company."""
        from kraken_market.trade.unions import join_on_chain

        asked = self._asker(presentation)
        url = self.depute.config.marketplace_url
        with MarketClient.connect(url) as market:
            union = _read(
                lambda: market.union(union_id),
                f"the marketplace has no union {union_id}",
                {"union": union_id},
            )
            ours = [m["product_id"] for m in union["members"] if m["owner"] == self.depute.company]
            if not ours:
                raise NotCompanyProduct(
                    f"no member of union {union_id} belongs to {self.depute.company}: their "
                    "own owners consent to it",
                    details={"union": union_id},
                )
            with self.account.lock:
                self.account.ensure_bound()
                done = join_on_chain(market, self.account.ledger(), union_id, wait=wait)
        return {
            "union": union_id,
            "products": ours,
            "account": self.account.account().address,
            "sent": done.sent,
            "transaction": done.transaction,
            "consents_missing": done.consents_missing,
            "status": done.status,
            "asked_by": asked.employee,
        }

    def sync(self, presentation: str, product_id: str) -> dict[str, Any]:
        """Apply the catalog's availability, prices, metadata and policy on chain."""
        from kraken_market.trade.publish import sync_on_chain

        asked = self._asker(presentation)
        self._company_product(product_id)
        url = self.depute.config.marketplace_url
        with MarketClient.connect(url) as market, self.account.lock:
            self.account.ensure_bound()
            changed = sync_on_chain(market, self.account.ledger(), product_id)
        return {"product": product_id, "changed": changed, "asked_by": asked.employee}


def _read(
    call: Callable[[], dict[str, Any]], missing: str, details: dict[str, Any]
) -> dict[str, Any]:
    """A marketplace read the desk stands on, its failures in the tool's own words: not
    found (``missing``), unreachable, or refused with the marketplace's code."""
    try:
        return call()
    except ApiUnreachable as exc:
        raise MarketplaceUnavailable(exc.message) from exc
    except ApiError as exc:
        if exc.status_code == 404:
            raise NotFound(missing, details=details) from exc
        raise MarketplaceRefused(exc.message, details={"code": exc.api_code}) from exc
