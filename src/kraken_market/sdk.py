"""The Python SDK for data scientists: log in with your wallet, buy, get a DataFrame.

::

    from kraken_market.sdk import Marketplace

    market = Marketplace.login("~/.kraken/wallet.json", passphrase="...")
    found = market.search("heart rate", mode="analytics")
    table = market.compute("mean@1", [found[0]["id"]], columns=["age", "bpm"])
    print(table)                          # a pandas DataFrame

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

from kraken_market.client import MarketClient
from kraken_market.identity.errors import WrongAudience
from kraken_market.identity.wallet import Wallet
from kraken_market.settings import Settings

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]

    from kraken_market.ledger.client import Ledger
    from kraken_market.trade.buy import Purchase
    from kraken_market.trade.refunds import Reclaimed


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
        from kraken_market.ledger.deployment import Deployment

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
        deployment = Deployment.load(config.deployment_file)
        ledger = Ledger(connect(config.resolved_chain_url), deployment, holder.keys.account)
        return cls(api, ledger, config.data_dir / "analytics")

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> Marketplace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def search(self, q: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Listed products matching words and filters (first page)."""
        items: list[dict[str, Any]] = self.api.search_products(q=q, **filters)["items"]
        return items

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
        interruption: nothing is paid twice. A job the nodes refuse raises
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

    def reclaim(self, request_id: str) -> Reclaimed:
        """Take back the held payment of a computation the nodes did not deliver by its
        deadline. A computation a node refused for a reason that was not yours was
        refunded at once: this then raises ``nothing_to_reclaim`` naming the refund's
        transaction (as it says how long is left before the deadline)."""
        from kraken_market.trade.refunds import reclaim

        return reclaim(self.ledger, request_id)

    def buy_access(self, product: str, purpose: str = "research") -> Purchase:
        from kraken_market.trade.buy import buy_access

        return buy_access(self.api, self.ledger, product, purpose)

    def subscribe(self, product: str, seconds: int, purpose: str = "research") -> Purchase:
        from kraken_market.trade.buy import subscribe

        return subscribe(self.api, self.ledger, product, purpose, seconds)
