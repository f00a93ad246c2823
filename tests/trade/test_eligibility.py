"""The verifier's policy check, rule by rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kraken_market.catalog.schemas import Policy
from kraken_market.catalog.vocabulary import BuyerCategory, Purpose
from kraken_market.errors import KrakenError
from kraken_market.trade.eligibility import Buyer, check

NOW = datetime(2026, 11, 24, tzinfo=UTC)
RESEARCHER = Buyer(
    frozenset({"individual", "research-institution"}), "DE", frozenset({"PersonCredential"})
)


def refused(policy: dict[str, object], buyer: Buyer = RESEARCHER, purpose: str = "research") -> str:
    with pytest.raises(KrakenError) as error:
        check(Policy.model_validate(policy), buyer, purpose, NOW)
    details = error.value.details or {}
    return f"{error.value.code}:{details.get('rule', '')}"


def test_a_buyer_meeting_every_rule_passes() -> None:
    policy = {
        "purposes": ["research"],
        "buyer_categories": ["research-institution"],
        "credential_types": ["PersonCredential"],
        "regions": ["EU"],
        "expires_at": (NOW + timedelta(days=1)).isoformat(),
    }
    check(Policy.model_validate(policy), RESEARCHER, "research", NOW)


def test_each_rule_refuses_with_its_name() -> None:
    assert refused({"purposes": ["marketing"]}) == "not_eligible:purpose"
    assert refused({"purposes": ["research"], "buyer_categories": ["company"]}) == (
        "not_eligible:buyer_category"
    )
    assert refused({"purposes": ["research"], "credential_types": ["AttorneyCredential"]}) == (
        "not_eligible:credential_types"
    )
    check(  # DE is in the EEA
        Policy.model_validate({"purposes": ["research"], "regions": ["FR", "EEA"]}),
        RESEARCHER,
        "research",
        NOW,
    )
    assert refused({"purposes": ["research"], "regions": ["US"]}) == "not_eligible:region"
    nowhere = Buyer(RESEARCHER.categories, None, RESEARCHER.credential_types)
    assert refused({"purposes": ["research"], "regions": ["EU"]}, nowhere) == "not_eligible:region"


def test_regions_expand_eu_and_eea() -> None:
    norwegian = Buyer(RESEARCHER.categories, "NO", RESEARCHER.credential_types)
    check(
        Policy.model_validate({"purposes": ["research"], "regions": ["EEA"]}),
        norwegian,
        "research",
        NOW,
    )
    assert (
        refused({"purposes": ["research"], "regions": ["EU"]}, norwegian) == "not_eligible:region"
    )


def test_an_expired_policy_sells_nothing() -> None:
    policy = Policy.model_construct(
        purposes=[Purpose.RESEARCH],
        buyer_categories=[BuyerCategory.INDIVIDUAL],
        credential_types=[],
        regions=[],
        expires_at=NOW - timedelta(seconds=1),
    )
    with pytest.raises(KrakenError) as error:
        check(policy, RESEARCHER, "research", NOW)
    assert error.value.code == "product_not_for_sale"
