"""``kraken-market login|logout|whoami``: marketplace sessions opened with the wallet.

Login is the marketplace's challenge-response (``identity.service``): the API
hands out a one-time nonce for its audience, the wallet signs a vp+jwt of the
holder's credentials bound to both (W3C VC-JOSE-COSE §3.2), and the API
answers with a short-lived session token and a refresh token. They are kept as
the session of the wallet that logged in (``cli.session_store``: one file per
DID in ``settings.sessions_dir``, mode 0600), so several wallets in one data
directory stay logged in side by side. Every command sends the session of the
selected wallet (``--wallet``, KRAKEN_WALLET, data_dir/wallet.json) and
refreshes it when the session token expires (``cli.common.saved_token``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kraken_market.cli import session_store
from kraken_market.cli.common import (
    JsonOption,
    client,
    err,
    fails_cleanly,
    out,
    print_json,
    read_session,
    save_session,
    selected_wallet,
    settings,
    table,
)
from kraken_market.cli.wallet import TypesOption, WalletOption, unlocked
from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import Unauthenticated
from kraken_market.identity.errors import SessionInvalid, WrongAudience


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
    if session["did"] != holder.did:  # the API names the presenter: never another DID
        raise SessionInvalid(f"the API opened a session for {session['did']}, not {holder.did}")
    path = save_session(config, session)
    if as_json:
        print_json(_public(session))
        return
    acting = f" for {session['company']}" if session.get("company") else ""
    roles = ", ".join(session["roles"]) or "none"
    shown = f"logged in as {session['did']}{acting} (roles: {roles}; wallet {holder.path})"
    out.print(shown, soft_wrap=True)
    err.print(f"session saved to {path}; it expires at {session['expires_at']}")


@fails_cleanly
def logout(wallet: WalletOption = None) -> None:
    """End the selected wallet's session at the API and forget it here (other wallets'
    sessions stay)."""
    config = settings()
    selected = selected_wallet(config, wallet)
    token = config.api_token is not None  # its session ends; no file to forget
    saved = selected.did is not None and session_store.read(config, selected.did) is not None
    if not (token or saved):
        out.print(f"not logged in: {selected.describe()}", soft_wrap=True)
        return
    try:
        with client(wallet) as api:
            api.logout()
    except ApiError as exc:
        if exc.status_code != 401:  # 401: the session had ended already
            raise
    if token or selected.did is None:
        out.print("logged out: the session of KRAKEN_API_TOKEN")
        return
    session_store.forget(config, selected.did)
    out.print(f"logged out: {selected.describe()}", soft_wrap=True)


def _me_rows(me: dict[str, Any], wallet: str | None) -> list[list[Any]]:
    acting = me["acting_as"] + (" (a company)" if me.get("company") else " (yourself)")
    return [
        ["wallet", wallet or "KRAKEN_API_TOKEN"],
        ["did", me["did"]],
        ["name", me["name"]],
        ["account", me["account"] or "none bound: run 'kraken-market wallet bind'"],
        ["acting as", acting],
        ["roles", ", ".join(me["roles"]) or "none"],
        ["scope", ", ".join(me["scope"]) or "none"],
    ]


@fails_cleanly
def whoami(wallet: WalletOption = None, as_json: JsonOption = False) -> None:
    """Who the API says you are, for the selected wallet: your DID, name, the 0x account
    bound to your DID, the company you act for, your roles and what you may do."""
    config = settings()
    selected = selected_wallet(config, wallet)
    token = config.api_token is not None
    if not token and (selected.did is None or read_session(config, wallet) is None):
        raise Unauthenticated("no session here")  # the advice names the wallet
    with client(wallet) as api:
        me = api.me()
    if not token and me["did"] != selected.did:  # cannot happen with one file per DID
        raise SessionInvalid(f"the saved session is not {selected.describe()}'s")
    shown = {"wallet": None if token else str(selected.path), **me}
    if as_json:
        print_json(shown)
        return
    table("you", ["field", "value"], _me_rows(me, shown["wallet"]))
