"""Deploying the marketplace's contracts (``kraken-market chain deploy``).

Order: DataToken (unless an existing token's address is configured), the
Faucet (embedded chain only, made a DataToken minter), Authority (the
deployer becomes admin; roles for the arbiter and verifier accounts), Registry,
Market, then the Registry is wired to the Market once. The result is a
:class:`~kraken_market.ledger.deployment.Deployment`; deploying again with an
existing, valid deployment file for the same chain reuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils.address import is_address, to_checksum_address
from web3 import Web3
from web3.exceptions import Web3Exception

from kraken_market.errors import InvalidRequest
from kraken_market.ledger.client import Ledger
from kraken_market.ledger.contracts import artifact
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import (
    DeploymentNotOnChain,
    LedgerError,
    NotDeployed,
    TokenChanged,
)
from kraken_market.ledger.model import Parameters
from kraken_market.ledger.transactions import EventDecoder, Sender
from kraken_market.logs import get_logger

log = get_logger(__name__)
DATA_TOKEN = ("DATA", 18)
"""Symbol and decimals DataToken.vy is made with (a test reads them back from the
deployed contract): what a deployment's own amounts are counted in before it exists."""
INITIAL_SUPPLY = 1_000_000_000 * 10**18
"""DATA minted to the deployer of a development token (1e9 DATA)."""
FAUCET_MAX_DRIP = 100_000 * 10**18


def _deploy(sender: Sender, name: str, *args: object) -> str:
    built = artifact(name)
    factory = sender.w3.eth.contract(abi=built.abi, bytecode=built.bytecode)
    receipt = sender.transact(factory.constructor(*args), f"deploy {name}")
    if not receipt.contract_address:
        raise LedgerError(f"deploying {name} created no contract")
    log.info("contract_deployed", contract=name, address=receipt.contract_address)
    return str(receipt.contract_address)


def token_units(w3: Web3, token_address: str | None) -> tuple[str, int]:
    """Symbol and decimals of the token a deployment will count in: an existing token's,
    read from its contract, else DataToken's own (:data:`DATA_TOKEN`). For the amounts
    of the market parameters (minimum stake, claim bond), typed in whole tokens."""
    if token_address is None:
        return DATA_TOKEN
    return read_token_units(w3, token_address)


def read_token_units(w3: Web3, token_address: str) -> tuple[str, int]:
    """Symbol and decimals the ERC-20 contract at ``token_address`` reports; refused
    with a message naming the address when there is no contract or not an ERC-20."""
    if not is_address(token_address):
        raise InvalidRequest(
            f"the token address {token_address!r} is not an address (0x and 40 hex digits, "
            "or a mixed-case address with a wrong EIP-55 checksum): check "
            "KRAKEN_CHAIN_TOKEN_ADDRESS"
        )
    address = to_checksum_address(token_address)
    if not w3.eth.get_code(address):
        raise NotDeployed(f"no token contract at the configured address {address}")
    token = w3.eth.contract(address=address, abi=artifact("DataToken").abi)
    try:
        return str(token.functions.symbol().call()), int(token.functions.decimals().call())
    except (Web3Exception, ValueError) as exc:  # no such functions: web3 cannot decode
        raise NotDeployed(
            f"the contract at {address} does not answer as an ERC-20 token (symbol(), "
            f"decimals()): check KRAKEN_CHAIN_TOKEN_ADDRESS ({type(exc).__name__})"
        ) from exc


@dataclass(frozen=True)
class Roles:
    """Who gets which role at deployment, and where the token comes from."""

    arbiters: tuple[str, ...] = ()
    verifiers: tuple[str, ...] = ()
    token_address: str | None = None
    """An existing token (real chains); None deploys DataToken."""
    faucet: bool = False
    """Deploy the faucet: embedded development chain only."""


