"""Bodies that once crashed a process of the platform, sent to every route of an app.

Each server must answer each of them with a 4xx and a JSON error, whatever the
Content-Type claims, and go on serving. The deep bodies are only dangerous in a
process whose recursion limit py-evm or eth-account raised (the servers' own), so
``assert_no_body_crashes`` imports eth-account first, as they do.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient

DEEP = b"[" * 500_000
CONTENT_TYPES = (
    "application/JSON",
    "Application/Json; charset=utf-8",
    "application/vnd.api+json",
    "text/plain",
    None,
)
HEX32 = "0x" + "ab" * 32


def bodies(max_body: int) -> Iterator[tuple[str, bytes, dict[str, str], bool]]:
    """(what, body, headers, refused) of every crash body for a server taking
    ``max_body``; ``refused``: the guard answers it 400 or 413 on every route."""
    for content_type in CONTENT_TYPES:
        headers = {} if content_type is None else {"Content-Type": content_type}
        deep_object = b'{"a": ' + b"[" * 200 + b"]" * 200 + b"}"
        yield f"deep as {content_type}", DEEP[: max_body - 1], headers, True
        yield f"deep object as {content_type}", deep_object, headers, True
    json = {"Content-Type": "application/json"}
    yield "one byte too large", b" " * (max_body + 1), json, True
    yield "not UTF-8", b'{"a": "\xff\xfe"}', json, False
    yield "truncated", b'{"a": [1, 2', json, False
    yield "not JSON", b"\x00\x01\x02", json, False


def paths(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every operation of the app's OpenAPI description that may
    take a body, its path parameters filled in."""
    for path, operations in app.openapi()["paths"].items():
        for method in sorted(set(operations) & {"post", "put", "patch"}):
            yield method.upper(), re.sub(r"\{[^}]+\}", HEX32, path)


def assert_no_body_crashes(
    client: TestClient,
    max_body: int,
    headers: dict[str, str] | None = None,
    extra_paths: tuple[tuple[str, str], ...] = (),
) -> int:
    """Send every crash body to every body-taking route (and ``extra_paths``, routes
    left out of the OpenAPI description); returns how many were sent. A route that
    takes no body may ignore a malformed one, but never answers 5xx."""
    import eth_account  # noqa: F401 - raises the recursion limit, as in the servers

    assert sys.getrecursionlimit() >= 100_000
    app = client.app
    assert isinstance(app, FastAPI)
    sent = 0
    for method, path in (*paths(app), *extra_paths):
        for what, body, extra, refused in bodies(max_body):
            sent_headers = {**(headers or {}), **extra}
            answer = client.request(method, path, content=body, headers=sent_headers)
            assert answer.status_code < 500, (method, path, what, answer.status_code)
            if refused:
                assert answer.status_code in (400, 413), (method, path, what, answer.status_code)
                assert answer.json()["code"] in ("json_too_deep", "payload_too_large")
            sent += 1
    return sent
