"""The API documentation pages, Swagger UI and ReDoc, served with the assets packaged in
``fastapi-offline`` instead of FastAPI's default CDN links: the pages work without
internet access (an air-gapped deployment, a laptop on a train) and load no script
from a third party, which could otherwise read whatever the page shows or sends
(session tokens pasted into "Authorize" included).

Used by the marketplace API (``/docs``, ``/redoc``) and the Depute tool
(``/api/docs``, ``/api/redoc``). Each page carries its own Content-Security-Policy,
which allows nothing but this server: Swagger UI's one inline start-up script is
allowed by its hash (CSP Level 3, ``'sha256-…'``), ReDoc's styled-components inject
``<style>`` elements (hence ``style-src 'unsafe-inline'``) and run its search in a
``blob:`` worker. A browser shows the pages as they are; anything that would reach
another origin is refused by the browser, not only left out of the HTML (ReDoc's menu
asks for Redocly's logo from Redocly's CDN: the policy refuses it, and ReDoc drops the
image when it fails to load). Checked in headless Chromium: both pages render every
operation with no policy violation but that logo.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS = Path(str(files("fastapi_offline") / "static"))
"""swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js and favicon.png."""

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
SWAGGER_PARAMETERS = {"validatorUrl": None}
"""Swagger UI's spec validator badge is an image from validator.swagger.io: off."""


def content_security_policy(html: str) -> str:
    """A policy allowing this origin only, plus the page's own inline scripts by hash."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    directives = [
        "default-src 'none'",
        f"script-src 'self' {hashes}".rstrip(),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def _page(html: HTMLResponse) -> HTMLResponse:
    body = bytes(html.body).decode()
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": content_security_policy(body),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def install_docs(app: FastAPI, *, docs_url: str, redoc_url: str, assets_url: str) -> None:
    """Serve Swagger UI at ``docs_url`` and ReDoc at ``redoc_url`` for ``app.openapi_url``,
    their scripts and styles under ``assets_url``. Create ``app`` with ``docs_url=None``
    and ``redoc_url=None`` so that FastAPI's CDN pages are not registered too."""
    openapi_url = app.openapi_url
    if openapi_url is None:
        raise ValueError("the documentation pages need the app's openapi_url")
    app.mount(assets_url, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _page(
            get_swagger_ui_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{root}{assets_url}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{assets_url}/swagger-ui.css",
                swagger_favicon_url=f"{root}{assets_url}/favicon.png",
                oauth2_redirect_url=None,  # sessions are bearer tokens: no OAuth2 flow
                swagger_ui_parameters={**SWAGGER_PARAMETERS, **(app.swagger_ui_parameters or {})},
            )
        )

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _page(
            get_redoc_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{assets_url}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{assets_url}/favicon.png",
                with_google_fonts=False,
            )
        )
