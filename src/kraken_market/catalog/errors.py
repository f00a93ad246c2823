"""Catalog errors; each ``code`` is part of the public API."""

from __future__ import annotations

from kraken_market.errors import Conflict, Forbidden, InvalidRequest, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"


class UnionNotFound(NotFound):
    code = "union_not_found"


class NotProductOwner(Forbidden):
    code = "not_owner"


class ProductRetired(Conflict):
    code = "product_retired"


class LineageCycle(Conflict):
    code = "lineage_cycle"


class UnknownParent(NotFound):
    code = "unknown_parent"


class PricesDoNotFitMode(Conflict):
    """The prices given are those of another access mode than the product's."""

    code = "prices_do_not_fit_mode"


class InvalidQuery(InvalidRequest):
    code = "invalid_query"


class PolicyExpired(InvalidRequest):
    code = "policy_expired"


class UnknownMember(NotFound):
    code = "unknown_member"


class DuplicateMember(InvalidRequest):
    code = "duplicate_member"


class MemberUnavailable(Conflict):
    code = "member_unavailable"


class UnionModeMismatch(InvalidRequest):
    code = "union_mode_mismatch"


class UnionSchemaMismatch(InvalidRequest):
    code = "union_schema_mismatch"


class UnionExists(Conflict):
    code = "union_exists"


class UnionNotPending(Conflict):
    code = "union_not_pending"


class NotUnionMemberOwner(Forbidden):
    code = "not_member_owner"
