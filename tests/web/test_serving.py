"""The API serves the built web apps: deep links, the API's own 404s, cache and
security headers (kraken_market.web.serving)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kraken_market.api.app import create_app
from kraken_market.settings import Settings
from tests.conftest import DeployedToken


def _build(root: Path) -> Path:
    for name, base in (("marketplace", "/"), ("wallet", "/wallet/")):
        (root / name / "assets").mkdir(parents=True)
        (root / name / "index.html").write_text(
            f"<!doctype html><title>{name}</title>"
            f'<script type="module" src="{base}assets/app-1.js"></script>'
        )
        (root / name / "assets" / "app-1.js").write_text(f"console.log('{name}')")
    (root / "wallet" / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    return root


@pytest.fixture
def web(settings: Settings, engine: Engine, tmp_path: Path) -> TestClient:
    configured = settings.model_copy(
        update={
            "web_dir": _build(tmp_path / "dist"),
            "web_connect_sources": ["https://rpc.example"],
        }
    )
    return TestClient(create_app(configured, engine=engine, token=DeployedToken()))


@pytest.mark.parametrize(
    ("path", "app"),
    [
        ("/", "marketplace"),
        ("/products/0xab", "marketplace"),
        ("/admin/companies", "marketplace"),
        ("/wallet/", "wallet"),
        ("/wallet/requests/abc", "wallet"),
    ],
)
def test_every_deep_link_gets_its_apps_page(web: TestClient, path: str, app: str) -> None:
    response = web.get(path)
    assert response.status_code == 200
    assert f"<title>{app}</title>" in response.text
    assert response.headers["cache-control"] == "no-cache"


def test_the_wallet_without_its_slash_is_redirected(web: TestClient) -> None:
    response = web.get("/wallet", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/wallet/"


def test_app_pages_carry_a_strict_policy(web: TestClient) -> None:
    headers = web.get("/products/0xab").headers
    policy = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self' https://rpc.example"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["require-trusted-types-for"] == "'script'"
    assert policy["trusted-types"] == "kraken-worker"  # web/packages/core/src/trustedWorker.ts
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_hashed_assets_are_cached_for_good(web: TestClient) -> None:
    for path in ("/assets/app-1.js", "/wallet/assets/app-1.js"):
        response = web.get(path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert web.get("/assets/missing.js").status_code == 404


def test_a_top_level_file_of_a_build_is_served_as_itself(web: TestClient) -> None:
    response = web.get("/wallet/sw.js")
    assert response.status_code == 200
    assert "addEventListener" in response.text


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api", "/openapi.json/x"])
def test_api_paths_stay_the_apis(web: TestClient, method: str, path: str) -> None:
    response = web.request(method, path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_responses_are_not_sniffed(web: TestClient) -> None:
    headers = web.get("/api/v1/products").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in headers


def test_an_unbuilt_app_says_how_to_build_it(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    configured = settings.model_copy(update={"web_dir": tmp_path / "nothing"})
    client = TestClient(create_app(configured, engine=engine, token=DeployedToken()))
    response = client.get("/")
    assert response.status_code == 503
    assert "make up" in response.text


def test_cors_only_for_configured_origins(settings: Settings, engine: Engine) -> None:
    configured = settings.model_copy(update={"cors_origins": ["https://partner.example"]})
    client = TestClient(create_app(configured, engine=engine, token=DeployedToken()))
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = client.options(
        "/api/v1/products", headers={"Origin": "https://partner.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://partner.example"
    other = client.options(
        "/api/v1/products", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers
