"""``kraken-market wallet``: the holder's keys and credentials (``identity.wallet``).

The passphrase comes from KRAKEN_WALLET_PASSPHRASE (for scripts) or a hidden
prompt; it is never echoed, logged or written. Reading the public parts
(``show``, ``credentials list``) needs no passphrase; signing does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kraken_market.cli.common import (
    JsonOption,
    client,
    err,
    fails_cleanly,
    out,
    print_json,
    saved_token,
    settings,
    table,
)
from kraken_market.db.base import utcnow
from kraken_market.errors import InvalidRequest, Unauthenticated
from kraken_market.files import read_private
from kraken_market.identity.wallet import StoredCredential, Wallet
from kraken_market.settings import Settings

app = typer.Typer(
    help="Your wallet: DID key, Ethereum account (keystore v3) and credentials.",
    no_args_is_help=True,
)
credentials_app = typer.Typer(help="The credentials in your wallet.", no_args_is_help=True)
app.add_typer(credentials_app, name="credentials")

WalletOption = Annotated[
    Path | None,
    typer.Option("--wallet", help="Wallet file (default: KRAKEN_WALLET or data_dir/wallet.json)"),
]
TypesOption = Annotated[
    list[str] | None,
    typer.Option("--type", help="Only credentials of this type (e.g. PersonCredential); repeat"),
]


def wallet_path(path: Path | None, config: Settings | None = None) -> Path:
    return path or (config or settings()).wallet_file


def passphrase(config: Settings, *, confirm: bool = False) -> str:
    """KRAKEN_WALLET_PASSPHRASE, else a hidden prompt (typed twice when creating)."""
    if config.wallet_passphrase is not None:
        return config.wallet_passphrase.get_secret_value()
    answer: str = typer.prompt("Wallet passphrase", hide_input=True, confirmation_prompt=confirm)
    return answer


def unlocked(path: Path | None) -> Wallet:
    """The wallet at ``path`` (or the configured one), with its keys decrypted."""
    config = settings()
    wallet = Wallet.open(wallet_path(path, config))
    wallet.unlock(passphrase(config))
    return wallet


def credential_row(credential: StoredCredential) -> dict[str, Any]:
    shown = credential.to_json()
    del shown["token"]
    return shown


def _summary(credential: StoredCredential) -> str:
    return ", ".join(f"{k}={v}" for k, v in credential.subject.items())


@app.command()
@fails_cleanly
def create(
    wallet: WalletOption = None,
    eth_key_file: Annotated[
        Path | None,
        typer.Option(help="Import this Ethereum private key (hex, file mode 0600) instead"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a wallet: a new did:key and an Ethereum account, encrypted with your passphrase."""
    config = settings()
    path = wallet_path(wallet, config)
    key = read_private(eth_key_file).strip() if eth_key_file else None
    created = Wallet.create(path, passphrase(config, confirm=True), key)
    shown = {"path": str(path), "did": created.did, "address": created.address}
    if as_json:
        print_json(shown)
        return
    out.print(f"wallet  {path}\nDID     {created.did}\naccount {created.address}")
    err.print(
        "next: kraken-market issuer issue person --name NAME --wallet "
        f"{path}  (development), then kraken-market login"
    )


@app.command()
@fails_cleanly
def show(wallet: WalletOption = None, as_json: JsonOption = False) -> None:
    """The wallet's DID, account and credential count (no passphrase needed)."""
    opened = Wallet.open(wallet_path(wallet))
    held = opened.credentials()
    shown = {
        "path": str(opened.path),
        "did": opened.did,
        "address": opened.address,
        "credentials": len(held),
        "types": sorted({c.type for c in held}),
    }
    if as_json:
        print_json(shown)
        return
    table("wallet", ["field", "value"], [[k, v] for k, v in shown.items()])


