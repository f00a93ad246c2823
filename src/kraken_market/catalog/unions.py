"""Data Unions: several products sold as one, revenue split by weight.

A union's id is keccak-256 of its sorted member ids (:func:`ids.union_id`),
so one set of products makes exactly one union, here and on the ledger. A
union needs the consent of every member's owner: members owned by the
creator consent by creating it, other owners consent with
``POST /unions/{id}/consent``; until then it is ``pending`` and cannot be
sold. A pending union does not hold its members forever: any member's owner
withdraws it (``POST /unions/{id}/reject``), and after ``PENDING_DAYS`` without
every consent a new proposal of the same members replaces it (the chain's
``Registry`` follows the same rules). Members share one access mode; analytics
members share one schema, since a computation over the union reads every
member's shares as one table.

Buyers pay the chain, not the catalog: a union every owner consented to here is
``awaiting_chain`` until the API's indexer has seen the ``Registry`` create it
(``UnionCreated``: proposed and consented on chain by the same owners, which
``kraken-market unions create``/``consent`` and the SDK do from each owner's
wallet, :mod:`kraken_market.trade.unions`); only then is it ``active`` and sold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kraken_market.catalog.errors import (
    DuplicateMember,
    MemberUnavailable,
    NotUnionMemberOwner,
    UnionExists,
    UnionModeMismatch,
    UnionNotFound,
    UnionNotPending,
    UnionSchemaMismatch,
    UnknownMember,
)
from kraken_market.catalog.ids import union_id
from kraken_market.catalog.models import DataUnion, Product, UnionMember
from kraken_market.catalog.schemas import UnionCreate, UnionMemberPublic, UnionPublic
from kraken_market.catalog.vocabulary import AccessMode, Availability
from kraken_market.db.base import utcnow
from kraken_market.identity.principal import Principal
from kraken_market.ledger.models import ChainEventRecord
from kraken_market.pagination import SortKey, after, decode_cursor, fingerprint, next_cursor
from kraken_market.types import ProductId

PENDING_DAYS = 30
PENDING = timedelta(days=PENDING_DAYS)
"""How long a proposal holds its members without every owner's consent."""

UnionStatus = Literal["pending", "awaiting_chain", "active"]
"""``pending``: waiting for the consent of member owners; ``awaiting_chain``: every
owner consented, but the chain has not created the union yet (nothing can be paid
for it); ``active``: on chain, for sale."""


def _schema_key(schema: dict[str, Any] | None) -> Any:
    """What must be equal for members to be computed on as one table (descriptions and the
    sellers' own column labels may differ: computations read the identifiers)."""
    if schema is None:
        return None
    return [
        {k: v for k, v in c.items() if k not in ("description", "label")} for c in schema["columns"]
    ]


