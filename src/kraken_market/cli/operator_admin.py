"""``kraken-market operator admin``: hand the admin role to another account in two steps.

The Authority's roles are snekmate's access control (OpenZeppelin's model), which
has no pending-admin slot; the two steps are built on it so that no mistake can
leave the marketplace without an admin who can sign:

1. ``offer --to NEW``, signed by the current admin, *grants* the admin role to NEW.
   The current admin keeps it: from here both are admins. A mistyped NEW locks
   nobody out; ``cancel --to NEW`` takes the role back from it.
2. ``accept --from OLD``, signed by NEW, *revokes* OLD's admin role. Only an account
   that can sign as NEW can do it, so the old admin loses the role only once the new
   one has shown it works. A multisig shows it by executing this step itself
   (``--multisig NEW`` prints the transaction to propose in it).

No command here removes the signer's own admin role (there is no renounce), so the
signer of every step is still an admin after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kraken_market.cli.common import JsonOption, fails_cleanly
from kraken_market.cli.ledger_common import DevAccountOption, KeyFileOption
from kraken_market.cli.operator_common import (
    ROLES_HINT,
    MultisigOption,
    YesOption,
    acting,
    address,
    carry_out,
    sender_of,
)
from kraken_market.ledger.errors import AdminTransferRefused

if TYPE_CHECKING:
    from kraken_market.ledger.client import Ledger

app = typer.Typer(
    help="Hand the admin role to another account (a multisig, say) in two steps: the "
    "admin offers it (offer --to NEW), the new account accepts it (accept --from OLD), "
    "and only then does the old admin lose it.",
    no_args_is_help=True,
)
PROGRAM = "kraken-market operator admin"


def _fresh(chain: Ledger, account: str) -> bool:
    """``account`` has no code, no ether and never sent a transaction (a typo looks so)."""
    w3 = chain.w3
    return (
        not w3.eth.get_code(account)  # type: ignore[arg-type]
        and w3.eth.get_transaction_count(account) == 0  # type: ignore[arg-type]
        and w3.eth.get_balance(account) == 0  # type: ignore[arg-type]
    )


@app.command()
@fails_cleanly
def offer(
    to: Annotated[str, typer.Option("--to", help="The new admin's account (e.g. a multisig)")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Step 1, by the current admin: give the admin role to --to as well.

    Both are admins until the new one accepts (step 2) or you cancel the offer."""
    from kraken_market.ledger.client import ADMIN_ROLE
    from kraken_market.ledger.proposals import Change

    new = address(to, "--to")
    chain = acting(dev_account, key_file, multisig)
    old = sender_of(chain, multisig)
    if new == old:
        raise AdminTransferRefused(
            f"--to is {old}, the account making the offer; give the new admin's account"
        )
    if chain.has_role("admin", new):
        raise AdminTransferRefused(
            f"{new} is an admin already: to finish the transfer it signs "
            f"'{PROGRAM} accept --from {old}'"
        )
    warnings: tuple[str, ...] = ()
    if _fresh(chain, new):
        warnings = (
            f"{new} has never sent a transaction, holds no ether and is no contract: check "
            "the address letter by letter (you keep the admin role either way, and can "
            f"withdraw the offer with '{PROGRAM} cancel --to {new}')",
        )
    carry_out(
        chain,
        Change(
            f"offer the admin role to {new} (step 1 of 2: {old} stays admin until {new} accepts)",
            "Authority",
            "grantRole",
            (ADMIN_ROLE, new),
        ),
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done=f"{new} holds the admin role beside {old}",
        warnings=warnings,
        next_step=f"sign step 2 as {new}: '{PROGRAM} accept --from {old}' (a multisig: "
        f"add --multisig {new} and execute the transaction it prints); or withdraw the "
        f"offer: '{PROGRAM} cancel --to {new}'",
    )


@app.command()
@fails_cleanly
def accept(
    from_: Annotated[str, typer.Option("--from", help="The admin handing the role over")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Step 2, by the new admin: take the admin role from --from.

    Signed with the new admin's key, or executed by the multisig (--multisig prints
    the transaction): the old admin loses the role only now."""
    from kraken_market.ledger.client import ADMIN_ROLE
    from kraken_market.ledger.proposals import Change

    old = address(from_, "--from")
    chain = acting(dev_account, key_file, multisig)
    new = sender_of(chain, multisig)
    if new == old:
        raise AdminTransferRefused(
            f"--from is {new}, the account accepting; sign with the new admin's key and "
            "name the admin handing the role over"
        )
    if not chain.has_role("admin", new):
        raise AdminTransferRefused(
            f"{new} holds no admin role to accept: the current admin first offers it "
            f"with '{PROGRAM} offer --to {new}'"
        )
    if not chain.has_role("admin", old):
        raise AdminTransferRefused(f"{old} is no admin: nothing to take over; {ROLES_HINT}")
    carry_out(
        chain,
        Change(
            f"take the admin role over from {old} (step 2 of 2: {old} is no admin after it)",
            "Authority",
            "revokeRole",
            (ADMIN_ROLE, old),
        ),
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done=f"{new} is admin and {old} no longer is",
    )


@app.command()
@fails_cleanly
def cancel(
    to: Annotated[str, typer.Option("--to", help="The account the role was offered to")],
    dev_account: DevAccountOption = None,
    key_file: KeyFileOption = None,
    multisig: MultisigOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Withdraw an offer not yet accepted: take the admin role back from --to.

    For a mistyped account or a change of plan; signed by the admin who stays."""
    from kraken_market.ledger.client import ADMIN_ROLE
    from kraken_market.ledger.proposals import Change

    offered = address(to, "--to")
    chain = acting(dev_account, key_file, multisig)
    admin = sender_of(chain, multisig)
    if offered == admin:
        raise AdminTransferRefused(
            f"--to is {admin}, the account signing: an admin never removes its own role "
            "here; name the account the role was offered to"
        )
    if not chain.has_role("admin", offered):
        raise AdminTransferRefused(f"{offered} holds no admin role: no offer to withdraw")
    carry_out(
        chain,
        Change(
            f"withdraw the admin role offered to {offered}",
            "Authority",
            "revokeRole",
            (ADMIN_ROLE, offered),
        ),
        multisig=multisig,
        yes=yes,
        as_json=as_json,
        done=f"{offered} no longer holds the admin role",
    )
