"""The storage error tree: every error exported, every code stable, unique and documented."""

from __future__ import annotations

import inspect

from kraken_market.errors import KrakenError
from kraken_market.storage import errors


def test_every_error_is_exported_with_a_unique_documented_code() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, KrakenError)
        and value.__module__ == errors.__name__
    }
    assert defined == set(errors.__all__)
    codes = [getattr(errors, name).code for name in errors.__all__]
    assert len(set(codes)) == len(codes)
    assert all(code in (errors.__doc__ or "") for code in codes)
