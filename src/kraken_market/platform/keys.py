"""The local platform's own keys: made on the first start of ``up``, never printed.

Under ``<data_dir>/keys/``, one file per role (mode 0600, the hex private key, as
``--key-file`` reads it):

- ``admin.key``: deploys the contracts, holds their admin role (grants the other
  roles, registers compute nodes, pauses the market) and is the demo admin's
  ledger account;
- ``arbiter.key``: rules on quality claims (the API signs with it for logged-in
  arbiters);
- ``verifier.key``: records grants on chain after the API checked a buyer's
  credentials against the product's policy;
- ``treasury.key``: receives the market's fee and the slashed stakes;
- ``relayer.key``: relays edits that owners signed elsewhere (the phone companion).

Each compute node makes its own account key in its own directory
(``platform.nodes``). On the embedded chain every one of these accounts is funded
at genesis (``chain serve --fund``), so none needs gas money from a well-known
key. eth-tester's dev accounts, whose private keys everyone knows, hold no role:
they only pay the gas of the development faucet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kraken_market.files import read_private, write_private
from kraken_market.platform.errors import SetupMismatch

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

ROLES = ("admin", "arbiter", "verifier", "treasury", "relayer")


@dataclass(frozen=True)
class PlatformKeys:
    directory: Path

    def file(self, role: str) -> Path:
        if role not in ROLES:
            raise ValueError(f"no platform role {role!r}")
        return self.directory / f"{role}.key"

    def account(self, role: str) -> LocalAccount:
        from eth_account import Account

        account: LocalAccount = Account.from_key(read_private(self.file(role)).strip())
        return account

    def addresses(self) -> dict[str, str]:
        return {role: self.account(role).address for role in ROLES}


def keys_dir(data_dir: Path) -> Path:
    return data_dir / "keys"


def platform_keys(data_dir: Path) -> PlatformKeys:
    """The platform's keys, each made now if missing (an existing key is kept)."""
    from eth_account import Account

    keys = PlatformKeys(keys_dir(data_dir.resolve()))
    for role in ROLES:
        path = keys.file(role)
        if not path.is_file():
            write_private(path, bytes(Account.create().key).hex() + "\n")
    return keys


def refuse_public_keys(accounts: Iterable[str], where: str) -> None:
    """Refuse a data directory whose platform roles are eth-tester's dev accounts
    (what ``up`` used before it made keys of its own): anyone could act as them."""
    from kraken_market.ledger.client import dev_account

    public = {dev_account(index).address.lower() for index in range(10)}
    taken = sorted(a for a in accounts if a.lower() in public)
    if taken:
        raise SetupMismatch(
            f"{where} gives platform roles to development accounts whose private keys are "
            "public, so anyone could act as the platform: move this data directory away "
            "and run 'kraken-market up' again to start a platform with keys of its own",
            details={"accounts": taken},
        )