@credentials_app.command("list")
@fails_cleanly
def list_credentials(
    type_: Annotated[str | None, typer.Option("--type", help="Only this type")] = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """The credentials held (id, type, issuer, valid until, subject claims)."""
    held = Wallet.open(wallet_path(wallet)).credentials(type_)
    if as_json:
        print_json([credential_row(c) for c in held])
        return
    table(
        "credentials",
        ["id", "type", "issuer", "valid until", "claims"],
        [[c.id, c.type, c.issuer, c.valid_until, _summary(c)] for c in held],
    )


def _read_token(source: str) -> str:
    """A vc+jwt given as itself, as a file holding it, as '-' (stdin), or as the
    JSON that 'kraken-market issuer issue --json' prints."""
    if source == "-":
        text = sys.stdin.read()
    elif source.startswith("eyJ") and source.count(".") == 2:  # a JWS
        text = source
    else:
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {source}: {exc.strerror}") from exc
    text = text.strip()
    if text.startswith("{"):
        try:
            return str(json.loads(text)["token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise typer.BadParameter("the JSON holds no 'token'") from exc
    return text


@credentials_app.command("add")
@fails_cleanly
def add_credential(
    token_or_file: Annotated[str, typer.Argument(help="vc+jwt, a file holding it, or '-'")],
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Keep a credential about your DID (its signature and schema are checked first)."""
    stored = Wallet.open(wallet_path(wallet)).add_credential(_read_token(token_or_file))
    if as_json:
        print_json(credential_row(stored))
        return
    out.print(f"added {stored.type} {stored.id} from {stored.issuer}")


@credentials_app.command("remove")
@fails_cleanly
def remove_credential(
    credential_id: Annotated[str, typer.Argument(metavar="ID", help="The credential's id")],
    wallet: WalletOption = None,
) -> None:
    """Drop a credential from the wallet (it stays valid; only its issuer can revoke it)."""
    removed = Wallet.open(wallet_path(wallet)).remove_credential(credential_id)
    out.print(f"removed {removed.type} {removed.id}")


@app.command()
@fails_cleanly
def present(
    audience: Annotated[str, typer.Option(help="The verifier's URL (its 'aud')")],
    nonce: Annotated[str, typer.Option(help="The verifier's one-time nonce")],
    types: TypesOption = None,
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a vp+jwt of your unexpired credentials, signed by your DID key."""
    token = unlocked(wallet).present(audience, nonce, types)
    if as_json:
        print_json({"presentation": token, "audience": audience, "nonce": nonce})
        return
    typer.echo(token)


@app.command()
@fails_cleanly
def bind(wallet: WalletOption = None, as_json: JsonOption = False) -> None:
    """Bind your DID to your Ethereum account (both keys sign, EIP-191 for the account)
    and record it with the marketplace. Needs a login session."""
    config = settings()
    if saved_token(config, wallet) is None:
        raise Unauthenticated("binding needs a login session")  # the CLI says which, how
    from kraken_market.identity import binding  # eth-account: see identity.wallet

    keys = unlocked(wallet).keys
    made = binding.bind(keys.did_key, keys.account, audience=config.resolved_api_url, now=utcnow())
    with client(wallet) as api:
        recorded = api.bind(made.jws, made.account_signature)
    if as_json:
        print_json(recorded)
        return
    out.print(f"bound {recorded['did']} to {recorded['account']}")


@app.command()
@fails_cleanly
def accept(
    url: Annotated[str, typer.Argument(help="The invitation link your company's Depute tool sent")],
    wallet: WalletOption = None,
    as_json: JsonOption = False,
) -> None:
    """Accept a Depute invitation: prove your DID with your PersonCredential, receive the
    company's AttorneyCredential and keep it (log in again to act for the company)."""
    from kraken_market.depute.client import accept_invitation

    opened = unlocked(wallet)
    persons = opened.credentials("PersonCredential")
    if not persons:
        raise InvalidRequest(
            "the wallet holds no PersonCredential to prove who you are; add one first"
        )
    token = accept_invitation(url, opened.keys.did_key, persons[-1].token)
    stored = opened.add_credential(token)
    if as_json:
        print_json(credential_row(stored))
        return
    out.print(f"added {stored.type} {stored.id} from {stored.issuer}")


# 'wallet answer' lives in a module of its own (it answers sign-in and signature
# requests); it uses this module's options, so it is imported once they exist.
from kraken_market.cli.wallet_answer import answer  # noqa: E402

app.command(name="answer")(answer)
