"""``kraken-market operator``: the platform operator's side of the chain.

Roles (who is admin, arbiter, verifier, compute node), granting and revoking the
arbiter and verifier roles, pausing the marketplace, its parameters
(``operator parameters``), its compute nodes (``operator nodes``), handing the admin
role to another account in two steps (``operator admin``) and the platform accounts'
balances. Reads need no key; every change is checked against the chain, confirmed
(``--yes`` skips the question) and signed locally (``operator_common``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from kraken_market.cli.common import JsonOption, fails_cleanly, out, print_json, table
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption
from kraken_market.cli.operator_admin import app as admin_app
from kraken_market.cli.operator_common import (
    MultisigOption,
    YesOption,
    acting,
    address,
    carry_out,
    reading,
)
from kraken_market.cli.operator_nodes import app as nodes_app
from kraken_market.cli.operator_parameters import app as parameters_app
from kraken_market.errors import InvalidRequest
from kraken_market.ledger.errors import RoleUnchanged

if TYPE_CHECKING:
    from kraken_market.ledger.client import Ledger

app = typer.Typer(
    help=(
        "Run the marketplace on chain: its roles, compute nodes, pause switch and "
        "parameters, the two-step hand-over of the admin role (to a multisig, say), "
        "and the platform accounts' balances.\n\n"
        "Reads need no key. Changes are signed by an admin with --key-file (mode 0600; "
        "default KRAKEN_CHAIN_KEY_FILE, else your wallet's account), or printed for a "
        "multisig admin with --multisig ADDRESS; each is checked against the chain and "
        "confirmed before it is sent (--yes for scripts)."
    ),
    no_args_is_help=True,
)
app.add_typer(nodes_app, name="nodes")
app.add_typer(parameters_app, name="parameters")
app.add_typer(admin_app, name="admin")

GRANTABLE = {"arbiter": "rules on quality claims", "verifier": "records grants on chain"}
ROLE_WORDS = {"admin": "an admin", "arbiter": "an arbiter", "verifier": "a verifier"}


def _role(text: str) -> str:
    name = text.strip().lower()
    if name in GRANTABLE:
        return name
    if name == "admin":
        raise InvalidRequest(
            "the admin role is handed over in two steps, never granted alone: "
            "'kraken-market operator admin offer --to ACCOUNT', then "
            "'kraken-market operator admin accept --from YOUR_ACCOUNT' signed by ACCOUNT"
        )
    if name == "node":
        raise InvalidRequest(
            "compute nodes are registered with their HPKE key and endpoint: "
            "'kraken-market operator nodes register ACCOUNT --hpke-key KEY --endpoint URL'"
        )
    raise InvalidRequest(
        f"ROLE: {text!r} is not a role one grants; give 'arbiter' (rules on quality "
        "claims) or 'verifier' (records grants after the policy check)"
    )


RoleArgument = Annotated[str, typer.Argument(metavar="ROLE", help="arbiter or verifier")]
AccountArgument = Annotated[str, typer.Argument(metavar="ACCOUNT", help="0x-address")]


@app.command()
@fails_cleanly
def roles(as_json: JsonOption = False) -> None:
    """Who holds each role: admins, arbiters, verifiers, compute nodes, treasury.

    Admins, arbiters and verifiers are read from the Authority's role events, each
    confirmed with hasRole; nodes from its node registry."""
    from kraken_market.ledger.roles import role_holders

    chain = reading()
    holders = role_holders(chain)
    nodes = chain.nodes()
    treasury = chain.parameters().treasury
    if as_json:
        print_json(
            {
                **{name: [each.as_json() for each in found] for name, found in holders.items()},
                "node": [{"account": n.account, "endpoint": n.endpoint} for n in nodes],
                "treasury": treasury,
            }
        )
        return
    rows: list[list[Any]] = [
        [name, each.account, each.since_block, each.granted_by]
        for name, found in holders.items()
        for each in found
    ]
    rows += [["node", node.account, "", node.endpoint] for node in nodes]
    rows.append(["treasury", treasury, "", "receives fees and slashed stakes"])
    table("roles on chain", ["role", "account", "since block", "granted by / note"], rows)
    admins = holders["admin"]
    if not admins:
        out.print("no account holds the admin role: nobody can change roles, nodes or parameters")
    elif len(admins) > 1:
        out.print(
            f"{len(admins)} admins: if an admin transfer is under way, the new admin "
            "finishes it with 'kraken-market operator admin accept --from OLD', or the "
            "old one withdraws it with 'kraken-market operator admin cancel --to NEW'",
            markup=False,
            soft_wrap=True,
        )


@app.command()
@fails_cleanly
def grant(
    role: RoleArgument,
    account: AccountArgument,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Grant ROLE (arbiter or verifier) to ACCOUNT; signed by an admin."""
    from kraken_market.ledger.client import ROLES
    from kraken_market.ledger.proposals import Change

    name, who = _role(role), address(account, "ACCOUNT")
    chain = acting(dev_account, key_file, multisig)
    if chain.has_role(name, who):
        raise RoleUnchanged(f"{who} is already {ROLE_WORDS[name]}: nothing to grant")
    change = Change(
        f"grant the {name} role ({GRANTABLE[name]}) to {who}",
        "Authority",
        "grantRole",
        (ROLES[name], who),
    )
    carry_out(
        chain,
        change,
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done=f"{who} is now {ROLE_WORDS[name]}",
    )


