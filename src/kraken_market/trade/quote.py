"""The quote: what a computation will cost, and whether it can be delivered, before
anyone pays (runs in the API).

A paid computation that the nodes then refuse holds the buyer's money until
the nodes refund it or its deadline passes; one that runs over too few rows is
paid and answers ``suppressed``. The quote makes every check the backend can
make without the data, the same checks the nodes make before they touch a
share (``smpc.node.service.NodeService._check``), and answers all problems at
once rather than the first:

- the request: the function is in the catalogue, its parameters, columns and
  filter fit the products' schemas and declared ranges (``smpc.functions.plan``
  on the manifests' public part: columns, schema, row count);
- every product: an analytics product, listed, published on chain by an
  account its seller registered, with a share set whose manifest the owner
  signed and whose share files are in the platform's storage, made for the
  compute nodes registered now (their number, threshold and keys);
- a Data Union: active, and the products are its members;
- the buyer: eligible under each item's policy (the verifier's own check,
  ``trade.grants``), its DID bound to an account, not the owner;
- the cohort: at least ``min_cohort`` rows (and no less than the nodes'
  floor), else the result would be suppressed.

The price is read from the chain's terms as the indexer saw them (a union
costs the sum of its members' prices, as ``Registry.terms`` computes it); the
payment itself is capped at the quoted price (``max_amount``), so a price
raised in between makes the payment fail rather than cost more.

Nothing here reads shares or data: the manifest is public metadata signed by
the owner, and share files are only checked to exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kraken_market.catalog.models import UnionMember
from kraken_market.catalog.service import ProductService
from kraken_market.catalog.unions import UnionService
from kraken_market.errors import KrakenError
from kraken_market.identity.principal import Principal
from kraken_market.smpc.functions.plan import plan
from kraken_market.smpc.functions.spec import ComputationSpec
from kraken_market.smpc.keys import NodePublicKey
from kraken_market.smpc.manifest import Manifest
from kraken_market.smpc.share_set import NodeSet, checked_share_set
from kraken_market.smpc.storage import ShareStorage
from kraken_market.trade.chain_state import chain_state
from kraken_market.trade.computations import ComputationService
from kraken_market.trade.grants import GrantService

DEFAULT_COHORT_FLOOR = 10
"""The nodes' default floor for ``min_cohort`` (``smpc.config.NodeConfig``), used when
no node answers with its own."""


NOT_A_BUYER = frozenset({"not_eligible", "binding_required"})
"""Refusals after which the quote does not tell the products' row counts (the manifests
are the nodes' to read; a buyer the policy admits learns the count it pays for)."""


@dataclass
class Problem:
    """One reason the job would fail (``problems``) or might be suppressed (``warnings``)."""

    code: str
    message: str
    item: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "item": self.item}


@dataclass
class QuotedItem:
    item: str
    kind: str  # "product" or "union"
    title: str | None
    price: int | None  # base units, from the chain; None: not on chain


@dataclass
class QuotedProduct:
    product: str
    title: str | None
    rows: int | None  # from the signed manifest; None: no valid share set


@dataclass
class Quote:
    function: str
    purpose: str
    items: list[QuotedItem] = field(default_factory=list)
    products: list[QuotedProduct] = field(default_factory=list)
    min_cohort: int = DEFAULT_COHORT_FLOOR
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def payable(self) -> bool:
        return not self.problems

    @property
    def price(self) -> int | None:
        prices = [i.price for i in self.items]
        return None if any(p is None for p in prices) else sum(p for p in prices if p is not None)

    @property
    def rows(self) -> int | None:
        rows = [p.rows for p in self.products]
        return None if any(r is None for r in rows) else sum(r for r in rows if r is not None)

    def as_json(self) -> dict[str, Any]:
        price = self.price
        return {
            "payable": self.payable,
            "function": self.function,
            "purpose": self.purpose,
            "price": None if price is None else str(price),
            "items": [
                {
                    "item": i.item,
                    "kind": i.kind,
                    "title": i.title,
                    "price": None if i.price is None else str(i.price),
                }
                for i in self.items
            ],
            "products": [
                {"product": p.product, "title": p.title, "rows": p.rows} for p in self.products
            ],
            "rows": self.rows,
            "min_cohort": self.min_cohort,
            "problems": [p.as_json() for p in self.problems],
            "warnings": [w.as_json() for w in self.warnings],
        }


