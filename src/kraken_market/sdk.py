"""The Python SDK for data scientists: log in with your wallet, buy, get a DataFrame.

::

    from kraken_market.sdk import Marketplace

    market = Marketplace.login("~/kraken-market/.kraken/wallet.json", passphrase="...")
    found = market.search("heart rate", mode="analytics", purpose="research", eligible=True)
    table = market.compute("mean@1", [found[0]["id"]], columns=["age", "bpm"])
    print(table)                          # a pandas DataFrame

It works from any directory: the contracts it pays are the ones the marketplace
names (``GET /api/v1/ledger/deployment``, checked on the chain node), and
``eligible=True`` keeps only the products this session may buy for ``purpose``.

Keys never leave the wallet: the presentation that logs you in and every
payment are signed here; the marketplace sees your public key, your
credentials and your job, never a result (the nodes encrypt each result share
to a key made for the request and kept, mode 0600, in ``jobs_dir``).

Amounts are DATA with decimals, as :class:`~decimal.Decimal` (exact; the
token's decimals are read from its contract): ``balance()``, ``price()``, the
``price`` of what you bought, and the ``max_price`` you accept. Products found
keep the API's base-unit strings under ``prices`` and ``stake`` and carry the
same amounts in DATA under ``prices_data`` and ``stake_data``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import Conflict, InvalidRequest
from kraken_market.identity.errors import WrongAudience
from kraken_market.identity.wallet import Wallet
from kraken_market.ledger.amounts import Token, product_in_tokens
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import InvalidAmount, NotDeployed
from kraken_market.settings import Settings

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]

    from kraken_market.depute.company_desk import Employee
    from kraken_market.ledger.client import Ledger
    from kraken_market.trade.buy import Purchase
    from kraken_market.trade.refunds import Reclaimed

Amount = Decimal | str | int
"""An amount of DATA as you give it: ``Decimal("2.5")``, ``"2.5"`` or ``3`` (whole DATA);
never a float (0.1 has no exact binary value)."""


@dataclass(frozen=True)
class Bought:
    """A purchase you paid for."""

    item: str
    purchase_id: int
    price: Decimal
    """What you paid, in DATA."""
    price_units: int
    """The same in the token's base units (as the chain and the API count)."""
    transaction: str | None
    paid_until: int | None = None
    """A subscription's end (Unix seconds, chain time)."""


def _contracts(deployment: Deployment) -> tuple[object, ...]:
    addresses = (deployment.token, deployment.authority, deployment.registry, deployment.market)
    return (deployment.chain_id, *(a.lower() for a in addresses))


class DeploymentMismatch(Conflict):
    code = "deployment_mismatch"


def marketplace_deployment(api: MarketClient, config: Settings, url: str) -> Deployment:
    """The contracts the marketplace at ``url`` uses, as it names them; else (an API
    that does not say) the deployment file of the configured data directory; else an
    error that says what to set. Never a file relative to wherever the script runs.

    The SDK pays the contracts it is given: when the data directory holds a deployment
    file, an API naming other contracts is refused (``deployment_mismatch``) rather
    than trusted, so a wrong or spoofed ``KRAKEN_API_URL`` cannot redirect payments."""
    path = config.deployment_file.resolve()
    local = Deployment.load(path) if path.is_file() else None
    try:
        named_by_api = Deployment.model_validate(api.deployment())
    except ApiError as exc:
        if exc.api_code not in ("not_deployed", "not_found"):
            raise
        named = exc.message
    else:
        if local is not None and _contracts(local) != _contracts(named_by_api):
            raise DeploymentMismatch(
                f"the marketplace at {url} names other contracts (Market "
                f"{named_by_api.market}) than the deployment file at {path} (Market "
                f"{local.market}): nothing is paid; point KRAKEN_API_URL at the marketplace "
                "of that data directory, or KRAKEN_DATA_DIR at this marketplace's",
                details={"api_url": url, "deployment_file": str(path)},
            )
        return named_by_api
    if local is not None:
        return local
    raise NotDeployed(
        f"the marketplace at {url} names no contracts ({named}) and there is no "
        f"deployment file at {path}: start the platform ('make up') and try again, or set "
        "KRAKEN_DATA_DIR to the directory holding its deployment.json",
        details={"api_url": url, "deployment_file": str(path)},
    )


