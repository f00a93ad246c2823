"""The API's error contract: JSON with a stable code, right status, never a traceback."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kraken_market.errors import KrakenError
from tests.conftest import Account
from tests.factories import product_body


def test_unknown_route_and_method(http: TestClient) -> None:
    answer = http.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json() == {"code": "not_found", "message": "Not Found", "details": None}
    answer = http.delete("/api/v1/products")
    assert (answer.status_code, answer.json()["code"]) == (405, "method_not_allowed")


def test_malformed_json_body(http: TestClient, alice: Account) -> None:
    answer = http.post(
        "/api/v1/products",
        content=b"{not json",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert (answer.status_code, answer.json()["code"]) == (422, "validation_error")
    assert answer.json()["details"][0]["type"] == "json_invalid"


def test_oversized_body_is_refused_before_parsing(
    http: TestClient, alice: Account, app: FastAPI
) -> None:
    limit = app.state.settings.max_request_bytes
    body = product_body(description="x" * (limit + 10))
    answer = http.post("/api/v1/products", json=body, headers=alice.headers)
    assert (answer.status_code, answer.json()["code"]) == (413, "payload_too_large")
    assert http.get("/api/v1/products").json()["items"] == []


def test_unexpected_errors_leave_no_traceback(app: FastAPI) -> None:
    @app.get("/api/boom")  # under /api: other paths are the web apps'
    def boom() -> None:
        raise RuntimeError("secret internal detail at /srv/app.py line 42")

    answer = TestClient(app, raise_server_exceptions=False).get("/api/boom")
    assert answer.status_code == 500
    assert answer.json() == {
        "code": "internal_error",
        "message": "internal error; it has been logged",
        "details": None,
    }
    assert "secret" not in answer.text and "Traceback" not in answer.text


def test_every_kraken_error_maps_to_its_status(app: FastAPI) -> None:
    from kraken_market import errors
    from kraken_market.catalog import errors as catalog_errors

    classes = list(
        {
            c
            for module in (errors, catalog_errors)
            for c in vars(module).values()
            if isinstance(c, type) and issubclass(c, KrakenError)
        }
    )
    codes = {c.code for c in classes}
    assert len(codes) == len(classes), "every error class has its own code"
    for index, cls in enumerate(classes):
        path = f"/api/raise/{index}"

        def handler(cls: type[KrakenError] = cls) -> None:
            raise cls("m", details={"k": 1})

        app.get(path)(handler)
        answer = TestClient(app).get(path)
        assert answer.status_code == cls.status
        assert answer.json() == {"code": cls.code, "message": "m", "details": {"k": 1}}


def test_health_and_readiness(http: TestClient) -> None:
    assert http.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}
    assert http.get("/docs").status_code == 200
    assert "/api/v1/products" in http.get("/openapi.json").json()["paths"]


def test_me(http: TestClient, alice: Account) -> None:
    me = alice.api.me()
    assert me["acting_as"] == me["did"] == alice.key.did
    assert me["account"] is None and me["scope"] == ["buy", "manage", "publish"]
    assert me["name"] == "alice"
    assert http.get("/api/v1/auth/me").status_code == 401
