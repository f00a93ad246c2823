"""The browser's session in cookies, for the web apps the API serves (runs in the API).

Page scripts never hold a session or refresh token: a token readable by script is one
cross-site-scripting bug away from being sent elsewhere, while an ``HttpOnly`` cookie
can only be used by the browser, for requests to this origin (RFC 6265bis).

- ``kraken_session``: the session token; ``Path=/api`` (every API call),
  ``SameSite=Strict`` (not sent with requests started by another site),
  ``HttpOnly``, ``Secure`` when the API's URL is https.
- ``kraken_refresh``: the refresh token, sent only to ``/api/v1/auth/refresh``.

A cookie rides along on requests the page did not mean (cross-site request forgery):
``api.deps`` requires the header ``X-Kraken-CSRF: 1`` on every cookie-authenticated
write. Another origin's page cannot add a custom header without a CORS preflight,
which only ``Settings.cors_origins`` pass. Bearer tokens (CLI, SDK) need no such
header: a browser never adds them by itself.
"""

from __future__ import annotations

from fastapi import Request, Response

from kraken_market.identity.service import Opened

SESSION_COOKIE = "kraken_session"
REFRESH_COOKIE = "kraken_refresh"
SESSION_PATH = "/api"
REFRESH_PATH = "/api/v1/auth/refresh"
CSRF_HEADER = "X-Kraken-CSRF"


def _secure(request: Request) -> bool:
    return bool(request.app.state.settings.resolved_api_url.startswith("https://"))


def set_session_cookies(request: Request, response: Response, opened: Opened) -> None:
    settings = request.app.state.settings
    secure = _secure(request)
    response.set_cookie(
        SESSION_COOKIE,
        opened.session_token,
        max_age=settings.identity_session_seconds,
        path=SESSION_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        opened.refresh_token,
        max_age=settings.identity_refresh_seconds,
        path=REFRESH_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookies(request: Request, response: Response) -> None:
    secure = _secure(request)
    for name, path in ((SESSION_COOKIE, SESSION_PATH), (REFRESH_COOKIE, REFRESH_PATH)):
        response.delete_cookie(name, path=path, secure=secure, httponly=True, samesite="strict")