class Marketplace:
    def __init__(
        self,
        api: MarketClient,
        ledger: Ledger,
        jobs_dir: Path,
        employee: Employee | None = None,
    ) -> None:
        """``employee``: the wallet's DID key and PersonCredentials, which ask a
        company's Depute tool to sign for the company when the session acts for one
        (:meth:`login` passes them)."""
        self.api, self.ledger, self.jobs_dir = api, ledger, jobs_dir
        self.employee = employee

    @classmethod
    def login(
        cls,
        wallet: str | Path,
        *,
        passphrase: str,
        api_url: str | None = None,
        act_for: str | None = None,
        settings: Settings | None = None,
    ) -> Marketplace:
        """Open a session with the credentials in ``wallet`` (its keys unlocked with
        ``passphrase``); pay from the wallet's account on the configured chain."""
        from kraken_market.ledger.client import Ledger, connect

        config = settings or Settings()
        url = (api_url or config.resolved_api_url).rstrip("/")
        holder = Wallet.open(Path(wallet).expanduser())
        holder.unlock(passphrase)
        anonymous = MarketClient.connect(url)
        with anonymous:
            challenge = anonymous.challenge()
            if challenge["audience"].rstrip("/") != url:
                raise WrongAudience(
                    f"the API at {url} asks for a presentation to {challenge['audience']}"
                )
            session = anonymous.login(
                holder.present(challenge["audience"], challenge["nonce"]), act_for
            )
        api = MarketClient.connect(url)
        api.use_session(session)  # renewed through /auth/refresh when it expires
        try:
            deployment = marketplace_deployment(api, config, url)
            chain_url = config.resolved_chain_url
            ledger = Ledger(
                connect(chain_url),
                deployment,
                holder.keys.account,
                log_range=config.chain_log_range,
            )
            try:
                ledger.check_deployed()
            except NotDeployed as exc:
                raise NotDeployed(
                    f"the chain node at {chain_url} does not hold the marketplace's contracts "
                    f"({exc.message}): set KRAKEN_CHAIN_URL to the marketplace's chain"
                ) from None
        except BaseException:
            api.close()
            raise
        from kraken_market.depute.company_desk import Employee  # the Depute client: heavy

        persons = [c.token for c in holder.credentials("PersonCredential")]
        employee = Employee(holder.keys.did_key, persons)
        return cls(api, ledger, config.data_dir / "analytics", employee)

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> Marketplace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @cached_property
    def token(self) -> Token:
        """The token amounts are counted in (symbol, decimals), read from its contract."""
        return self.ledger.token()

    def units(self, amount: Amount, what: str = "amount") -> int:
        """``amount`` DATA in the token's base units, exactly (refused: floats, negative
        amounts, more decimals than the token has)."""
        if isinstance(amount, (float, bool)):
            raise InvalidAmount(
                f"{what}: give DATA as a str, int or Decimal, not {type(amount).__name__} "
                f"{amount!r} (floats are not exact)",
                details={"option": what},
            )
        text = format(amount, "f") if isinstance(amount, Decimal) else str(amount)
        return self.token.parse(text, what)

    def balance(self) -> Decimal:
        """Your account's DATA."""
        return self.token.decimal(self.ledger.balance())

    def search(
        self, q: str | None = None, *, eligible: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Listed products matching words and filters (the first page of ``limit``);
        ``price_min`` and ``price_max`` in DATA.

        With ``eligible=True`` (and a ``purpose``), only those you may buy for that
        purpose now: your credentials meet the policy, you are bound to an account, the
        product is on chain and not yours (the marketplace checks each, recording
        nothing). An empty list then means nothing on the page is for you: search
        without it and read each product's ``policy``."""
        for bound in ("price_min", "price_max"):
            if filters.get(bound) is not None:
                filters[bound] = str(self.units(filters[bound], bound))
        items = self.api.search_products(q=q, **filters)["items"]
        if eligible:
            purpose = filters.get("purpose")
            if purpose is None:
                raise InvalidRequest("eligible=True needs a purpose, e.g. purpose='research'")
            items = [p for p in items if self.api.eligibility(p["id"], str(purpose))["eligible"]]
        return [product_in_tokens(item, self.token) for item in items]

    def eligibility(self, product: str, purpose: str = "research") -> dict[str, Any]:
        """Whether you may buy ``product`` for ``purpose`` now; if not, ``refusal`` says
        why (``code``, ``message``: what to do) before anything is paid."""
        return self.api.eligibility(product, purpose)

    def product(self, product_id: str) -> dict[str, Any]:
        """One product, with ``prices_data`` and ``stake_data`` in DATA."""
        return product_in_tokens(self.api.product(product_id), self.token)

    def price(self, item: str, seconds: int = 1) -> Decimal:
        """What ``item`` (a product or a union) costs now on chain, in DATA: an access, a
        computation, or ``seconds`` of a stream."""
        from kraken_market.ledger.errors import NotOnChain
        from kraken_market.ledger.model import ModeCode

        mode, _listed, prices = self.ledger.terms(item)
        units = (
            {
                ModeCode.BATCH: prices.access,
                ModeCode.STREAM: prices.subscription_per_second * seconds,
                ModeCode.ANALYTICS: prices.computation,
            }.get(mode)
            if mode is not None
            else None
        )
        if units is None:
            raise NotOnChain(f"{item} is not on chain", reason="unknown_product")
        return self.token.decimal(units)

    def quote(
        self,
        function: str,
        products: Sequence[str],
        *,
        columns: Sequence[str] = (),
        params: dict[str, Any] | None = None,
        filter: dict[str, Any] | None = None,
        min_cohort: int = 10,
        purpose: str = "research",
        union: str | None = None,
    ) -> dict[str, Any]:
        """What :meth:`compute` with these arguments would cost (``price``, DATA base
        units) and what would make it fail (``problems``) or be suppressed
        (``warnings``); ``payable`` when nothing would. Nothing is paid."""
        computation = {
            "function": function,
            "columns": list(columns),
            "params": params or {},
            "filter": filter,
            "min_cohort": min_cohort,
        }
        return self.api.quote_computation(computation, [] if union else products, purpose, union)

    def compute(
        self,
        function: str,
        products: Sequence[str],
        *,
        columns: Sequence[str] = (),
        params: dict[str, Any] | None = None,
        filter: dict[str, Any] | None = None,
        min_cohort: int = 10,
        purpose: str = "research",
        request_id: str | None = None,
        union: str | None = None,
        timeout: float = 900,
    ) -> pd.DataFrame | None:
        """Buy ``function`` over ``products`` and return its result (None: fewer rows
        than ``min_cohort`` matched, and nothing else is revealed). With ``union`` (a
        Data Union's id) it runs over all the union's members, bought as one item:
        pass ``products=[]``. It is quoted first (:meth:`quote`): when the quote names a
        problem, nothing is paid (``QuoteRefused``). Pass the same ``request_id`` to
        resume after an interruption: nothing is paid twice. A job the nodes refuse raises
        ``computation_refunded`` (a node found the seller's inputs missing or invalid:
        your payment came back at once, the message names the transaction) or
        ``computation_refused`` (your payment stays held: :meth:`reclaim` it after the
        deadline the message gives); resuming it says the same again."""
        from kraken_market.smpc.functions.spec import ComputationSpec
        from kraken_market.trade.results import compute_via_market

        spec = ComputationSpec.model_validate(
            {
                "function": function,
                "columns": list(columns),
                "params": params or {},
                "filter": filter,
                "min_cohort": min_cohort,
            }
        )
        rid = request_id or "0x" + secrets.token_hex(32)
        items = [union] if union else None
        if union:
            products = [m["product_id"] for m in self.api.union(union)["members"]]
        outcome = compute_via_market(
            self.api, self.ledger, spec, products, purpose, rid, self.jobs_dir,
            items=items, timeout=timeout,
        )  # fmt: skip
        return outcome.table

    def create_union(
        self,
        title: str,
        members: Mapping[str, int],
        *,
        description: str = "",
        wait: float = 30.0,
    ) -> dict[str, Any]:
        """Propose a Data Union of ``members`` (product id -> revenue weight), at least one
        of them yours: in the catalog and on chain, signed by your wallet. It is for sale
        (``status`` ``active``) once every other member's owner ran :meth:`consent_union`
        (``pending`` until then; ``awaiting_chain`` while the chain's answer is not
        indexed yet, up to ``wait`` seconds). Acting for a company, the company's
        account proposes, through its Depute tool."""
        body = {
            "title": title,
            "description": description,
            "members": [{"product_id": p, "weight": w} for p, w in members.items()],
        }
        self._check_signer(list(members))  # before the catalog changes
        union = self.api.create_union(body)
        self._join_on_chain(union["id"], wait)
        return self.api.union(union["id"])

    def consent_union(self, union_id: str, *, wait: float = 30.0) -> dict[str, Any]:
        """Consent to a Data Union for every member product you own, in the catalog and on
        chain (proposing it there if nobody has yet); harmless to call again. Acting
        for a company, the company's account consents, through its Depute tool."""
        self._check_signer([m["product_id"] for m in self.api.union(union_id)["members"]])
        self.api.consent(union_id)
        self._join_on_chain(union_id, wait)
        return self.api.union(union_id)

    def _join_on_chain(self, union_id: str, wait: float) -> None:
        from kraken_market.trade.unions import join_for_session

        join_for_session(self.api, self.ledger, union_id, self._employee, wait=wait)

    def _check_signer(self, products: list[str]) -> None:
        """Acting for a company, its Depute tool must be there to sign for its products
        among ``products``, and this session able to say who asks."""
        from kraken_market.trade.unions import company_desk

        company = self.api.me().get("company")
        if company:
            company_desk(self.api, str(company), products, self._employee)

    def _employee(self) -> Employee:
        if self.employee is None:
            raise InvalidRequest(
                "this session acts for a company, whose products only its Depute tool may "
                "put in a union on chain, and the tool asks who you are: open the session "
                "with Marketplace.login(wallet, passphrase=..., act_for=...)"
            )
        if not self.employee.persons:
            raise InvalidRequest(
                "the company's Depute tool asks for your PersonCredential, and this wallet "
                "holds none: receive one into the wallet, then log in again"
            )
        return self.employee

    def reclaim(self, request_id: str) -> Reclaimed:
        """Take back the held payment of a computation the nodes did not deliver by its
        deadline. A computation a node refused for a reason that was not yours was
        refunded at once: this then raises ``nothing_to_reclaim`` naming the refund's
        transaction (as it says how long is left before the deadline)."""
        from kraken_market.trade.refunds import reclaim

        return reclaim(self.ledger, request_id)

    def buy_access(
        self,
        product: str,
        purpose: str = "research",
        *,
        max_price: Amount | None = None,
        again: bool = False,
    ) -> Bought:
        """Buy access to a batch product, paying at most ``max_price`` DATA (default: the
        price now); a higher price is refused (``price_changed``) and nothing is paid.
        One this account bought before is refused (``already_bought``) unless ``again``."""
        from kraken_market.trade.buy import buy_access

        limit = None if max_price is None else self.units(max_price, "max_price")
        return self._bought(buy_access(self.api, self.ledger, product, purpose, limit, again=again))

    def subscribe(
        self,
        product: str,
        seconds: int,
        purpose: str = "research",
        *,
        max_price: Amount | None = None,
        extend: bool = False,
    ) -> Bought:
        """Buy ``seconds`` of a stream, paying at most ``max_price`` DATA; while paid time
        is left, refused (``subscription_active``) unless ``extend`` (then added to it)."""
        from kraken_market.trade.buy import subscribe

        limit = None if max_price is None else self.units(max_price, "max_price")
        bought = subscribe(self.api, self.ledger, product, purpose, seconds, limit, extend=extend)
        return self._bought(bought)

    def _bought(self, purchase: Purchase) -> Bought:
        return Bought(
            item=purchase.item,
            purchase_id=purchase.purchase_id,
            price=self.token.decimal(purchase.amount),
            price_units=purchase.amount,
            transaction=purchase.transaction,
            paid_until=purchase.paid_until,
        )