@app.command()
@fails_cleanly
def revoke(
    role: RoleArgument,
    account: AccountArgument,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Revoke ROLE (arbiter or verifier) from ACCOUNT; signed by an admin."""
    from kraken_market.ledger.client import ROLES
    from kraken_market.ledger.proposals import Change
    from kraken_market.ledger.roles import role_holders

    name, who = _role(role), address(account, "ACCOUNT")
    chain = acting(dev_account, key_file, multisig)
    if not chain.has_role(name, who):
        raise RoleUnchanged(f"{who} is not {ROLE_WORDS[name]}: nothing to revoke")
    warnings: tuple[str, ...] = ()
    if [each.account for each in role_holders(chain)[name]] == [who]:
        warnings = (
            f"{who} is the only {name}: after this nobody "
            + ("rules on claims" if name == "arbiter" else "can record grants (no one can buy)")
            + f" until the role is granted again ('kraken-market operator grant {name} ACCOUNT')",
        )
    change = Change(
        f"revoke the {name} role from {who}", "Authority", "revokeRole", (ROLES[name], who)
    )
    carry_out(
        chain,
        change,
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done=f"{who} is no longer {ROLE_WORDS[name]}",
        warnings=warnings,
    )


@app.command()
@fails_cleanly
def pause(
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Pause the marketplace (signed by an admin).

    No publishing, purchase, grant, approval, claim or attestation until 'operator
    unpause'; rulings, grant revocations and reclaims go on (disputes settle, buyers
    get refunds)."""
    from kraken_market.ledger.proposals import Change

    carry_out(
        acting(dev_account, key_file, multisig),
        Change("pause the marketplace", "Authority", "pause"),
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done="the marketplace is paused",
    )


@app.command()
@fails_cleanly
def unpause(
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Let the marketplace run again after 'operator pause'. Signed by an admin."""
    from kraken_market.ledger.proposals import Change

    carry_out(
        acting(dev_account, key_file, multisig),
        Change("unpause the marketplace", "Authority", "unpause"),
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done="the marketplace runs again",
    )


@app.command()
@fails_cleanly
def status(as_json: JsonOption = False) -> None:
    """The marketplace at a glance: paused or running, contracts, admins, nodes.

    Also checks that every contract of the deployment file has code on the chain."""
    from kraken_market.ledger.roles import role_holders

    chain = reading()
    paused, token = chain.paused(), chain.token()
    admins = [each.account for each in role_holders(chain)["admin"]]
    nodes, parameters = chain.nodes(), chain.parameters()
    report = {
        "chain_id": chain.deployment.chain_id,
        "block": int(chain.w3.eth.block_number),
        "paused": paused,
        "contracts": chain.deployment.addresses(),
        "token": token.as_json(),
        "admins": admins,
        "nodes": len(nodes),
        "attestations_required": parameters.attestations_required,
    }
    if as_json:
        print_json(report)
        return
    state = "[bold red]paused[/bold red]" if paused else "[bold green]running[/bold green]"
    out.print(f"the marketplace is {state} (chain {report['chain_id']}, block {report['block']})")
    for name, at in chain.deployment.addresses().items():
        out.print(f"  {name:<10} {at}", highlight=False)
    admins_shown = ", ".join(admins) or "none"
    label = "admins" if len(admins) != 1 else "admin"
    out.print(f"  {label:<10} {admins_shown}", soft_wrap=True)
    enough = "" if len(nodes) >= parameters.attestations_required else " (too few to pay out)"
    out.print(
        f"  nodes      {len(nodes)} registered, {parameters.attestations_required} "
        f"attestations required{enough}",
        markup=False,
    )


def _platform_accounts(chain: Ledger) -> dict[str, list[str]]:
    """Each account the platform runs on, with its roles."""
    from kraken_market.ledger.roles import role_holders

    accounts: dict[str, list[str]] = {}
    for name, found in role_holders(chain).items():
        for each in found:
            accounts.setdefault(each.account, []).append(name)
    for node in chain.nodes():
        accounts.setdefault(node.account, []).append("node")
    accounts.setdefault(chain.parameters().treasury, []).append("treasury")
    return accounts


@app.command()
@fails_cleanly
def balances(as_json: JsonOption = False) -> None:
    """DATA and ether of every platform account, and what the Market holds in trust.

    The accounts are the admins, arbiters, verifiers, nodes and the treasury. One that
    sends transactions (verifier, arbiter, nodes) stops working without gas money."""
    from kraken_market.ledger.amounts import format_amount

    chain = reading()
    token = chain.token()
    rows = []
    for account, held in _platform_accounts(chain).items():
        data, ether = chain.balance(account), chain.ether_balance(account)
        rows.append(
            {
                "account": account,
                "roles": held,
                "data": str(data),
                "data_balance": token.amount(data),
                "ether_wei": str(ether),
                "ether": format_amount(ether, 18),  # the chain's own currency: 18 decimals
            }
        )
    escrow = chain.escrow_totals()
    market = {name: str(value) for name, value in escrow.items()}
    if as_json:
        print_json({"token": token.as_json(), "accounts": rows, "market": market})
        return
    table(
        "platform accounts",
        ["account", "roles", token.symbol, "ether"],
        [[r["account"], ", ".join(r["roles"]), r["data_balance"], r["ether"]] for r in rows],
    )
    out.print(
        f"the Market holds {token.show(escrow['balance'])}: stakes "
        f"{token.show(escrow['staked'])}, claim bonds {token.show(escrow['bonds'])}, held "
        f"computation payments {token.show(escrow['held'])}",
        markup=False,
    )
