"""``kraken-market issuer``: the platform's demo identity issuer, for development.

It works in-process on ``settings.issuer_dir``, the same key the API trusts
outside production (``identity.platform``), so run it with the API's data
directory. Credentials carry a W3C Bitstring Status List entry on the
issuer's list in the API's registry; ``revoke`` flips the bit and PUTs the
re-signed list there, so the marketplace refuses the credential at its next
check. In a deployment the trusted issuers are configuration, and this
command refuses to run.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from kraken_market.cli.common import JsonOption, err, fails_cleanly, out, print_json, table
from kraken_market.cli.common import settings as load_settings
from kraken_market.client import MarketClient
from kraken_market.errors import Forbidden, InvalidRequest
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.wallet import Wallet
from kraken_market.settings import Settings

app = typer.Typer(
    help="The demo identity issuer (development only; refused when KRAKEN_ENVIRONMENT="
    "production): issue PersonCredentials, role and buyer-category credentials, revoke them.",
    no_args_is_help=True,
)
issue_app = typer.Typer(
    help="Issue a credential (to a wallet with --wallet, else print it).", no_args_is_help=True
)
app.add_typer(issue_app, name="issue")

WalletOption = Annotated[
    Path | None,
    typer.Option("--wallet", help="Add the credential to this wallet file (else print it)"),
]
SubjectOption = Annotated[
    str | None, typer.Option("--subject", help="The holder's DID (default: the --wallet's DID)")
]
ValidDays = Annotated[int, typer.Option(min=1, max=3650, help="Days the credential is valid")]


def _issuer() -> tuple[Settings, Issuer]:
    config = load_settings()
    if config.environment == "production":
        raise Forbidden(
            "the demo issuer is for development only; in production the trusted issuers "
            "are configuration (KRAKEN_IDENTITY_TRUSTED_ISSUERS)"
        )
    return config, Issuer.open(config.issuer_dir)


def _issue(
    type_: CredentialType,
    claims: dict[str, Any],
    subject: str | None,
    wallet: Path | None,
    valid_days: int,
    as_json: bool,
) -> None:
    """Issue to ``subject`` (checked against the wallet first, so nothing is issued in vain)."""
    config, issuer = _issuer()
    holder = Wallet.open(wallet) if wallet else None
    if holder is not None and subject not in (None, holder.did):
        raise InvalidRequest(
            f"--subject {subject} is not the DID of the wallet {wallet} ({holder.did})"
        )
    did = subject or (holder.did if holder else None)
    if did is None:
        raise typer.BadParameter("name the holder with --subject DID or --wallet PATH")
    with Issuer.locked(issuer.directory) as current:  # the API may issue at the same time
        before = set(current.records)
        token = current.issue(
            type_,
            {"id": did, **claims},
            registry_url=config.resolved_api_url,
            valid_for=timedelta(days=valid_days),
        )
        (credential_id,) = set(current.records) - before
    if holder is not None:
        holder.add_credential(token)
    if as_json:
        shown = {"id": credential_id, "type": type_.value, "subject": did, "token": token}
        print_json({**shown, "wallet": str(wallet) if wallet else None})
    elif holder is not None:
        out.print(f"added {type_.value} {credential_id} to {wallet}")
    else:
        typer.echo(token)


@issue_app.command()
@fails_cleanly
def person(
    name: Annotated[str, typer.Option(help="The person's name")],
    subject: SubjectOption = None,
    email: Annotated[str | None, typer.Option(help="E-mail address")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2, e.g. DE")] = None,
    wallet: WalletOption = None,
    valid_days: ValidDays = 365,
    as_json: JsonOption = False,
) -> None:
    """A PersonCredential: a natural person the platform has identified."""
    claims = {k: v for k, v in {"name": name, "email": email, "country": country}.items() if v}
    _issue(CredentialType.PERSON, claims, subject, wallet, valid_days, as_json)


@issue_app.command()
@fails_cleanly
def role(
    role: Annotated[str, typer.Option(help="admin or arbiter")],
    subject: SubjectOption = None,
    wallet: WalletOption = None,
    valid_days: ValidDays = 365,
    as_json: JsonOption = False,
) -> None:
    """A PlatformRoleCredential: platform admin or arbiter."""
    _issue(CredentialType.PLATFORM_ROLE, {"role": role}, subject, wallet, valid_days, as_json)


@issue_app.command()
@fails_cleanly
def category(
    category: Annotated[
        str,
        typer.Option(help="individual, company, research-institution or public-body"),
    ],
    subject: SubjectOption = None,
    organisation: Annotated[str | None, typer.Option(help="The organisation's name")] = None,
    wallet: WalletOption = None,
    valid_days: ValidDays = 365,
    as_json: JsonOption = False,
) -> None:
    """A BuyerCategoryCredential (e.g. a research institution, for products limited to it)."""
    claims = {"category": category, **({"organisation": organisation} if organisation else {})}
    _issue(CredentialType.BUYER_CATEGORY, claims, subject, wallet, valid_days, as_json)


@app.command()
@fails_cleanly
def show(as_json: JsonOption = False) -> None:
    """The issuer's DID, directory and status list."""
    config, issuer = _issuer()
    shown = {
        "did": issuer.did,
        "directory": str(issuer.directory),
        "status_list": issuer.status_list_url(config.resolved_api_url),
        "issued": len(issuer.records),
        "revoked": sum(1 for r in issuer.records.values() if r.revoked_at),
    }
    if as_json:
        print_json(shown)
        return
    table("demo issuer", ["field", "value"], [[k, v] for k, v in shown.items()])


@app.command("list")
@fails_cleanly
def list_(as_json: JsonOption = False) -> None:
    """Every credential issued, with its status-list index and revocation."""
    _, issuer = _issuer()
    records = [vars(r) for r in issuer.records.values()]
    if as_json:
        print_json(records)
        return
    columns = ["id", "type", "subject", "issued_at", "valid_until", "revoked_at"]
    table("issued credentials", columns, [[r[c] for c in columns] for r in records])


def _publish(config: Settings, issuer: Issuer) -> dict[str, Any]:
    url = config.resolved_api_url
    with MarketClient.connect(url) as api:
        return api.publish_status_list(
            issuer.status_list_url(url), issuer.status_list_credential(url)
        )


@app.command()
@fails_cleanly
def revoke(
    credential_id: Annotated[str, typer.Argument(metavar="ID", help="The credential's id")],
    as_json: JsonOption = False,
) -> None:
    """Revoke a credential and publish the list: the marketplace refuses it at once."""
    config, issuer = _issuer()
    with Issuer.locked(issuer.directory) as current:
        record = current.revoke(credential_id)
        issuer = current
    try:
        published = _publish(config, issuer)
    except Exception:
        err.print("revoked here, but not yet published: run 'kraken-market issuer publish'")
        raise
    if as_json:
        print_json({"revoked": vars(record), "status_list": published})
        return
    out.print(f"revoked {record.id}; status list version {published['version']} published")


@app.command()
@fails_cleanly
def publish(as_json: JsonOption = False) -> None:
    """PUT the current signed status list to the API's registry."""
    config, issuer = _issuer()
    published = _publish(config, issuer)
    if as_json:
        print_json(published)
        return
    out.print(f"published {published['url']} (version {published['version']})")
