"""``kraken-market login|logout|whoami``: marketplace sessions opened with the wallet.

Login is the marketplace's challenge-response (``identity.service``): the API
hands out a one-time nonce for its audience, the wallet signs a vp+jwt of the
holder's credentials bound to both (W3C VC-JOSE-COSE §3.2), and the API
answers with a short-lived session token and a refresh token, which are kept
in ``settings.token_file`` (mode 0600). Other commands refresh the pair when
the session token expires (``cli.common.saved_token``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kraken_market.cli.common import (
    JsonOption,
    client,
    err,
    fails_cleanly,
    out,
    print_json,
    read_session,
    save_session,
    settings,
    table,
)
from kraken_market.cli.wallet import TypesOption, WalletOption, unlocked
from kraken_market.client import ApiError, MarketClient
from kraken_market.identity.errors import WrongAudience


def _public(session: dict[str, Any]) -> dict[str, Any]:
    hidden = {"session_token", "refresh_token"}
    return {k: v for k, v in session.items() if k not in hidden}


@fails_cleanly
def login(
    act_for: Annotated[
        str | None,
        typer.Option("--act-for", help="Company DID to act for (needs its AttorneyCredential)"),
    ] = None,
    types: TypesOption = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Log in with your wallet: present your credentials to the API, keep the session."""
    config = settings()
    holder = unlocked(wallet)  # before the challenge: a wrong passphrase costs no nonce
    with MarketClient.connect(config.resolved_api_url) as api:
        challenge = api.challenge()
        if challenge["audience"].rstrip("/") != config.resolved_api_url:
            # Signing for another audience would let this server replay the
            # presentation there: refuse, as a browser refuses a wrong origin.
            raise WrongAudience(
                f"the API at {config.resolved_api_url} asks for a presentation to "
                f"{challenge['audience']}; set KRAKEN_API_URL to the API's public URL",
                details={"audience": challenge["audience"]},
            )
        presentation = holder.present(challenge["audience"], challenge["nonce"], types)
        session = api.login(presentation, act_for)
    path = save_session(config, session)
    if as_json:
        print_json(_public(session))
        return
    acting = f" for {session['company']}" if session.get("company") else ""
    roles = ", ".join(session["roles"]) or "none"
    out.print(f"logged in as {session['did']}{acting} (roles: {roles})")
    err.print(f"session saved to {path}; it expires at {session['expires_at']}")


@fails_cleanly
def logout() -> None:
    """End the session at the API and forget it here."""
    config = settings()
    if read_session(config) is None and config.api_token is None:
        out.print("not logged in")
        return
    try:
        with client() as api:
            api.logout()
    except ApiError as exc:
        if exc.status_code != 401:  # 401: the session had ended already
            raise
    config.token_file.unlink(missing_ok=True)
    out.print("logged out")


@fails_cleanly
def whoami(as_json: JsonOption = False) -> None:
    """Who the API says you are: your DID, name, the account you act as, your roles."""
    with client() as api:
        me = api.me()
    if as_json:
        print_json(me)
        return
    shown = {**me, "roles": ", ".join(me["roles"]) or "none"}
    table("you", ["field", "value"], [[k, v] for k, v in shown.items()])
