"""The token's units come from its contract: DataToken's 18 decimals, and a token with
6 (an existing token configured instead of DataToken) priced, staked and paid in its
own units, in process."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3
from web3.types import Wei

from kraken_market.catalog.ids import new_product_id
from kraken_market.ledger.amounts import Token
from kraken_market.ledger.client import Ledger, dev_account
from kraken_market.ledger.deploy import DATA_TOKEN, Roles, deploy, token_units
from kraken_market.ledger.errors import NotDeployed
from kraken_market.ledger.model import ModeCode, Parameters, Prices
from tests.ledger.conftest import PARAMETERS, Market

SIX_DECIMALS = """\
# pragma version ~=0.4.3
from snekmate.auth import ownable as ow
from snekmate.tokens import erc20

initializes: ow
initializes: erc20[ownable := ow]

exports: erc20.__interface__


@deploy
def __init__(initial_supply: uint256):
    ow.__init__()
    erc20.__init__("Test Dollar", "USDX", 6, "Test Dollar", "1")
    erc20._mint(msg.sender, initial_supply)
"""
USDX = 10**6


def compiled_token(folder: Path) -> tuple[list[dict[str, object]], str]:
    """ABI and bytecode of an ERC-20 with 6 decimals (snekmate's, as DataToken's)."""
    from vyper.cli.vyper_compile import compile_files

    source = folder / "SixDecimals.vy"
    source.write_text(SIX_DECIMALS)
    (built,) = compile_files([str(source)], ("abi", "bytecode"), paths=[str(folder)]).values()
    return built["abi"], built["bytecode"]


def six_decimal_token(w3: Web3, owner: LocalAccount, folder: Path) -> str:
    """The address of a new 6-decimal token, its supply minted to ``owner``."""
    abi, bytecode = compiled_token(folder)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    sent = factory.constructor(10**9 * USDX).build_transaction(
        {"from": owner.address, "nonce": w3.eth.get_transaction_count(owner.address)}
    )
    signed = owner.sign_transaction(sent)
    tx = w3.eth.send_raw_transaction(signed.raw_transaction)
    return str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])


@pytest.fixture(scope="module")
def six_decimal_market(tmp_path_factory: pytest.TempPathFactory) -> tuple[Market, str]:
    """A marketplace deployed over an existing 6-decimal token, as on a real chain."""
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    admin = dev_account(0)
    token = six_decimal_token(w3, admin, tmp_path_factory.mktemp("token"))
    parameters = {**PARAMETERS, "min_stake": 10 * USDX, "claim_bond": 5 * USDX}
    deployment = deploy(
        w3,
        admin,
        Parameters(treasury=dev_account(3).address, **parameters),
        Roles(verifiers=(dev_account(2).address,), token_address=token),
    )
    return Market("in-process", w3, deployment), token


def test_datatoken_reports_the_units_a_deployment_counts_in(local_market: Market) -> None:
    token = local_market.buyer.token()
    assert token == Token(local_market.deployment.token, *DATA_TOKEN)
    assert (token.symbol, token.decimals) == ("DATA", 18)
    assert token_units(local_market.w3, None) == DATA_TOKEN


def test_a_six_decimal_token_prices_stakes_and_pays_in_its_own_units(
    six_decimal_market: tuple[Market, str],
) -> None:
    market, address = six_decimal_market
    assert token_units(market.w3, address) == ("USDX", 6)
    seller, buyer = market.seller, market.buyer
    token = seller.token()
    assert (token.symbol, token.decimals, token.address) == ("USDX", 6, address)
    for ledger in (seller, buyer):
        market.admin.transfer(ledger.address, token.parse("1000"))
    product = new_product_id()
    price, stake = token.parse("2.5", "--price-access"), token.parse("10", "--stake")
    assert (price, stake) == (2_500_000, 10_000_000)
    seller.publish(product, mode=ModeCode.BATCH, prices=Prices(access=price), stake=stake)
    assert seller.stake(product).amount == 10 * USDX
    market.grant(buyer, product)
    before = buyer.balance()
    _, receipt = buyer.buy_access(product, 0, max_amount=price)
    assert receipt.first("AccessPurchased").args["amount"] == price
    assert token.show(before - buyer.balance()) == "2.5 USDX"


def test_a_configured_token_that_is_not_there_is_refused(local_market: Market) -> None:
    with pytest.raises(NotDeployed, match="no token contract"):
        token_units(local_market.w3, "0x" + "12" * 20)


def test_the_token_is_read_once_per_client(local_market: Market) -> None:
    reader = Ledger(local_market.w3, local_market.deployment, dev_account(9))
    first = reader.token()
    assert reader.token() is first  # cached: an ERC-20's decimals never change
    assert reader.acting_as(dev_account(8)).token() is first


def test_up_asks_a_claim_bond_of_ten_tokens_in_the_tokens_own_units(tmp_path: Path) -> None:
    """``up`` over an existing token (deployed here with the platform admin's key, which
    makes the development faucet its minter)."""
    from kraken_market.platform.keys import platform_keys
    from kraken_market.platform.launch import deploy_platform
    from kraken_market.settings import Settings

    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
    keys = platform_keys(tmp_path / "data")
    admin = keys.account("admin")
    funded = w3.eth.send_transaction(
        {"from": dev_account(0).address, "to": admin.address, "value": Wei(10**19)}
    )
    w3.eth.wait_for_transaction_receipt(funded)
    token = six_decimal_token(w3, admin, tmp_path)
    settings = Settings(data_dir=tmp_path / "data", chain_token_address=token)
    deployment, reused = deploy_platform(w3, settings, keys)
    assert not reused
    assert Ledger(w3, deployment, admin).parameters().claim_bond == 10 * USDX
