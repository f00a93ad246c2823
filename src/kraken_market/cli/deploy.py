"""``kraken-market chain deploy``: deploy (or reuse) the marketplace's contracts."""

from __future__ import annotations

from typing import Annotated

import typer

from kraken_market.cli.common import JsonOption, err, fails_cleanly, out, print_json, settings
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption, signer
from kraken_market.ledger.amounts import parse_amount


@fails_cleanly
def deploy(
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    treasury: Annotated[
        str | None, typer.Option(help="Account receiving fees and slashed stakes")
    ] = None,
    arbiter: Annotated[list[str] | None, typer.Option(help="Arbiter account; repeatable")] = None,
    verifier: Annotated[
        list[str] | None, typer.Option(help="Verifier (grant) account; repeatable")
    ] = None,
    fee_bps: Annotated[int, typer.Option(min=0, max=2000, help="Platform fee, basis points")] = 250,
    min_stake: Annotated[
        str, typer.Option(help="Minimum stake to publish, in DATA (the token's decimals)")
    ] = "0",
    claim_bond: Annotated[str, typer.Option(help="Bond a claim posts, in DATA")] = "10",
    claim_window: Annotated[int, typer.Option(min=1, help="Seconds to claim after buying")] = 7
    * 86400,
    computation_deadline: Annotated[
        int, typer.Option(min=1, help="Seconds before a buyer may reclaim a computation")
    ] = 3600,
    attestations: Annotated[
        int, typer.Option(min=1, help="Node attestations that release a computation payment")
    ] = 2,
    faucet: Annotated[
        bool | None,
        typer.Option(help="Deploy the DATA faucet (default: only with --dev-account)"),
    ] = None,
    force: Annotated[bool, typer.Option(help="Deploy anew even if a deployment exists")] = False,
    as_json: JsonOption = False,
) -> None:
    """Deploy the contracts (DataToken unless KRAKEN_CHAIN_TOKEN_ADDRESS names an
    existing token; Authority, Registry, Market) from the signer's account, which
    becomes admin, and write DATA_DIR/deployment.json, which every other process
    reads. An existing, valid deployment is reused unless --force (refused if it
    counts in another token than KRAKEN_CHAIN_TOKEN_ADDRESS names now). On the embedded
    chain: 'kraken-market chain deploy --dev-account 0' (dev roles: 1 arbiter,
    2 verifier, 3 treasury)."""
    from kraken_market.ledger.client import Ledger, connect
    from kraken_market.ledger.client import dev_account as dev
    from kraken_market.ledger.deploy import Roles, deploy_or_reuse, save_replacing, token_units
    from kraken_market.ledger.deploy import deploy as deploy_contracts
    from kraken_market.ledger.model import Parameters

    config = settings()
    admin = signer(dev_account, key_file)
    development = dev_account is not None
    if treasury is None:
        treasury = dev(3).address if development else admin.address
    arbiters = tuple(arbiter or ([dev(1).address] if development else []))
    verifiers = tuple(verifier or ([dev(2).address] if development else []))
    w3 = connect(config.resolved_chain_url)
    symbol, decimals = token_units(w3, config.chain_token_address)
    parameters = Parameters(
        treasury=treasury,
        fee_bps=fee_bps,
        min_stake=parse_amount(min_stake, decimals, what="--min-stake", symbol=symbol),
        claim_window=claim_window,
        claim_bond=parse_amount(claim_bond, decimals, what="--claim-bond", symbol=symbol),
        computation_deadline=computation_deadline,
        attestations_required=attestations,
    )
    roles = Roles(
        arbiters=arbiters,
        verifiers=verifiers,
        token_address=config.chain_token_address,
        faucet=development if faucet is None else faucet,
    )
    if force:
        deployment = deploy_contracts(w3, admin, parameters, roles)
        kept = save_replacing(deployment, config.deployment_file)
        if kept is not None:
            err.print(f"the deployment file it replaced is kept as {kept}", highlight=False)
        reused = False
    else:
        deployment, reused = deploy_or_reuse(
            w3,
            admin,
            parameters,
            config.deployment_file,
            roles,
            stale_redeploys=config.chain_is_embedded,
        )
    if as_json:
        print_json(
            {
                "reused": reused,
                "file": str(config.deployment_file),
                **deployment.model_dump(mode="json"),
            }
        )
        return
    verb = "reused" if reused else "deployed"
    out.print(
        f"[bold green]{verb}[/bold green] on chain {deployment.chain_id} "
        f"(written to {config.deployment_file})"
    )
    for name, address in deployment.addresses().items():
        out.print(f"  {name:<10} {address}")
    # What the chain holds, in the deployment's token as its contract counts (a reused
    # deployment keeps its own parameters, whatever the options say now).
    chain = Ledger(w3, deployment, admin)
    token, current = chain.token(), chain.parameters()
    out.print(
        f"  fee {current.fee_bps / 100:g} %, claim bond {token.show(current.claim_bond)}",
        markup=False,
    )
    if reused and (current.fee_bps, current.claim_bond) != (
        parameters.fee_bps,
        parameters.claim_bond,
    ):
        out.print("  (the reused deployment keeps its parameters: --force deploys anew)")