class UnionService:
    def __init__(self, session: Session, contracts: Sequence[str] = ()) -> None:
        """``contracts``: the deployment's Registry (and Market) addresses, whose events
        say which unions exist on chain (any indexed contract's, when empty)."""
        self.session = session
        self.contracts = list(contracts)

    def get(self, id_: str) -> DataUnion:
        union = self.session.scalar(select(DataUnion).where(DataUnion.id == id_.lower()))
        if union is None:
            raise UnionNotFound(f"no union {id_}", details={"id": id_})
        return union

    def create(self, principal: Principal, data: UnionCreate) -> DataUnion:
        ids = [m.product_id for m in data.members]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise DuplicateMember(
                "each product can be a member once", details={"repeated": repeated}
            )
        # Lock the members (PostgreSQL): a concurrent retire waits for this union.
        products = {
            p.id: p
            for p in self.session.scalars(
                select(Product).where(Product.id.in_(ids)).with_for_update()
            )
        }
        unknown = [i for i in ids if i not in products]
        if unknown:
            raise UnknownMember(
                "union members must be existing products", details={"unknown": unknown}
            )
        retired = [i for i in ids if products[i].availability == Availability.RETIRED]
        if retired:
            raise MemberUnavailable(
                "retired products cannot join a union", details={"retired": retired}
            )
        if not any(p.owner == principal.account for p in products.values()):
            raise NotUnionMemberOwner(
                "create a union that includes at least one product of yours",
                details={"account": principal.account},
            )
        modes = {p.access_mode for p in products.values()}
        if len(modes) > 1:
            raise UnionModeMismatch(
                "union members must share one access mode", details={"modes": sorted(modes)}
            )
        mode = AccessMode(modes.pop())
        schemas = {i: _schema_key(products[i].data_schema) for i in ids}
        first = schemas[ids[0]]
        if mode is AccessMode.ANALYTICS and any(s != first for s in schemas.values()):
            raise UnionSchemaMismatch(
                "analytics union members must have the same schema (column names, types, "
                "units, ranges and categories)",
                details={"differs_from_first": [i for i in ids if schemas[i] != first]},
            )
        uid = union_id([ProductId(i) for i in ids])
        now = utcnow()
        existing = self.session.scalar(select(DataUnion).where(DataUnion.id == uid))
        if existing is not None:
            if existing.status != "pending" or existing.created_at > now - PENDING:
                raise UnionExists("a union of exactly these products exists", details={"id": uid})
            self._drop(existing)  # lapsed unconsented: the members are free again
        union = DataUnion(
            id=uid,
            title=data.title,
            description=data.description,
            creator=principal.account,
            access_mode=mode.value,
            data_schema=products[ids[0]].data_schema if mode is AccessMode.ANALYTICS else None,
            status="pending",
            created_at=now,
        )
        self.session.add(union)
        for position, member in enumerate(data.members):
            own = products[member.product_id].owner == principal.account
            self.session.add(
                UnionMember(
                    union_id=uid,
                    product_id=member.product_id,
                    position=position,
                    weight=member.weight,
                    consented_by=principal.account if own else None,
                    consented_at=now if own else None,
                )
            )
        try:
            self.session.flush()
            self._activate_if_complete(union)
            self.session.commit()
        except IntegrityError as exc:  # a concurrent request created the same union
            self.session.rollback()
            raise UnionExists(
                "a union of exactly these products exists", details={"id": uid}
            ) from exc
        return union

    def consent(self, principal: Principal, id_: str) -> DataUnion:
        """Record the caller's consent for every member product they own."""
        # Lock the union (PostgreSQL) so that concurrent consents see each other
        # and the last one activates it.
        union = self.session.scalar(
            select(DataUnion).where(DataUnion.id == id_.lower()).with_for_update()
        )
        if union is None:
            raise UnionNotFound(f"no union {id_}", details={"id": id_})
        mine = [
            member
            for member, owner in self._members_with_owners(union)
            if owner == principal.account
        ]
        if not mine:
            raise NotUnionMemberOwner(
                "only owners of member products consent to a union", details={"id": union.id}
            )
        now = utcnow()
        for member in mine:
            if member.consented_by is None:
                member.consented_by, member.consented_at = principal.account, now
        self.session.flush()
        self._activate_if_complete(union)
        self.session.commit()
        return union

    def reject(self, principal: Principal, id_: str) -> None:
        """Withdraw a pending union as the owner of one of its members: it is gone, and
        its members may be proposed again (with other weights)."""
        union = self.session.scalar(
            select(DataUnion).where(DataUnion.id == id_.lower()).with_for_update()
        )
        if union is None:
            raise UnionNotFound(f"no union {id_}", details={"id": id_})
        if not any(owner == principal.account for _, owner in self._members_with_owners(union)):
            raise NotUnionMemberOwner(
                "only owners of member products reject a union", details={"id": union.id}
            )
        if union.status != "pending":
            raise UnionNotPending(
                "an active union is not withdrawn; its members' owners can retire them",
                details={"id": union.id},
            )
        self._drop(union)
        self.session.commit()

    def _drop(self, union: DataUnion) -> None:
        self.session.execute(delete(UnionMember).where(UnionMember.union_id == union.id))
        self.session.delete(union)
        self.session.flush()

    def _activate_if_complete(self, union: DataUnion) -> None:
        pending = self.session.scalar(
            select(UnionMember.product_id).where(
                UnionMember.union_id == union.id, UnionMember.consented_by.is_(None)
            )
        )
        if pending is None:
            union.status = "active"

    def _members_with_owners(self, union: DataUnion) -> list[tuple[UnionMember, str]]:
        rows = self.session.execute(
            select(UnionMember, Product.owner)
            .join(Product, Product.id == UnionMember.product_id)
            .where(UnionMember.union_id == union.id)
            .order_by(UnionMember.position)
        ).all()
        return [(member, owner) for member, owner in rows]

    def on_chain(self, ids: Sequence[str]) -> set[str]:
        """Which of the unions ``ids`` the indexer has seen created on chain."""
        if not ids:
            return set()
        query = select(ChainEventRecord.item).where(
            ChainEventRecord.name == "UnionCreated",
            ChainEventRecord.item.in_([i.lower() for i in ids]),
        )
        if self.contracts:
            query = query.where(ChainEventRecord.address.in_(self.contracts))
        return {item for item in self.session.scalars(query) if item is not None}

    def status(self, union: DataUnion, on_chain: bool | None = None) -> UnionStatus:
        """Where the union stands for a buyer (``on_chain``: known already, else read)."""
        if union.status != "active":
            return "pending"
        if on_chain is None:
            on_chain = bool(self.on_chain([union.id]))
        return "active" if on_chain else "awaiting_chain"

    def members(self, union: DataUnion) -> list[UnionMemberPublic]:
        rows = self._members_with_owners(union)
        return [
            UnionMemberPublic(
                product_id=m.product_id,
                owner=owner,
                weight=m.weight,
                consented=m.consented_by is not None,
            )
            for m, owner in rows
        ]

    def public(self, union: DataUnion, on_chain: bool | None = None) -> UnionPublic:
        return UnionPublic(
            id=union.id,
            title=union.title,
            description=union.description,
            creator=union.creator,
            access_mode=AccessMode(union.access_mode),
            data_schema=union.data_schema,
            status=self.status(union, on_chain),
            members=self.members(union),
            created_at=union.created_at,
        )

    def list(
        self, member: str | None, limit: int, cursor: str | None
    ) -> tuple[list[DataUnion], str | None]:
        """Unions, newest first, optionally those containing product ``member``."""
        keys = [SortKey(DataUnion.seq, descending=True)]
        filters = fingerprint(member=member)
        statement = select(DataUnion, DataUnion.seq)
        if member is not None:
            statement = statement.where(
                DataUnion.id.in_(
                    select(UnionMember.union_id).where(UnionMember.product_id == member)
                )
            )
        if cursor:
            statement = statement.where(after(keys, decode_cursor(cursor, "unions", filters, keys)))
        rows = self.session.execute(statement.order_by(DataUnion.seq.desc()).limit(limit + 1)).all()
        page = [row[0] for row in rows[:limit]]
        if len(rows) <= limit:
            return page, None
        return page, next_cursor("unions", filters, keys, rows[limit - 1][1:])
