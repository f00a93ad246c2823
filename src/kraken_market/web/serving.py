"""Serving the built web apps from the API process: the marketplace at ``/``, the
wallet app at ``/wallet/``; ``/api/*``, ``/docs`` and the health probes stay the API's.

Single-page apps route in the browser, so every deep link (``/products/0x…``,
``/wallet/requests``) gets its app's ``index.html``; an unknown ``/api/…`` path is
still the API's JSON 404. Hashed assets are cached for a year, ``index.html``
never (a new build is picked up at the next navigation).

Every app page is sent with a strict Content-Security-Policy (CSP Level 3): scripts,
styles, workers and connections from this origin only (plus
``web_connect_sources``), no inline script or ``eval``, Trusted Types required for
DOM sinks (one policy, ``kraken-worker``, admits same-origin worker scripts), no
framing. The apps render server text as text, never as HTML.
``Cross-Origin-Opener-Policy: same-origin`` keeps a page opened by another site from
holding a handle on the wallet's window.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

APPS = {"wallet": "/wallet", "marketplace": ""}
"""Each app's directory in ``web/dist`` and its path prefix (longest first)."""


class AppPath(Convertor[str]):
    """Any path but the API's (``/api/…``, the docs, the spec, the probes): those never
    match an app's route, so every method there gets the API's own 404 or 405."""

    regex = r"(?!(?:api|docs|docs-assets|redoc|openapi\.json|healthz|readyz)(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("app_path", AppPath())

IMMUTABLE = "public, max-age=31536000, immutable"


def content_security_policy(connect_sources: list[str]) -> str:
    connect = " ".join(["'self'", *connect_sources])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "font-src 'self'",
            f"connect-src {connect}",
            "worker-src 'self'",
            "manifest-src 'self'",
            "media-src 'self' blob:",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "require-trusted-types-for 'script'",
            # the one policy @kraken/core makes: it admits same-origin worker scripts only
            # (web/packages/core/src/trustedWorker.ts); `new Worker(url)` needs it
            "trusted-types kraken-worker",
        ]
    )


def page_headers(connect_sources: list[str]) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(connect_sources),
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        # The wallet reads QR codes with the camera; nothing else is asked for.
        "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
        "Cache-Control": "no-cache",
    }


class NoSniff:
    """``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer`` on every
    response, API and assets alike (pure ASGI: streaming responses are untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ):
                    if name not in names:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ImmutableAssets(StaticFiles):
    """An app's ``assets/``: content-hashed names, so cached for good."""

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]
        response.headers["Cache-Control"] = IMMUTABLE
        return response


def install_web(app: FastAPI, web_dir: Path, connect_sources: list[str]) -> None:
    """Mount the apps built in ``web_dir``; call after every API router is included."""
    headers = page_headers(connect_sources)
    for name, prefix in APPS.items():
        assets = web_dir / name / "assets"
        if assets.is_dir():
            app.mount(f"{prefix}/assets", ImmutableAssets(directory=assets), name=f"{name}-assets")

    def page(name: str, path: str) -> Response:
        root = web_dir / name
        index = root / "index.html"
        if not index.is_file():
            return PlainTextResponse(
                f"The {name} app is not built here: run `make up` (or `npm run build` in web/).",
                status_code=503,
                headers={"Cache-Control": "no-store"},
            )
        # A top-level file of the build (favicon, manifest, service worker) by its name;
        # everything else is a route of the app.
        candidate = (root / path).resolve()
        if path and "/" not in path and candidate.parent == root.resolve() and candidate.is_file():
            return FileResponse(candidate, headers={"Cache-Control": "no-cache"})
        return FileResponse(index, media_type="text/html", headers=headers)

    @app.get("/wallet", include_in_schema=False)
    def wallet_root() -> Response:
        return RedirectResponse("/wallet/", status_code=308)

    @app.get("/wallet/{path:path}", include_in_schema=False)
    def wallet_page(path: str = "") -> Response:
        return page("wallet", path)

    @app.get("/{path:app_path}", include_in_schema=False)
    def marketplace_page(path: str) -> Response:
        return page("marketplace", path)
