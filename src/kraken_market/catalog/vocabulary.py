"""The fixed vocabularies a product policy is written in.

They are closed sets because a grant (ledger issue) and the verifier's policy
check must mean the same thing everywhere; the bit positions are stored in the
database for fast filtering, so only ever append, never reorder.
"""

from __future__ import annotations

from enum import StrEnum

import pycountry


class AccessMode(StrEnum):
    BATCH = "batch"
    STREAM = "stream"
    ANALYTICS = "analytics"


class Availability(StrEnum):
    LISTED = "listed"
    PAUSED = "paused"
    RETIRED = "retired"


class Purpose(StrEnum):
    RESEARCH = "research"
    PUBLIC_HEALTH = "public-health"
    COMMERCIAL = "commercial"
    MARKETING = "marketing"
    EDUCATION = "education"


class BuyerCategory(StrEnum):
    INDIVIDUAL = "individual"
    COMPANY = "company"
    RESEARCH_INSTITUTION = "research-institution"
    PUBLIC_BODY = "public-body"


PURPOSE_BITS: dict[Purpose, int] = {p: 1 << i for i, p in enumerate(Purpose)}
BUYER_CATEGORY_BITS: dict[BuyerCategory, int] = {c: 1 << i for i, c in enumerate(BuyerCategory)}

REGION_GROUPS = frozenset({"EU", "EEA"})
"""Region names accepted beside ISO 3166-1 alpha-2 country codes."""


REGIONS: tuple[str, ...] = tuple(sorted({c.alpha_2 for c in pycountry.countries} | REGION_GROUPS))
"""Every accepted region: ISO 3166-1 alpha-2 codes (from pycountry), EU and EEA."""


def is_region(code: str) -> bool:
    return code in REGIONS


def mask_of(values: list[Purpose] | list[BuyerCategory]) -> int:
    bits: dict[Purpose, int] | dict[BuyerCategory, int]
    mask = 0
    for value in values:
        bits = PURPOSE_BITS if isinstance(value, Purpose) else BUYER_CATEGORY_BITS
        mask |= bits[value]  # type: ignore[index]
    return mask
