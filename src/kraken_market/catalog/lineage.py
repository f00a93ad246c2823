"""Lineage: which products a curated or derived product was made from.

Edges live in ``product_parents``; walks use recursive CTEs (standard SQL,
the same on SQLite and PostgreSQL). The graph stays acyclic: a change of
parents is refused when the product is among the new parents' ancestors.
The ledger registry enforces the same by construction (parents must exist
before a child is published).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import delete, literal, select, text
from sqlalchemy.orm import Session

from kraken_market.catalog.errors import LineageCycle, UnknownParent
from kraken_market.catalog.models import Product, ProductParent
from kraken_market.catalog.schemas import LineageEdge, LineageGraph, LineageNode
from kraken_market.catalog.vocabulary import Availability

_LINEAGE_LOCK = 0x4C494E45  # "LINE": serialises parent changes on PostgreSQL


class Direction(StrEnum):
    ANCESTORS = "ancestors"
    DESCENDANTS = "descendants"
    BOTH = "both"


def _walk(session: Session, start: list[str], up: bool, depth: int | None) -> dict[str, int]:
    """Ids reachable from ``start`` (parents if ``up``) with their smallest distance (>= 1)."""
    if not start:
        return {}
    near, far = (
        (ProductParent.child_id, ProductParent.parent_id)
        if up
        else (ProductParent.parent_id, ProductParent.child_id)
    )
    seed = select(far.label("id"), literal(1).label("depth")).where(near.in_(start))
    walk = seed.cte("walk", recursive=True)
    step = select(far.label("id"), (walk.c.depth + 1).label("depth")).join(walk, near == walk.c.id)
    if depth is not None:
        step = step.where(walk.c.depth < depth)
    else:
        # Without a depth limit, UNION (not UNION ALL) still terminates on an
        # acyclic graph; the bound guards against a corrupted one.
        step = step.where(walk.c.depth < 10_000)
    walk = walk.union(step)
    found: dict[str, int] = {}
    for row in session.execute(select(walk.c.id, walk.c.depth)):
        found[row.id] = min(found.get(row.id, row.depth), row.depth)
    return found


def ancestors(session: Session, product_ids: list[str]) -> set[str]:
    return set(_walk(session, product_ids, up=True, depth=None))


def check_parents(session: Session, product_id: str | None, parents: list[str]) -> None:
    """Parents must exist and must not make ``product_id`` its own ancestor."""
    if not parents:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LINEAGE_LOCK})
    known = set(session.scalars(select(Product.id).where(Product.id.in_(parents))))
    missing = [p for p in parents if p not in known]
    if missing:
        raise UnknownParent("parent products must exist", details={"unknown": missing})
    if product_id is None:
        return
    if product_id in parents or product_id in ancestors(session, parents):
        raise LineageCycle(
            "a product cannot be its own ancestor",
            details={"product": product_id, "parents": parents},
        )


def set_parents(session: Session, product_id: str, parents: list[str]) -> None:
    session.execute(delete(ProductParent).where(ProductParent.child_id == product_id))
    session.add_all(ProductParent(child_id=product_id, parent_id=p) for p in parents)


def graph(session: Session, product: Product, direction: Direction, depth: int) -> LineageGraph:
    """The product's ancestors and/or descendants up to ``depth`` generations."""
    depths: dict[str, int] = {product.id: 0}
    if direction in (Direction.ANCESTORS, Direction.BOTH):
        for pid, d in _walk(session, [product.id], up=True, depth=depth).items():
            depths.setdefault(pid, -d)
    if direction in (Direction.DESCENDANTS, Direction.BOTH):
        for pid, d in _walk(session, [product.id], up=False, depth=depth).items():
            depths.setdefault(pid, d)
    ids = list(depths)
    rows = session.execute(
        select(Product.id, Product.title, Product.owner, Product.availability).where(
            Product.id.in_(ids)
        )
    ).all()
    edges = session.execute(
        select(ProductParent.parent_id, ProductParent.child_id).where(
            ProductParent.parent_id.in_(ids), ProductParent.child_id.in_(ids)
        )
    ).all()
    nodes = [
        LineageNode(
            id=r.id,
            title=r.title,
            owner=r.owner,
            availability=Availability(r.availability),
            depth=depths[r.id],
        )
        for r in rows
    ]
    nodes.sort(key=lambda n: (n.depth, n.id))
    return LineageGraph(
        product=product.id,
        nodes=nodes,
        edges=sorted(
            (LineageEdge(parent=e.parent_id, child=e.child_id) for e in edges),
            key=lambda e: (e.parent, e.child),
        ),
    )
