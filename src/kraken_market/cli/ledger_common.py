"""What the chain commands share: who signs, the connection, amounts in DATA.

Amounts are typed and shown in DATA with the decimals the token contract reports
(:mod:`kraken_market.ledger.amounts`): from the chain client (``Ledger.token()``) where
the command has one, else from the API (``GET /api/v1/ledger/token``, :func:`api_token`).

web3 is imported lazily, inside the functions: importing it (through py-evm)
raises the process's recursion limit, which the API process must not inherit
(see ``kraken_market.jsondepth``).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kraken_market.cli.common import settings
from kraken_market.client import ApiError, MarketClient
from kraken_market.errors import InvalidRequest
from kraken_market.ledger.amounts import Token, parse_amount
from kraken_market.ledger.errors import InvalidAmount

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from kraken_market.ledger.client import Ledger

NO_TOKEN = frozenset({"not_deployed", "chain_unavailable", "not_found"})
"""API answers meaning: no chain to read the token from (yet), or an API from before
``GET /api/v1/ledger/token``."""

DevAccountOption = Annotated[
    int | None,
    typer.Option(
        "--dev-account",
        min=0,
        max=9,
        help="Sign with dev account N (0-9) of the embedded chain: 0 admin, 1 arbiter, "
        "2 verifier, 3 treasury, 4-6 compute nodes, 7-9 users. Development only.",
    ),
]
BaseUnitsOption = Annotated[
    bool,
    typer.Option(
        "--base-units",
        help="Amounts you give are whole base units of the token (for scripts), "
        "not DATA with decimals.",
    ),
]
KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        help="File (mode 0600) with the hex private key to sign with (default: "
        "KRAKEN_CHAIN_KEY_FILE, else the account in your wallet, KRAKEN_WALLET).",
    ),
]


def api_token(api: MarketClient) -> Token | None:
    """The token as the API reads it from the chain (for commands without a chain
    client); None when the API has no chain to read it from yet."""
    try:
        return Token.from_json(api.token())
    except ApiError as exc:
        if exc.api_code in NO_TOKEN:
            return None
        raise


def amount(text: str, what: str, token: Token | None, base_units: bool = False) -> int:
    """Base units of the amount typed for ``what`` (the option as typed, e.g.
    ``--stake``): DATA with decimals, or whole base units with ``--base-units``."""
    if base_units:
        return parse_amount(text, 0, what=what, symbol="base units")
    if token is None:
        raise InvalidAmount(
            f"{what}: amounts are in DATA, but the token's decimals are unknown (the API has "
            "no chain to read them from: start the platform with 'kraken-market up'); or "
            "give whole base units with --base-units",
            details={"option": what, "value": text},
        )
    return token.parse(text, what)


def figure(units: int | str, token: Token | None) -> str:
    """A bare amount for a table column headed by :func:`unit`: ``2.5``."""
    return token.amount(units) if token is not None else str(int(units))


def unit(token: Token | None) -> str:
    """What :func:`figure` counts in: ``DATA``, or ``base units`` while the token is unknown."""
    return token.symbol if token is not None else "base units"


def shown(units: int | str | None, token: Token | None) -> str:
    """An amount for a person: ``2.5 DATA``; ``N base units`` while the token is unknown."""
    if units is None:
        return ""
    return token.show(units) if token is not None else f"{units} base units"


def read_key_file(path: Path) -> str:
    """The key in ``path``; refused if others may read it (like ssh does)."""
    if not path.is_file():
        raise InvalidRequest(f"no key file at {path}")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidRequest(f"{path} is readable by others: run 'chmod 600 {path}'")
    return path.read_text(encoding="utf-8").strip()


def signer(dev_account: int | None, key_file: Path | None) -> LocalAccount:
    from eth_account import Account

    from kraken_market.ledger.client import dev_account as dev

    if dev_account is not None and key_file is not None:
        raise InvalidRequest("give either --dev-account or --key-file, not both")
    if dev_account is not None:
        return dev(dev_account)
    config = settings()
    path = key_file or config.chain_key_file
    if path is None and config.wallet_file.is_file():
        # The person's own account, from their wallet (keystore v3): what they pay from
        # and what their DID is bound to ('wallet bind').
        from kraken_market.cli.wallet import unlocked

        wallet_account: LocalAccount = unlocked(config.wallet_file).keys.account
        return wallet_account
    if path is None:
        raise InvalidRequest(
            "say who signs: your wallet (kraken-market wallet create), --key-file PATH "
            "(or KRAKEN_CHAIN_KEY_FILE), or --dev-account N on the embedded development chain"
        )
    try:
        account: LocalAccount = Account.from_key(read_key_file(path))
    except ValueError as exc:
        raise InvalidRequest(f"{path} does not hold a private key: {exc}") from None
    return account


def own_address(dev_account: int | None, key_file: Path | None) -> str:
    """The account the person means by "mine": the signer's, or their wallet's account
    read without unlocking it (a balance needs no key)."""
    config = settings()
    signer_given = dev_account is not None or key_file is not None or config.chain_key_file
    if not signer_given and config.wallet_file.is_file():
        from kraken_market.identity.wallet import Wallet

        return Wallet.open(config.wallet_file).address
    return signer(dev_account, key_file).address


def ledger(
    dev_account: int | None = None, key_file: Path | None = None, *, signs: bool = False
) -> Ledger:
    """A ledger client for the configured chain and deployment, signing as told; for
    reads (``signs=False``) without a signer, with a throwaway account that never signs."""
    from kraken_market.ledger.client import Ledger, connect
    from kraken_market.ledger.deployment import Deployment

    config = settings()
    account = signer(dev_account, key_file) if signs else None
    deployment = Deployment.load(config.deployment_file)
    w3 = connect(config.resolved_chain_url)
    if not signs and dev_account is None and key_file is None and config.chain_key_file is None:
        from eth_account import Account

        reader: LocalAccount = Account.create()  # reads only: never signs
        return Ledger(w3, deployment, reader, log_range=config.chain_log_range)
    return Ledger(
        w3,
        deployment,
        account or signer(dev_account, key_file),
        log_range=config.chain_log_range,
    )


def product_key(value: str) -> bytes:
    from kraken_market.ledger.client import as_bytes32

    try:
        return as_bytes32(value)
    except ValueError:
        raise InvalidRequest(f"{value!r} is not an id: expected 0x and 64 hex digits") from None
