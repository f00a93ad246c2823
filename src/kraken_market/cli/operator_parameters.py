"""``kraken-market operator parameters``: the market's terms, shown and changed.

Amounts are in DATA with the decimals the token's contract reports (``--base-units``
for whole base units), the fee in percent (``--fee 2.5``) or basis points
(``--fee-bps 250``; 100 bps = 1 %, at most 2000 = 20 %), windows and deadlines as
durations (``7d``, ``2h``, ``90m``). ``set`` changes only what it is given: the rest
keeps its value on chain (the contract takes all seven at once).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kraken_market.cli.common import JsonOption, fails_cleanly, print_json, table
from kraken_market.cli.ledger_common import (
    BaseUnitsOption,
    DevAccountOption,
    KeyFileOption,
    amount,
)
from kraken_market.cli.operator_common import (
    MultisigOption,
    YesOption,
    acting,
    address,
    carry_out,
    reading,
)
from kraken_market.errors import InvalidRequest
from kraken_market.ledger.amounts import parse_amount
from kraken_market.ledger.durations import format_duration, parse_duration

if TYPE_CHECKING:
    from kraken_market.ledger.amounts import Token
    from kraken_market.ledger.model import Parameters

app = typer.Typer(
    help="The market's terms: fee, minimum stake, claim window and bond, computation "
    "deadline, attestations required, treasury.",
    no_args_is_help=True,
)
MAX_FEE_BPS = 2000
"""The highest fee the Authority contract accepts (20 %)."""

LABELS = {
    "treasury": "treasury (receives fees and slashed stakes)",
    "fee_bps": "fee",
    "min_stake": "minimum stake to publish",
    "claim_window": "claim window after a purchase",
    "claim_bond": "claim bond",
    "computation_deadline": "computation deadline (then buyers may reclaim)",
    "attestations_required": "node attestations that pay a computation out",
}


def shown(parameters: Parameters, token: Token) -> dict[str, str]:
    """Each parameter for a person: ``2.5 % (250 bps)``, ``10 DATA``, ``7d``."""
    return {
        "treasury": parameters.treasury,
        "fee_bps": f"{parameters.fee_bps / 100:g} % ({parameters.fee_bps} bps)",
        "min_stake": token.show(parameters.min_stake),
        "claim_window": format_duration(parameters.claim_window),
        "claim_bond": token.show(parameters.claim_bond),
        "computation_deadline": format_duration(parameters.computation_deadline),
        "attestations_required": str(parameters.attestations_required),
    }


def parameters_json(parameters: Parameters, token: Token) -> dict[str, Any]:
    """Base units and seconds for scripts, and the same in DATA and durations."""
    return {
        **{key: (str(v) if isinstance(v, int) else v) for key, v in asdict(parameters).items()},
        "fee_percent": f"{parameters.fee_bps / 100:g}",
        "min_stake_data": token.amount(parameters.min_stake),
        "claim_bond_data": token.amount(parameters.claim_bond),
        "claim_window_text": format_duration(parameters.claim_window),
        "computation_deadline_text": format_duration(parameters.computation_deadline),
    }


@app.command()
@fails_cleanly
def show(as_json: JsonOption = False) -> None:
    """The parameters on chain, amounts in DATA and durations like 7d.

    --json: amounts in base units and durations in seconds (as strings), with
    ``*_data``, ``*_text`` and ``fee_percent`` beside them."""
    chain = reading()
    parameters, token = chain.parameters(), chain.token()
    if as_json:
        print_json(parameters_json(parameters, token))
        return
    values = shown(parameters, token)
    table("market parameters", ["parameter", "value"], [[LABELS[k], v] for k, v in values.items()])


def fee_bps(fee: str | None, bps: int | None) -> int | None:
    """Basis points from ``--fee`` (percent, at most two decimals) or ``--fee-bps``."""
    if fee is not None and bps is not None:
        raise InvalidRequest("give the fee once: --fee in percent or --fee-bps, not both")
    if fee is not None:
        bps = parse_amount(fee.strip().removesuffix("%"), 2, what="--fee", symbol="percent")
    if bps is not None and bps > MAX_FEE_BPS:
        raise InvalidRequest(
            f"the fee may be at most {MAX_FEE_BPS / 100:g} % ({MAX_FEE_BPS} bps), "
            f"not {bps / 100:g} % ({bps} bps)"
        )
    return bps


def _window(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    seconds = parse_duration(text, what)
    if seconds <= 0:
        raise InvalidRequest(f"{what}: a window or deadline must be longer than 0s")
    return seconds


@app.command("set")
@fails_cleanly
def set_parameters(
    treasury: Annotated[
        str | None, typer.Option(help="Account receiving fees and slashed stakes")
    ] = None,
    fee: Annotated[
        str | None, typer.Option(help="Platform fee in percent, e.g. 2.5 (at most 20)")
    ] = None,
    fee_bps_: Annotated[
        int | None,
        typer.Option("--fee-bps", min=0, help="Platform fee in basis points (250 = 2.5 %)"),
    ] = None,
    min_stake: Annotated[str | None, typer.Option(help="Minimum stake to publish, in DATA")] = None,
    claim_bond: Annotated[str | None, typer.Option(help="Bond a claim posts, in DATA")] = None,
    claim_window: Annotated[
        str | None, typer.Option(help="How long buyers may claim after buying: 7d, 48h…")
    ] = None,
    computation_deadline: Annotated[
        str | None,
        typer.Option(help="How long nodes have to deliver before buyers may reclaim: 1h…"),
    ] = None,
    attestations: Annotated[
        int | None, typer.Option(min=1, help="Node attestations that pay a computation out")
    ] = None,
    base_units: BaseUnitsOption = False,
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Change the parameters given; the others keep their value (signed by an admin).

    Purchases and claims carry the amount the user accepted, so a higher fee or bond
    never charges anyone more than they were quoted."""
    bps = fee_bps(fee, fee_bps_)
    window = _window(claim_window, "--claim-window")
    deadline = _window(computation_deadline, "--computation-deadline")
    new_treasury = address(treasury, "--treasury") if treasury is not None else None
    given = (new_treasury, bps, min_stake, claim_bond, window, deadline, attestations)
    if all(value is None for value in given):
        raise InvalidRequest(
            "say what to change: --fee, --min-stake, --claim-bond, --claim-window, "
            "--computation-deadline, --attestations or --treasury (see --help)"
        )
    chain = acting(dev_account, key_file, multisig)
    token, current = chain.token(), chain.parameters()
    changes: dict[str, Any] = {
        "treasury": new_treasury,
        "fee_bps": bps,
        "min_stake": None
        if min_stake is None
        else amount(min_stake, "--min-stake", token, base_units),
        "claim_bond": None
        if claim_bond is None
        else amount(claim_bond, "--claim-bond", token, base_units),
        "claim_window": window,
        "computation_deadline": deadline,
        "attestations_required": attestations,
    }
    wanted = replace(current, **{k: v for k, v in changes.items() if v is not None})
    if wanted == current:
        raise InvalidRequest("the parameters already have these values: nothing to change")
    before, after = shown(current, token), shown(wanted, token)
    differ = [key for key in before if before[key] != after[key]]
    if not as_json:
        table(
            "parameters to change",
            ["parameter", "now", "new"],
            [[LABELS[key], before[key], after[key]] for key in differ],
        )
    warnings = []
    nodes = len(chain.nodes())
    if attestations is not None and wanted.attestations_required > nodes:
        warnings.append(
            f"{wanted.attestations_required} attestations required but {nodes} node(s) "
            "registered: no computation can be paid out until enough nodes are"
        )
    from kraken_market.ledger.proposals import Change

    carry_out(
        chain,
        Change(
            "change the market parameters ("
            + ", ".join(key.removesuffix("_bps").replace("_", " ") for key in differ)
            + ")",
            "Authority",
            "set_parameters",
            wanted.as_args(),
        ),
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done="the parameters are changed",
        warnings=tuple(warnings),
    )
