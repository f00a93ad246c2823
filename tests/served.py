"""Plain HTTP requests from tests to a served API, a chain node or the Depute tool,
with the CLI's and the SDK's timeout (30 s) instead of httpx's 5 s default.

The suite shares two cores among every xdist worker, the browser, the compute nodes
and the databases; a first request may wait seconds for a core or an fsync. A test
that fails on that fails for the machine's load, not for the code (a CI run lost
its whole landing to one such 5 s read timeout)."""

from __future__ import annotations

from typing import Any

import httpx2

TIMEOUT = httpx2.Timeout(30.0, connect=10.0)


def get(url: str, **kwargs: Any) -> httpx2.Response:
    return httpx2.get(url, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)


def post(url: str, **kwargs: Any) -> httpx2.Response:
    return httpx2.post(url, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)


def put(url: str, **kwargs: Any) -> httpx2.Response:
    return httpx2.put(url, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)


def client(**kwargs: Any) -> httpx2.Client:
    """A client keeping cookies or headers across requests, with the same timeout."""
    return httpx2.Client(timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)
