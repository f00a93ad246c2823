"""Cross-origin access for the marketplace's web wallet, on the Depute tool's wallet
endpoints only (Fetch Standard, CORS protocol).

The web wallet runs on the marketplace's origin (``<marketplace>/wallet/``); the
Depute tool runs on its own. For the wallet to read an invitation offer, accept it,
fetch a sign-in Request Object and post its answer, the tool must answer CORS for the
marketplace's origin on exactly those paths: invitations (``/api/invitations/…``,
whose link is itself the credential) and the sign-in requests
(``/api/signin/requests/…``). Never with credentials: the wallet sends no cookie,
and the representative's own endpoints (``/api/invitations`` to list or create,
the desk) stay same-origin.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from kraken_market.depute.config import INVITATION_PATH
from kraken_market.depute.core import SIGNIN_REQUESTS_PATH

WALLET_PATHS = ("/api" + INVITATION_PATH, SIGNIN_REQUESTS_PATH)


class WalletCors:
    """CORS for ``origins`` on :data:`WALLET_PATHS`; every other path is untouched."""

    def __init__(self, app: ASGIApp, origins: Iterable[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=sorted(set(origins)),
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Content-Type"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(WALLET_PATHS):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
