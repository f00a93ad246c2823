"""The access error tree: every error exported, every code stable and unique."""

from __future__ import annotations

import inspect

from kraken_market.access import errors
from kraken_market.errors import KrakenError


def test_every_error_is_exported_with_a_unique_code() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, KrakenError)
        and value.__module__ == errors.__name__
    }
    assert defined <= set(errors.__all__)
    classes = [getattr(errors, name) for name in errors.__all__]
    codes = [cls.code for cls in classes]
    assert len(set(codes)) == len(codes)
    assert all(cls.code in (errors.__doc__ or "") for cls in classes)