def deploy(
    w3: Web3, admin: LocalAccount, parameters: Parameters, roles: Roles = Roles()
) -> Deployment:
    """Deploy every contract from ``admin``'s account and configure roles."""
    token_address, faucet = roles.token_address, roles.faucet
    sender = Sender(w3, admin, EventDecoder({}))
    first_block = int(w3.eth.block_number) + 1
    token_deployed = token_address is None
    token = (
        _deploy(sender, "DataToken", INITIAL_SUPPLY)
        if token_address is None
        else to_checksum_address(token_address)
    )
    if not token_deployed and not w3.eth.get_code(to_checksum_address(token)):
        raise NotDeployed(f"no token contract at the configured address {token}")
    faucet_address = _deploy(sender, "Faucet", token, FAUCET_MAX_DRIP) if faucet else None
    authority = _deploy(sender, "Authority", *parameters.as_args())
    registry = _deploy(sender, "Registry", authority)
    market = _deploy(sender, "Market", authority, registry, token)
    deployment = Deployment(
        chain_id=int(w3.eth.chain_id),
        block=first_block,
        admin=admin.address,
        token=token,
        faucet=faucet_address,
        authority=authority,
        registry=registry,
        market=market,
        deployed_at=datetime.now(UTC),
        token_deployed=token_deployed,
    )
    ledger = Ledger(w3, deployment, admin)
    ledger.transact("wire registry to market", "Registry", "set_market", market)
    if faucet_address:
        ledger.transact("make the faucet a minter", "DataToken", "set_minter", faucet_address, True)
    for account in roles.arbiters:
        ledger.grant_role("arbiter", account)
    for account in roles.verifiers:
        ledger.grant_role("verifier", account)
    return deployment


def check_same_token(existing: Deployment, token_address: str | None, path: Path) -> None:
    """Refuse to reuse ``existing`` when the token configured now is not its token: it
    would silently go on counting in the old one."""
    if token_address is None:
        if existing.token_deployed:
            return
        raise TokenChanged(
            f"the deployment in {path} uses the existing token {existing.token}, but "
            "KRAKEN_CHAIN_TOKEN_ADDRESS is not set now (which would deploy DataToken): set it "
            "back to reuse that deployment, or deploy a new marketplace with --force",
            details={"deployed_token": existing.token, "configured_token": None},
        )
    if to_checksum_address(token_address) == to_checksum_address(existing.token):
        return
    raise TokenChanged(
        f"the deployment in {path} counts in the token {existing.token}, but "
        f"KRAKEN_CHAIN_TOKEN_ADDRESS names {to_checksum_address(token_address)}: a "
        "deployment's token cannot change. Set it back to reuse that deployment, or deploy "
        "a new marketplace with --force (its products, stakes and payments start empty)",
        details={"deployed_token": existing.token, "configured_token": token_address},
    )


def deploy_or_reuse(
    w3: Web3,
    admin: LocalAccount,
    parameters: Parameters,
    path: Path,
    roles: Roles = Roles(),
    *,
    stale_redeploys: bool = True,
) -> tuple[Deployment, bool]:
    """The deployment in ``path`` if it is valid on this chain, else a new one
    saved there; and whether it was reused.

    ``stale_redeploys``: a deployment file whose contracts the chain lacks is
    replaced by a new deployment. Right on the embedded chain (its ``chain.db`` was
    made anew); off it, refused (``DeploymentNotOnChain``): there it means the wrong
    chain URL far more often than a lost chain, and deploying would spend real gas."""
    if path.is_file():
        existing = Deployment.load(path)
        try:
            Ledger(w3, existing, admin).check_deployed()
        except NotDeployed as exc:
            if not stale_redeploys:
                here = int(w3.eth.chain_id)
                raise DeploymentNotOnChain(
                    f"{path} names the marketplace on chain {existing.chain_id} (Market "
                    f"{existing.market}), which this chain (id {here}) does not have: "
                    f"{exc.message}. Check KRAKEN_CHAIN_URL. To deploy a new marketplace "
                    f"here on purpose, run 'kraken-market chain deploy --force' (the old "
                    f"file is kept beside it)",
                    details={"file": str(path), "chain_id": here, "market": existing.market},
                ) from exc
            log.warning("deployment_stale", path=str(path), reason=exc.message)
        else:
            check_same_token(existing, roles.token_address, path)
            return existing, True
    deployment = deploy(w3, admin, parameters, roles)
    deployment.save(path)  # a stale file of the embedded chain names contracts gone with it
    return deployment, False


def _other(path: Path, deployment: Deployment) -> bool:
    try:
        return Deployment.load(path) != deployment
    except Exception:
        return True


def save_replacing(deployment: Deployment, path: Path) -> Path | None:
    """Write ``deployment`` to ``path``; a different deployment there is first kept as
    ``<name>.replaced-<UTC time, to the microsecond>.json`` (the only record of its
    addresses). Returns where the old one went, if anywhere."""
    kept = None
    if path.is_file() and _other(path, deployment):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        kept = path.with_name(f"{path.stem}.replaced-{stamp}{path.suffix}")
        path.replace(kept)
        log.warning("deployment_replaced", kept=str(kept))
    deployment.save(path)
    return kept
