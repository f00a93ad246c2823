"""Contract calls built, read back and put in words (ledger.calls): pure, no chain. The
same sentences as the wallet app's (web/apps/wallet/test/signing.test.ts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from eth_account import Account

from kraken_market.ledger.amounts import Token
from kraken_market.ledger.calls import (
    CallInvalid,
    TransactionUnreadable,
    decode,
    encode,
    read_signed,
    words,
)
from kraken_market.ledger.deployment import Deployment

DEPLOYMENT = Deployment(
    chain_id=131277322940537,
    block=1,
    admin="0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf",
    token="0xF2E246BB76DF876Cef8b38ae84130F4F55De395b",
    faucet=None,
    authority="0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    registry="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    market="0xB9816fC57977D5A786E654c7CF76767be63b966e",
    deployed_at=datetime(2026, 12, 7, tzinfo=UTC),
    token_deployed=True,
)
DATA = Token(DEPLOYMENT.token, "DATA", 18)
ME = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
FRIEND = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
PRODUCT = "0x" + "ab" * 32


def said(contract: str, function: str, arguments: list[Any]) -> str:
    to, data = encode(DEPLOYMENT, contract, function, arguments)
    return words(decode(DEPLOYMENT, to, data), DATA, DEPLOYMENT, ME)


def test_the_marketplaces_calls_in_words() -> None:
    market = DEPLOYMENT.market
    assert said("DataToken", "approve", [market, "12500000000000000000"]) == (
        f"Allow the marketplace ({market}) to spend up to 12.5 DATA"
    )
    assert said("DataToken", "transfer", [FRIEND, 3 * 10**18]) == f"Send 3 DATA to {FRIEND}"
    assert said("Market", "buy_access", [PRODUCT, 1, str(4 * 10**18)]) == (
        f"Buy access to product {PRODUCT} for purpose 1, paying at most 4 DATA"
    )
    prices = {"access": "2500000000000000000", "computation": 0}
    prices |= {"subscription_per_second": 0, "subscription_min_seconds": 60}
    assert said("Registry", "set_prices", [PRODUCT, prices]) == (
        f"Change the prices of product {PRODUCT} to {{access 2.5 DATA, "
        "subscription_per_second 0 DATA, subscription_min_seconds 60, computation 0 DATA}"
    )
    role = "0x" + "00" * 32
    assert said("Authority", "grantRole", [role, ME]) == (
        f"Call grantRole on the marketplace's authority (role {role}, account your account {ME})"
    )


@pytest.mark.parametrize(
    ("contract", "function", "arguments", "says"),
    [
        ("Vault", "approve", [], "is not a contract of this marketplace"),
        ("Faucet", "drip", [ME, 1], "is not a contract of this marketplace"),  # none deployed
        ("DataToken", "balanceOf", [ME], "no function 'balanceOf' that a transaction can call"),
        ("DataToken", "approve", [ME], "takes 2 arguments (spender, amount), not 1"),
        ("DataToken", "approve", ["0x12", 1], "spender: expected an address"),
        ("DataToken", "approve", [ME, 1.5], "amount: expected a whole number"),
        ("DataToken", "approve", [ME, -1], "the arguments do not fit"),
        ("Market", "buy_access", ["0x12", 1, 1], "the arguments do not fit"),  # not 32 bytes
    ],
)
def test_a_call_that_does_not_fit_the_abi_is_refused(
    contract: str, function: str, arguments: list[Any], says: str
) -> None:
    with pytest.raises(CallInvalid) as refused:
        encode(DEPLOYMENT, contract, function, arguments)
    assert says in refused.value.message


def test_call_data_is_read_only_against_the_contract_at_its_target() -> None:
    to, data = encode(DEPLOYMENT, "DataToken", "transfer", [FRIEND, 1])
    with pytest.raises(CallInvalid, match="not a call of the Market contract"):
        decode(DEPLOYMENT, DEPLOYMENT.market, data)
    with pytest.raises(CallInvalid, match="not one of this marketplace's contracts"):
        decode(DEPLOYMENT, FRIEND, data)
    assert decode(DEPLOYMENT, to.lower(), data).function == "transfer"


def test_call_data_cut_short_after_a_known_selector_is_refused_in_words() -> None:
    to, data = encode(DEPLOYMENT, "DataToken", "transfer", [FRIEND, 1])
    for cut in (data[:10], data[:-2], data[:74]):  # the selector alone; one byte short; half
        with pytest.raises(CallInvalid, match="not a call of the DataToken contract"):
            decode(DEPLOYMENT, to, cut)


def test_a_signed_transaction_is_read_back_with_its_sender() -> None:
    key = Account.create()
    fields = {"chainId": 7, "nonce": 3, "to": FRIEND, "data": "0x1234", "value": 0, "gas": 50_000}
    fees = {"maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9}
    raw = "0x" + bytes(key.sign_transaction({"type": 2, **fields, **fees}).raw_transaction).hex()
    signed = read_signed(raw)
    assert (signed.sender, signed.chain_id, signed.nonce, signed.to) == (key.address, 7, 3, FRIEND)
    assert (signed.data, signed.gas, signed.max_fee_per_gas) == ("0x1234", 50_000, 2 * 10**9)
    legacy = key.sign_transaction({**fields, "gasPrice": 10**9}).raw_transaction
    for bad in ("0x" + bytes(legacy).hex(), "0x02c0ffee", "nothex", raw[:-2]):
        with pytest.raises(TransactionUnreadable):
            read_signed(bad)
