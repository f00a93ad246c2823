"""/docs and /redoc are served from packaged assets: no URL of another origin in the pages,
every asset they name served here with its type, and a Content-Security-Policy that lets
the browser load nothing but this server."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any, Protocol

from fastapi.testclient import TestClient

from kraken_market.api.docs import content_security_policy

ASSET_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


class Http(Protocol):
    def get(self, url: str) -> Any: ...


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in policy.split(";") if d.strip())
    return {name: values for name, *values in parts}


def check_docs_page(http: Http, url: str, openapi_url: str) -> None:
    """The page at ``url``: nothing from another origin, its assets and spec served here,
    and a policy that allows its inline scripts by hash and nothing from elsewhere."""
    page = http.get(url)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert not re.search(r"(https?:)?//[\w.-]+", html.replace("http-equiv", "")), html
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(referenced) >= 2, html  # a script, and a style sheet or an icon
    for asset in referenced:
        assert asset.startswith("/"), asset
        answer = http.get(asset)
        assert answer.status_code == 200, asset
        suffix = asset[asset.rindex(".") :]
        assert answer.headers["content-type"].split(";")[0] in ASSET_TYPES[suffix], asset
        assert len(answer.content) > 500, asset
    assert f"'{openapi_url}'" in html or f'"{openapi_url}"' in html
    spec = http.get(openapi_url)
    assert spec.status_code == 200
    assert spec.headers["content-type"] == "application/json"

    policy = _directives(page.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    for name in ("script-src", "style-src", "img-src", "connect-src", "font-src"):
        for source in policy[name]:
            assert source.startswith("'") or source in ("data:",), (name, source)
    inline = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_api_docs_are_served_without_a_cdn(http: TestClient) -> None:
    check_docs_page(http, "/docs", "/openapi.json")
    check_docs_page(http, "/redoc", "/openapi.json")
    swagger = http.get("/docs").text
    assert "SwaggerUIBundle(" in swagger
    assert '"validatorUrl": null' in swagger  # its badge would be an image from elsewhere
    assert "<redoc spec-url=" in http.get("/redoc").text


def test_the_policy_allows_exactly_the_inline_scripts_of_the_page() -> None:
    page = "<script src='/x.js'></script><script>go()</script><script>\nstop()\n</script>"
    script_src = _directives(content_security_policy(page))["script-src"]
    assert script_src[0] == "'self'"
    assert len(script_src) == 3  # 'self' and two hashes: the external script needs none
    no_inline = _directives(content_security_policy("<p>hi</p>"))["script-src"]
    assert no_inline == ["'self'"]