NodeInfos = Callable[[], Sequence[Mapping[str, Any]]]
"""The compute nodes' own descriptions (``GET /node``: index, m, t, hpke_public_key,
min_cohort_floor), one per registered node; a node that does not answer is left out."""


class QuoteService:
    def __init__(
        self,
        session: Session,
        storage: ShareStorage,
        nodes: NodeInfos,
        contracts: Sequence[str] = (),
    ) -> None:
        """``contracts``: the deployment's Registry and Market (``GrantService``)."""
        self.session, self.storage, self.nodes = session, storage, nodes
        self.contracts = contracts

    def quote(
        self,
        principal: Principal,
        computation: Mapping[str, Any],
        products: Sequence[str],
        purpose: str,
        now: datetime,
        union: str | None = None,
    ) -> Quote:
        quote = Quote(function=str(computation.get("function", "")), purpose=purpose)
        spec = self._spec(quote, computation)
        products = [p.lower() for p in dict.fromkeys(products)]
        if union is not None:
            products = self._union(quote, union.lower(), products)
        nodes = self._node_set(quote)
        manifests: list[Manifest] = []
        for product_id in products:
            manifest = self._product(quote, product_id, nodes, sold_alone=union is None)
            if manifest is not None:
                manifests.append(manifest)
        items = [union.lower()] if union is not None else products
        for item in items:
            with self._collect(quote, item):
                GrantService(self.session, None, timedelta(0), self.contracts).check(
                    principal, item, purpose, now
                )
        if union is not None:
            quote.items.append(self._union_item(union.lower(), quote.products))
        if any(p.code in NOT_A_BUYER for p in quote.problems):
            for entry in quote.products:  # a table's size is for those who may buy from it
                entry.rows = None
        floor = max([DEFAULT_COHORT_FLOOR, *(int(n.get("min_cohort_floor") or 0) for n in nodes)])
        if spec is None:
            return quote
        quote.min_cohort = spec.min_cohort
        if spec.min_cohort < floor:
            quote.problems.append(
                Problem(
                    "cohort_below_floor",
                    f"the compute nodes compute only over at least {floor} rows: ask for "
                    f"min_cohort {floor} or more (you asked {spec.min_cohort})",
                )
            )
        if len(manifests) == len(products) and products:
            with self._collect(quote, None):
                plan(spec, [(m.columns, m.schema, m.rows) for m in manifests])
            self._cohort(quote, spec, max(floor, spec.min_cohort))
        return quote

    # -- the request ----------------------------------------------------------------

    def _spec(self, quote: Quote, computation: Mapping[str, Any]) -> ComputationSpec | None:
        try:
            return ComputationSpec.model_validate(dict(computation))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "computation"
            quote.problems.append(
                Problem("computation_invalid", f"the computation's {where}: {first['msg']}")
            )
            return None

    def _union(self, quote: Quote, union: str, products: list[str]) -> list[str]:
        with self._collect(quote, union):
            UnionService(self.session).get(union)  # union_not_found
        members = list(
            self.session.scalars(
                select(UnionMember.product_id).where(UnionMember.union_id == union)
            ).all()
        )
        if products and sorted(products) != sorted(members):
            quote.problems.append(
                Problem(
                    "union_members_differ",
                    f"a computation over Data Union {union} runs over all its members: "
                    "leave the products out, or name exactly its members",
                    union,
                )
            )
        return members

    def _union_item(self, union: str, products: list[QuotedProduct]) -> QuotedItem:
        title = None
        with suppress(KrakenError):
            title = UnionService(self.session).get(union).title
        prices = [self._chain_price(p.product) for p in products]
        total = None if any(p is None for p in prices) else sum(p for p in prices if p)
        return QuotedItem(union, "union", title, total)

    # -- each product -----------------------------------------------------------------

    def _product(
        self,
        quote: Quote,
        product_id: str,
        nodes: Sequence[Mapping[str, Any]],
        *,
        sold_alone: bool,
    ) -> Manifest | None:
        computations = ComputationService(self.session, None)
        title: str | None = None
        with suppress(KrakenError):
            title = ProductService(self.session).get(product_id).title
        entry = QuotedProduct(product_id, title, None)
        quote.products.append(entry)
        if sold_alone:
            quote.items.append(
                QuotedItem(product_id, "product", title, self._chain_price(product_id))
            )
        job_input: dict[str, str] | None = None
        with self._collect(quote, product_id):
            job_input = computations.job_input(product_id)
        state = chain_state(self.session, product_id)
        if state.published and state.availability != "listed":
            quote.problems.append(
                Problem(
                    "product_not_for_sale",
                    f"product {product_id} is {state.availability} on chain: no new purchases",
                    product_id,
                )
            )
        if job_input is None:
            return None
        manifest = self._manifest(quote, product_id, job_input, nodes)
        if manifest is None:
            return None
        entry.rows = manifest.rows
        return manifest

    def _manifest(
        self,
        quote: Quote,
        product_id: str,
        job_input: Mapping[str, str],
        nodes: Sequence[Mapping[str, Any]],
    ) -> Manifest | None:
        """The product's signed manifest, if its share set is one the registered nodes can
        compute over (``smpc.share_set``, the nodes' own check, for every node that
        answered; every share file present)."""
        node_set = None
        if nodes:
            keys = {
                int(n["index"]): NodePublicKey(bytes.fromhex(str(n["hpke_public_key"]))).fingerprint
                for n in nodes
            }
            node_set = NodeSet(int(nodes[0]["m"]), int(nodes[0]["t"]), keys)
        with self._collect(quote, product_id):
            return checked_share_set(
                self.storage,
                job_input["manifest"],
                job_input["owner"],
                product_id,
                node_set,
                every_file=True,
            )
        return None

    def _node_set(self, quote: Quote) -> list[Mapping[str, Any]]:
        try:
            nodes = list(self.nodes())
        except KrakenError as exc:
            quote.warnings.append(Problem("nodes_unknown", f"the compute nodes: {exc.message}"))
            return []
        if not nodes:
            quote.warnings.append(
                Problem(
                    "nodes_unknown",
                    "no compute node answered: the share sets were not checked against "
                    "the nodes' keys (the nodes check them before computing)",
                )
            )
        return nodes

    def _chain_price(self, product_id: str) -> int | None:
        prices = chain_state(self.session, product_id).prices
        return None if prices is None else int(prices["computation"])

    # -- the cohort -------------------------------------------------------------------

    def _cohort(self, quote: Quote, spec: ComputationSpec, minimum: int) -> None:
        rows = quote.rows
        if rows is None:
            return
        if rows < minimum:
            quote.problems.append(
                Problem(
                    "cohort_too_small",
                    f"the products hold {rows} rows in all, fewer than the minimum cohort of "
                    f"{minimum}: the result would be suppressed, so nothing is worth paying for",
                )
            )
        elif spec.filter is not None:
            quote.warnings.append(
                Problem(
                    "filter_may_suppress",
                    f"the products hold {rows} rows; if your filter keeps fewer than "
                    f"{minimum}, the result is suppressed (and still paid for: the nodes "
                    "computed it)",
                )
            )

    @contextmanager
    def _collect(self, quote: Quote, item: str | None) -> Iterator[None]:
        """Record a refusal as a problem of the quote instead of stopping at it."""
        try:
            yield
        except KrakenError as exc:
            quote.problems.append(Problem(exc.code, exc.message, item))
