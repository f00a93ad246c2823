"""The request guard: body limits, request ids, no secrets in logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kraken_market.logs import configure_logging
from tests.conftest import Account
from tests.crash_bodies import assert_no_body_crashes


def test_streamed_body_over_the_limit_is_413(
    http: TestClient, alice: Account, app: FastAPI
) -> None:
    limit = app.state.settings.max_request_bytes

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(limit // 1000 + 2):
            yield b" " * 1000

    answer = http.post("/api/v1/products", content=chunks(), headers=alice.headers)
    assert (answer.status_code, answer.json()["code"]) == (413, "payload_too_large")
    answer = http.post(
        "/api/v1/products", content=b"{}", headers={**alice.headers, "Content-Length": "x"}
    )
    assert answer.status_code == 400
    huge = http.post(  # more digits than int() takes: still a clean 413
        "/api/v1/products", content=b"{}", headers={**alice.headers, "Content-Length": "9" * 5000}
    )
    assert (huge.status_code, huge.json()["code"]) == (413, "payload_too_large")


def test_a_500_is_logged_with_its_request_id_and_without_secrets(
    app: FastAPI, alice: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(app.state.settings)
    try:

        @app.post("/boom")
        def boom(body: dict[str, str]) -> None:
            secret = body["secret"]
            raise RuntimeError("failed " + secret[:0])

        client = TestClient(app, raise_server_exceptions=False)
        answer = client.post(
            "/boom",
            json={"secret": "plaintext-data-42"},
            headers={**alice.headers, "x-request-id": "req-123"},
        )
        assert answer.status_code == 500
        assert answer.headers["x-request-id"] == "req-123"
        logged = capsys.readouterr().err
        assert "req-123" in logged and "unexpected_error" in logged
        assert alice.token not in logged
        assert "plaintext-data-42" not in logged
    finally:
        logging.getLogger().handlers.clear()


def test_deeply_nested_json_is_refused_before_parsing(http: TestClient) -> None:
    """In a process whose recursion limit eth-account raised, json.loads of ~100,000
    '[' would crash the server (kraken_market.jsondepth); the guard answers 400."""
    import sys

    import eth_account  # noqa: F401  (what a binding request imports in the API)

    assert sys.getrecursionlimit() >= 100_000
    for body in (b"[" * 100_000, b'{"presentation": ' + b"[" * 65 + b"]" * 65 + b"}"):
        answer = http.post(
            "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
        )
        assert (answer.status_code, answer.json()["code"]) == (400, "json_too_deep")
    shallow = http.post("/api/v1/auth/login", json={"presentation": [[[1]]]})
    assert shallow.status_code == 422


def test_no_body_crashes_the_api_whatever_its_content_type(
    http: TestClient, alice: Account, app: FastAPI
) -> None:
    sent = assert_no_body_crashes(http, app.state.settings.max_request_bytes, alice.headers)
    assert sent > 300  # every body-taking route, each crash body
    assert http.get("/healthz").status_code == 200


def test_several_content_types_are_refused(http: TestClient, alice: Account) -> None:
    """The guard and a parser could read different ones: a deep body declared JSON and
    then opaque would slip past the depth check into FastAPI's JSON parser."""
    import eth_account  # noqa: F401 - the recursion limit of the servers

    headers = [
        ("authorization", alice.headers["Authorization"]),
        ("content-type", "application/json"),
        ("content-type", "application/octet-stream"),
    ]
    answer = http.post("/api/v1/products", content=b"[" * 200_000, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (400, "bad_request")
