"""``kraken-market depute``: one company's Depute tool (authorise employees).

``init`` sets up the company's directory (its issuer key: the company DID to
register in KCIT, and its revocation list); ``serve`` runs the web
application (pages and JSON API) against a marketplace; ``show`` prints where
the tool stands. One tool per company, one directory per company under
``<data_dir>/depute/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from kraken_market.cli.common import JsonOption, err, fails_cleanly, out, print_json, settings
from kraken_market.depute.app import create_depute_app
from kraken_market.depute.config import (
    DEFAULT_PORT,
    DeputeConfig,
    company_dir,
    init_company,
    read_company_key,
)
from kraken_market.depute.core import open_depute
from kraken_market.logs import configure_logging

app = typer.Typer(
    help="The Depute tool: a company's own web app to authorise employees "
    "(AttorneyCredentials), invite them and revoke them.",
    no_args_is_help=True,
)
Company = Annotated[str, typer.Option("--company", help="The company's DID (see 'depute init')")]
Marketplace = Annotated[
    str | None,
    typer.Option("--marketplace", help="Marketplace API URL (default: KRAKEN_API_URL)"),
]


def _config(
    company: str,
    marketplace: str | None,
    public_url: str | None = None,
    registry_url: str | None = None,
) -> DeputeConfig:
    """The tool's configuration; its chain desk uses the chain and deployment of the
    settings (KRAKEN_CHAIN_URL, DATA_DIR/deployment.json) when that file exists."""
    config = settings()
    market = (marketplace or config.resolved_api_url).rstrip("/")
    deployed = config.deployment_file.is_file()
    return DeputeConfig(
        company=company,
        directory=company_dir(config.data_dir, company),
        public_url=public_url or f"http://127.0.0.1:{DEFAULT_PORT}",
        marketplace_url=market,
        registry_url=registry_url,
        chain_url=config.resolved_chain_url if deployed else None,
        deployment_file=config.deployment_file.resolve() if deployed else None,
    )


@app.command()
@fails_cleanly
def init(
    company_key: Annotated[
        Path | None,
        typer.Option(
            "--company-key",
            help="File with the company's Ed25519 seed as 64 hex digits (mode 0600); "
            "default: generate a new company key",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Set up a company's Depute tool; prints the company DID to register in KCIT."""
    config = settings()
    issuer = init_company(config.data_dir, read_company_key(company_key) if company_key else None)
    if as_json:
        print_json({"company": issuer.did, "directory": str(issuer.directory)})
        return
    out.print(f"company DID: {issuer.did}", markup=False, highlight=False)
    out.print(f"directory:   {issuer.directory}", markup=False, highlight=False)
    out.print(
        "next: a platform admin enters the company in KCIT with you as its representative\n"
        f"  kraken-market companies create {issuer.did} --name NAME --country CC "
        "--registration-number NUMBER --representative YOUR_DID\n"
        f"then: kraken-market depute serve --company {issuer.did}",
        markup=False,
        highlight=False,
    )


@app.command()
@fails_cleanly
def serve(
    company: Company,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = DEFAULT_PORT,
    marketplace: Marketplace = None,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The URL people reach this tool at: the audience of every presentation "
            "(default: http://HOST:PORT)",
        ),
    ] = None,
    registry_url: Annotated[
        str | None,
        typer.Option(
            "--registry-url",
            help="The base URL the marketplace names its status lists under, if it differs "
            "from --marketplace (a proxy in between)",
        ),
    ] = None,
) -> None:
    """Run the Depute tool for one company (pages at /, JSON API at /api, docs /api/docs).
    It holds the company's ledger account and publishes the company's products from it
    for employees authorised to publish (on the chain of DATA_DIR/deployment.json)."""
    base = settings()
    configure_logging(base)
    config = _config(company, marketplace, public_url or f"http://{host}:{port}", registry_url)
    depute = open_depute(config)
    err.print(
        f"Depute tool of {company} on {config.audience} (marketplace {config.marketplace_url})",
        markup=False,
        highlight=False,
    )
    try:
        uvicorn.run(
            create_depute_app(depute), host=host, port=port, log_config=None, access_log=False
        )
    finally:
        depute.marketplace.close()


@app.command()
@fails_cleanly
def show(company: Company, marketplace: Marketplace = None, as_json: JsonOption = False) -> None:
    """The company's Depute directory, authorisations and revocation list publication."""
    depute = open_depute(_config(company, marketplace))
    try:
        publication = depute.publisher.current()
        records = depute.issuer.records.values()
        shown = {
            "company": depute.company,
            "directory": str(depute.config.directory),
            "issued": len(records),
            "revoked": sum(1 for r in records if r.revoked_at is not None),
            "publication": publication.status,
            "list_url": publication.list_url,
        }
    finally:
        depute.marketplace.close()
    if as_json:
        print_json(shown)
        return
    for name, value in shown.items():
        out.print(f"{name + ':':<13}{value}", markup=False, highlight=False)
    if publication.status == "pending":
        out.print(publication.message, style="yellow", markup=False, highlight=False)
