"""KCIT's error codes are public API: each class has its own code and HTTP status."""

from __future__ import annotations

from kraken_market.companies import errors
from kraken_market.errors import KrakenError


def test_each_error_has_its_documented_code_and_status() -> None:
    classes = [
        c
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, KrakenError) and c.__module__ == errors.__name__
    ]
    assert {c.code: c.status for c in classes} == {
        "invalid_lei": 422,
        "invalid_country": 422,
        "company_identifier_required": 422,
        "admin_required": 403,
        "not_representative": 403,
        "representative_private": 403,
        "company_not_found": 404,
        "company_exists": 409,
        "company_status_conflict": 409,
    }
    assert all(c.code in (errors.__doc__ or "") for c in classes), "the tree drawn is complete"
