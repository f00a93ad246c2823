"""What the operator's commands share: who signs, checking a change before asking,
confirming it, sending it (or handing it to a multisig), and printing the outcome.

Every change goes the same way (:func:`carry_out`): the input is checked first
(addresses, amounts, durations: nothing is asked or sent while it is wrong), then
the change runs as a call from the account that would send it, so the contract's
refusal ("only a platform admin may do this", "already paused") comes before the
confirmation; then the person confirms (``--yes`` skips it), and only then is the
transaction signed and sent. With ``--multisig ADDRESS`` nothing is signed: the
change is checked as that account would make it and printed as a transaction
(to, value, data) for the multisig's owners to propose and sign.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kraken_market.cli.common import err, out, print_json
from kraken_market.cli.ledger_common import ledger
from kraken_market.errors import InvalidRequest
from kraken_market.ledger.errors import InvalidAddress, NotConfirmed, NotPermitted

if TYPE_CHECKING:
    from kraken_market.ledger.client import Ledger
    from kraken_market.ledger.proposals import Change

YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")
]
MultisigOption = Annotated[
    str | None,
    typer.Option(
        "--multisig",
        metavar="ADDRESS",
        help="Sign nothing: check the change as the account ADDRESS (a multisig holding "
        "the role) would make it, and print the transaction (to, value, data) to propose "
        "in the multisig's app.",
    ),
]
ROLES_HINT = "see who holds which role with 'kraken-market operator roles'"


def address(text: str, what: str) -> str:
    """The checksummed account ``text``; :class:`InvalidAddress` naming ``what`` (the
    option or argument as typed) when it is not one, or is the zero address."""
    from eth_utils.address import is_address, to_checksum_address

    typed = text.strip()
    if not is_address(typed):
        shown = typed if len(typed) <= 50 else typed[:50] + "…"
        raise InvalidAddress(
            f"{what}: {shown!r} is not an account address: write 0x and 40 hex digits "
            "(copy it whole; a mixed-case address must have a valid checksum)",
            details={"option": what, "value": shown},
        )
    if int(typed, 16) == 0:
        raise InvalidAddress(
            f"{what}: the zero address belongs to nobody; give the account meant",
            details={"option": what},
        )
    return str(to_checksum_address(typed))


def reading() -> Ledger:
    """A ledger client that reads, once the deployment file's contracts are found on
    the configured chain (else ``not_deployed``, saying which chain each names)."""
    chain = ledger()
    chain.check_deployed()
    return chain


def acting(dev_account: int | None, key_file: Path | None, multisig: str | None) -> Ledger:
    """The ledger client a change is made with: the signer's, or a reader when the
    change goes to a multisig (``--multisig``; no key may be given then); either
    once the deployment's contracts are found on the chain."""
    if multisig is not None:
        if dev_account is not None or key_file is not None:
            raise InvalidRequest(
                "--multisig: the multisig's owners sign, not a key of yours; drop "
                "--key-file/--dev-account"
            )
        address(multisig, "--multisig")
        return reading()
    chain = ledger(dev_account, key_file, signs=True)
    chain.check_deployed()
    return chain


def sender_of(chain: Ledger, multisig: str | None) -> str:
    """The account the change is made from: the multisig, else the signer."""
    return address(multisig, "--multisig") if multisig is not None else chain.address


def confirm(question: str, yes: bool) -> None:
    """Ask ``question`` on the terminal (stderr, so ``--json`` stays clean) unless
    ``yes``; anything but yes sends nothing (:class:`NotConfirmed`)."""
    if yes:
        return
    try:
        agreed = typer.confirm(question, default=False, err=True)
    except typer.Abort:  # no answer to read (a script without --yes)
        agreed = False
    if not agreed:
        raise NotConfirmed(
            "nothing sent: not confirmed; run the command again and answer y, or add "
            "--yes in a script"
        )


def carry_out(
    chain: Ledger,
    change: Change,
    *,
    multisig: str | None,
    yes: bool,
    as_json: bool,
    done: str,
    warnings: tuple[str, ...] = (),
    next_step: str | None = None,
) -> None:
    """Check ``change`` from the account that would make it, confirm it, send it (or
    print it for the multisig), and print ``done`` (what happened, in words) and
    ``next_step`` (what to do next, if anything: ``next`` in JSON)."""
    from kraken_market.ledger.proposals import check

    sender = sender_of(chain, multisig)
    try:
        proposal = check(chain, change, sender)
    except NotPermitted as exc:
        whose = "the multisig" if multisig else "the account you sign with"
        raise type(exc)(
            f"{exc.message}; {sender} ({whose}) does not hold the role it needs: {ROLES_HINT}",
            reason=exc.reason,
        ) from exc
    for warning in warnings:
        err.print(
            f"warning: {warning}", style="yellow", markup=False, highlight=False, soft_wrap=True
        )
    if multisig is not None:
        if as_json:
            print_json(
                {
                    "action": change.action,
                    "sent": False,
                    "proposal": proposal.as_json(),
                    "next": next_step,
                }
            )
            return
        out.print(
            f"checked: {sender} may {change.action}. Nothing was sent: propose this "
            "transaction in the multisig and have its owners sign it.",
            markup=False,
            soft_wrap=True,
        )
        for name, value in proposal.as_json().items():
            out.print(f"  {name:<8} {value}", markup=False, highlight=False, soft_wrap=True)
        if next_step:
            out.print(f"once executed: {next_step}", markup=False, soft_wrap=True)
        return
    confirm(f"{change.action[0].upper()}{change.action[1:]} (signed by {sender})?", yes)
    receipt = chain.transact(change.action, change.contract, change.function, *change.args)
    receipt_out(receipt, as_json, change.action, done, next_step)


def receipt_out(
    receipt: Any, as_json: bool, action: str, done: str, next_step: str | None = None
) -> None:
    """What a sent change did: ``done`` and its transaction (JSON: hash, block, gas,
    events, ``next``)."""
    if as_json:
        print_json(
            {
                "action": action,
                "sent": True,
                "tx_hash": receipt.tx_hash,
                "block": receipt.block_number,
                "gas_used": receipt.gas_used,
                "events": [event.name for event in receipt.events],
                "next": next_step,
            }
        )
        return
    out.print(
        f"{done} (tx {receipt.tx_hash}, block {receipt.block_number})", markup=False, soft_wrap=True
    )
    if next_step:
        out.print(f"next: {next_step}", markup=False, soft_wrap=True)
