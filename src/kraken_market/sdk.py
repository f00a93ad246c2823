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
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import InvalidRequest
from kraken_market.identity.errors import WrongAudience
from kraken_market.identity.wallet import Wallet
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import NotDeployed
from kraken_market.settings import Settings

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]

    from kraken_market.ledger.client import Ledger
    from kraken_market.trade.buy import Purchase


def marketplace_deployment(api: MarketClient, config: Settings, url: str) -> Deployment:
    """The contracts the marketplace at ``url`` uses, as it names them; else (an API
    that does not say) the deployment file of the configured data directory; else an
    error that says what to set. Never a file relative to wherever the script runs."""
    try:
        return Deployment.model_validate(api.deployment())
    except ApiError as exc:
        if exc.api_code not in ("not_deployed", "not_found"):
            raise
        named = exc.message
    path = config.deployment_file.resolve()
    if path.is_file():
        return Deployment.load(path)
    raise NotDeployed(
        f"the marketplace at {url} names no contracts ({named}) and there is no "
        f"deployment file at {path}: start the platform ('make up') and try again, or set "
        "KRAKEN_DATA_DIR to the directory holding its deployment.json",
        details={"api_url": url, "deployment_file": str(path)},
    )


class Marketplace:
    def __init__(self, api: MarketClient, ledger: Ledger, jobs_dir: Path) -> None:
        self.api, self.ledger, self.jobs_dir = api, ledger, jobs_dir

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
        api = MarketClient.connect(url, session["session_token"])
        try:
            deployment = marketplace_deployment(api, config, url)
            chain_url = config.resolved_chain_url
            ledger = Ledger(connect(chain_url), deployment, holder.keys.account)
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
        return cls(api, ledger, config.data_dir / "analytics")

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> Marketplace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def search(
        self, q: str | None = None, *, eligible: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Listed products matching words and filters (the first page of ``limit``).

        With ``eligible=True`` (and a ``purpose``), only those you may buy for that
        purpose now: your credentials meet the policy, you are bound to an account, the
        product is on chain and not yours (the marketplace checks each, recording
        nothing). An empty list then means nothing on the page is for you: search
        without it and read each product's ``policy``."""
        items: list[dict[str, Any]] = self.api.search_products(q=q, **filters)["items"]
        if not eligible:
            return items
        purpose = filters.get("purpose")
        if purpose is None:
            raise InvalidRequest("eligible=True needs a purpose, e.g. purpose='research'")
        return [p for p in items if self.api.eligibility(p["id"], str(purpose))["eligible"]]

    def eligibility(self, product: str, purpose: str = "research") -> dict[str, Any]:
        """Whether you may buy ``product`` for ``purpose`` now; if not, ``refusal`` says
        why (``code``, ``message``: what to do) before anything is paid."""
        return self.api.eligibility(product, purpose)

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
        pass ``products=[]``. Pass the same ``request_id`` to resume after an
        interruption: nothing is paid twice."""
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

    def buy_access(self, product: str, purpose: str = "research") -> Purchase:
        from kraken_market.trade.buy import buy_access

        return buy_access(self.api, self.ledger, product, purpose)

    def subscribe(self, product: str, seconds: int, purpose: str = "research") -> Purchase:
        from kraken_market.trade.buy import subscribe

        return subscribe(self.api, self.ledger, product, purpose, seconds)
