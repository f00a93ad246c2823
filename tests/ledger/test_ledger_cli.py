"""``chain deploy`` and ``ledger ...`` against a real ``chain serve`` subprocess."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3 import Web3

from kraken_market.catalog.ids import new_product_id
from kraken_market.cli.main import app as cli
from kraken_market.ledger.client import Ledger, connect, dev_account
from kraken_market.ledger.contracts import artifact
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.model import ModeCode, Prices
from kraken_market.settings import get_settings

runner = CliRunner()
DATA = 10**18


@pytest.fixture
def chain_cli(chain_serve: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KRAKEN_CHAIN_URL", chain_serve)
    # The embedded chain reached by URL: blocks come with transactions only, and a URL
    # means an external chain's default depth (12), so 'ledger index' is told 0.
    monkeypatch.setenv("KRAKEN_CHAIN_CONFIRMATIONS", "0")
    monkeypatch.delenv("KRAKEN_CONFIG", raising=False)
    monkeypatch.delenv("KRAKEN_CHAIN_KEY_FILE", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_deploy_then_buy_and_claim_from_the_command_line(chain_cli: Path) -> None:
    code, out, err = run("chain", "deploy", "--dev-account", "0", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["reused"] is False and first["faucet"]
    code, out, _ = run("chain", "deploy", "--dev-account", "0", "--json")
    assert json.loads(out)["reused"] is True
    assert json.loads(out)["market"] == first["market"]

    # A seller publishes and a buyer buys through the client; the CLI does the rest.
    deployment = Deployment.load(chain_cli / "deployment.json")
    w3 = connect(get_settings().resolved_chain_url)
    seller, buyer = (Ledger(w3, deployment, dev_account(i)) for i in (7, 8))
    seller.drip(100 * DATA)
    product = new_product_id()
    seller.publish(product, mode=ModeCode.BATCH, prices=Prices(access=2 * DATA), stake=30 * DATA)
    now = int(w3.eth.get_block("latest")["timestamp"])
    Ledger(w3, deployment, dev_account(2)).grant(buyer.address, product, 0, now + 3600)

    assert run("ledger", "faucet", "50", "--dev-account", "8")[0] == 0
    purchase, _ = buyer.buy_access(product, 0)

    code, out, _ = run("ledger", "balance", buyer.address, "--json")
    assert code == 0
    shown = json.loads(out)
    assert (int(shown["data"]), shown["data_balance"]) == (48 * DATA, "48")
    assert run("ledger", "faucet", "0.25", "--dev-account", "8")[0] == 0
    assert run("ledger", "faucet", "7", "--base-units", "--dev-account", "8")[0] == 0
    code, out, _ = run("ledger", "balance", buyer.address)
    assert f"{buyer.address}: 48.250000000000000007 DATA" in out

    evidence = chain_cli / "evidence.txt"
    evidence.write_text("the file was empty")
    code, out, err = run(
        "ledger", "claim", str(purchase), product, "--evidence", str(evidence), "--dev-account", "8"
    )
    assert code == 0, err
    code, out, _ = run("ledger", "stake", product, "--json")
    assert json.loads(out) == {
        "amount": str(30 * DATA),
        "amount_data": "30",
        "status": "locked",
        "open_claims": 1,
    }

    # Only the arbiter (dev account 1) rules; the buyer's attempt changes nothing.
    code, _, err = run("ledger", "rule", str(purchase), "--uphold", "--dev-account", "8")
    assert code == 1 and "chain_forbidden" in err
    code, _, err = run("ledger", "rule", str(purchase), "--uphold", "--dev-account", "1")
    assert code == 0, err
    code, out, _ = run("ledger", "stake", product, "--json")
    assert json.loads(out)["status"] == "slashed"

    code, out, _ = run("ledger", "history", product, "--json")
    events = [entry["event"] for entry in json.loads(out)["history"]]
    assert events[:2] == ["ProductPublished", "StakeLocked"]
    for expected in (
        "Granted",
        "AccessPurchased",
        "ClaimFiled",
        "AvailabilityChanged",
        "ClaimRuled",
    ):
        assert expected in events

    # The indexer stores them in the marketplace database, once.
    code, out, err = run("ledger", "index", "--json")
    assert code == 0, err
    indexed = [json.loads(line) for line in out.splitlines() if line]
    names = [event["name"] for event in indexed]
    assert "AccessPurchased" in names and "ClaimRuled" in names
    assert len({event["key"] for event in indexed}) == len(indexed)
    code, out, _ = run("ledger", "index", "--json")
    assert code == 0 and out.strip() == ""


def test_bad_input_is_refused_with_a_clear_message(chain_cli: Path) -> None:
    code, _, err = run("ledger", "stake", "0x" + "ab" * 32)
    assert code == 1 and "not_deployed" in err and "chain deploy" in err
    assert run("chain", "deploy", "--dev-account", "0")[0] == 0
    for args, expected in [
        (("ledger", "stake", "0xab"), "is not an id"),
        (("ledger", "balance", "0xnope"), "is not an address"),
        (("ledger", "faucet", "--dev-account", "8", "--", "-1"), "AMOUNT: -1 is negative"),
        (("ledger", "faucet", "0.1e-18", "--dev-account", "8"), "'0.1e-18' is not an amount"),
        (("ledger", "faucet", "1.0000000000000000001", "--dev-account", "8"), "DATA has 18"),
        (("chain", "deploy", "--dev-account", "0", "--claim-bond", "x"), "--claim-bond: 'x'"),
        (("ledger", "approve", "1", "0x" + "ab" * 32), "say who signs"),
        (("ledger", "approve", "999", "0x" + "ab" * 32, "--dev-account", "8"), "no such purchase"),
    ]:
        code, _, err = run(*args)
        assert code != 0, args
        assert expected in err, (args, err)


def test_key_files_must_be_private(chain_cli: Path) -> None:
    assert run("chain", "deploy", "--dev-account", "0")[0] == 0
    key = chain_cli / "key"
    key.write_text("0x" + "00" * 31 + "09")
    key.chmod(0o644)
    code, _, err = run("ledger", "faucet", "1", "--key-file", str(key))
    assert code == 1 and "chmod 600" in err
    key.chmod(0o600)
    code, out, err = run("ledger", "faucet", "1", "--key-file", str(key), "--json")
    assert code == 0, err
    assert "Dripped" in json.loads(out)["events"]


def test_without_a_key_the_wallets_account_signs(
    chain_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kraken_market.identity.wallet import Wallet

    assert run("chain", "deploy", "--dev-account", "0")[0] == 0
    funded = "0x" + (10).to_bytes(32, "big").hex()  # dev account 9: has ether for gas
    wallet = Wallet.create(chain_cli / "w.json", "wallet passphrase", funded, work_factor=2**10)
    monkeypatch.setenv("KRAKEN_WALLET", str(chain_cli / "w.json"))
    monkeypatch.setenv("KRAKEN_WALLET_PASSPHRASE", "wallet passphrase")
    get_settings.cache_clear()
    code, out, err = run("ledger", "faucet", "3", "--json")
    assert code == 0, err
    assert "Dripped" in json.loads(out)["events"]
    code, out, _ = run("ledger", "balance", wallet.address, "--json")
    assert json.loads(out)["data"] == str(3 * DATA)
    code, out, _ = run("ledger", "balance", "--json")  # yours: the wallet's, not unlocked
    assert (json.loads(out)["account"], json.loads(out)["data_balance"]) == (wallet.address, "3")
    monkeypatch.setenv("KRAKEN_WALLET_PASSPHRASE", "not the passphrase")
    get_settings.cache_clear()
    code, _, err = run("ledger", "faucet", "1")
    assert code == 1 and "wrong_passphrase" in err


def test_the_faucet_gives_a_new_account_gas_money_too(chain_cli: Path) -> None:
    from eth_account import Account

    assert run("chain", "deploy", "--dev-account", "0")[0] == 0
    fresh = Account.create()  # no ether: it could not pay for its own drip
    key = chain_cli / "fresh.key"
    key.write_text(fresh.key.hex())
    key.chmod(0o600)
    code, out, err = run("ledger", "faucet", "2", "--key-file", str(key), "--json")
    assert code == 0, err
    code, out, _ = run("ledger", "balance", fresh.address, "--json")
    shown = json.loads(out)
    assert shown["data"] == str(2 * DATA) and int(shown["ether_wei"]) >= 10**18
    code, out, err = run("ledger", "faucet", "1", "--key-file", str(key), "--json")
    assert code == 0, err  # the second time no more ether is needed


def test_a_token_with_six_decimals_is_typed_and_shown_in_its_units(
    chain_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An existing token configured instead of DataToken: the deployment's amounts, the
    balances and the API's answer use the decimals its contract reports."""
    from fastapi.testclient import TestClient

    from kraken_market.api.app import create_app
    from tests.ledger.test_token_units import USDX, compiled_token

    w3 = connect(get_settings().resolved_chain_url)
    abi, bytecode = compiled_token(chain_cli)
    admin = dev_account(0)
    made = w3.eth.contract(abi=abi, bytecode=bytecode).constructor(1234 * USDX + 500_000)
    sent = made.build_transaction(
        {"from": admin.address, "nonce": w3.eth.get_transaction_count(admin.address, "pending")}
    )
    tx = w3.eth.send_raw_transaction(admin.sign_transaction(sent).raw_transaction)
    token = str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])
    monkeypatch.setenv("KRAKEN_CHAIN_TOKEN_ADDRESS", token)
    get_settings.cache_clear()

    deploy = ("chain", "deploy", "--dev-account", "0", "--no-faucet", "--force")
    code, _, err = run(*deploy, "--claim-bond", "0.0000001")
    assert code == 1 and "--claim-bond: 0.0000001 has 7 decimals; USDX has 6" in err
    code, out, err = run(*deploy, "--claim-bond", "2.25", "--min-stake", "0.5")
    assert code == 0, err
    assert "claim bond 2.25 USDX" in out
    deployment = Deployment.load(chain_cli / "deployment.json")
    parameters = Ledger(w3, deployment, admin).parameters()
    assert (parameters.claim_bond, parameters.min_stake) == (2_250_000, 500_000)

    code, out, err = run("ledger", "balance", admin.address)
    assert code == 0, err
    assert f"{admin.address}: 1234.5 USDX" in out
    code, out, _ = run("ledger", "balance", admin.address, "--json")
    assert json.loads(out)["data_balance"] == "1234.5"
    answer = TestClient(create_app(get_settings())).get("/api/v1/ledger/token")
    assert answer.json() == {"address": token, "symbol": "USDX", "decimals": 6}

    # reused: the deployment's own parameters, in the token's decimals
    code, out, err = run("chain", "deploy", "--dev-account", "0", "--claim-bond", "9")
    assert code == 0, err
    assert "reused" in out and "claim bond 2.25 USDX" in out and "keeps its parameters" in out


def test_a_wrong_or_changed_token_address_is_refused_with_the_reason(
    chain_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy = ("chain", "deploy", "--dev-account", "0")
    assert run(*deploy)[0] == 0  # DataToken deployed
    before = (chain_cli / "deployment.json").read_text()
    nowhere = "0x" + "12" * 20
    for address, said in (
        ("nonsense", "'nonsense' is not an address"),
        (
            nowhere,
            f"no token contract at the configured address {Web3.to_checksum_address(nowhere)}",
        ),
        (dev_account(0).address, "no token contract"),  # an account, no code
    ):
        monkeypatch.setenv("KRAKEN_CHAIN_TOKEN_ADDRESS", address)
        get_settings.cache_clear()
        code, _, err = run(*deploy)
        assert code == 1 and said in " ".join(err.split()), err
        assert "Traceback" not in err
    # a contract that is not an ERC-20 (the Market: no symbol())
    market = Deployment.load(chain_cli / "deployment.json").market
    monkeypatch.setenv("KRAKEN_CHAIN_TOKEN_ADDRESS", market)
    get_settings.cache_clear()
    code, _, err = run(*deploy)
    assert code == 1 and "does not answer as an ERC-20 token" in " ".join(err.split()), err
    # the deployment's own token: reused
    monkeypatch.setenv(
        "KRAKEN_CHAIN_TOKEN_ADDRESS", Deployment.load(chain_cli / "deployment.json").token
    )
    get_settings.cache_clear()
    code, out, err = run(*deploy)
    assert code == 0 and "reused" in out, err
    # another real token: refused unless --force, and nothing written
    w3 = connect(get_settings().resolved_chain_url)
    built = artifact("DataToken")
    factory = w3.eth.contract(abi=built.abi, bytecode=built.bytecode)
    sender = Ledger(w3, Deployment.load(chain_cli / "deployment.json"), dev_account(0)).sender
    another = sender.transact(factory.constructor(10**24), "deploy another token")
    monkeypatch.setenv("KRAKEN_CHAIN_TOKEN_ADDRESS", str(another.contract_address))
    get_settings.cache_clear()
    code, _, err = run(*deploy)
    assert code == 1 and "error [token_changed]" in err and "--force" in err, err
    assert (chain_cli / "deployment.json").read_text() == before  # nothing changed


def test_trade_reclaim_takes_a_held_payment_back_after_its_deadline(chain_cli: Path) -> None:
    """``trade reclaim``: only after the deadline (saying how long is left), only the
    buyer, and a clear 'nothing to reclaim' for a payment refunded at once by a
    refusing node or paid out; the reclaimed amount is the buyer's again."""

    code, _, err = run("chain", "deploy", "--dev-account", "0", "--computation-deadline", "8")
    assert code == 0, err
    deployment = Deployment.load(chain_cli / "deployment.json")
    w3 = connect(get_settings().resolved_chain_url)
    admin, seller, buyer, verifier = (Ledger(w3, deployment, dev_account(i)) for i in (0, 7, 8, 2))
    for index in (4, 5):
        admin.register_node(dev_account(index).address, bytes([index]) * 32, f"http://n{index}")
    seller.drip(100 * DATA)
    buyer.drip(100 * DATA)
    product = new_product_id()
    seller.publish(product, mode=ModeCode.ANALYTICS, prices=Prices(computation=3 * DATA))
    now = int(w3.eth.get_block("latest")["timestamp"])
    verifier.grant(buyer.address, product, 0, now + 3600)

    def pay() -> str:
        request = new_product_id()  # any 32 random bytes as 0x hex
        buyer.request_computation(request, b"\x01" * 32, [product], 0, b"\x02" * 32)
        return request

    refunded, delivered = pay(), pay()
    refusal = Ledger(w3, deployment, dev_account(4)).refuse(refunded, "object_not_found")
    for index in (4, 5):
        Ledger(w3, deployment, dev_account(index)).attest(delivered, b"\x03" * 32)
    held = pay()
    before = buyer.balance()
    code, _, err = run("trade", "reclaim", held, "--dev-account", "8")  # within 8 s
    assert code == 1 and "[reclaim_not_due]" in err, err
    assert "3 DATA" in err and "held until" in err and "(in " in err

    for args, expected in [
        ((held, "--dev-account", "9"), "[not_your_request]"),
        (("0x" + "ab" * 32, "--dev-account", "8"), "[computation_not_found]"),
        (("0xab", "--dev-account", "8"), "is not an id"),
        ((refunded, "--dev-account", "8"), "[nothing_to_reclaim]"),
        ((delivered, "--dev-account", "8"), "[nothing_to_reclaim]"),
    ]:
        code, _, err = run("trade", "reclaim", *args)
        assert code == 1, (args, err)
        assert expected in err, (args, err)
    code, _, err = run("trade", "reclaim", refunded, "--dev-account", "8")
    assert "object_not_found" in err and refusal.tx_hash in err.replace("\n", "")
    assert "came back to your account at once" in err.replace("\n", " ")
    code, _, err = run("trade", "reclaim", delivered, "--dev-account", "8")
    assert "paid out to the sellers" in err.replace("\n", " ")
    assert buyer.balance() == before  # nothing moved

    deadline = buyer.computation(held).deadline  # type: ignore[union-attr]
    # The deadline is in chain time. Each block is at least a second after its parent,
    # so the module's earlier transactions put the chain's clock ahead of the wall's
    # (this test waited 100 s for the wall clock there, 30 s alone): blocks move it on.
    while buyer.chain_time() <= deadline:
        seller.transfer(verifier.address, 1)
    code, out, err = run("trade", "reclaim", held, "--dev-account", "8", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["amount"] == str(3 * DATA) and shown["request_id"] == held
    assert buyer.balance() == before + 3 * DATA
    code, _, err = run("trade", "reclaim", held, "--dev-account", "8")
    assert code == 1 and "[nothing_to_reclaim]" in err and "you reclaimed" in err
    assert shown["transaction"] in err.replace("\n", "")


def test_history_shows_a_refusals_reason_as_the_nodes_code() -> None:
    from kraken_market.cli.ledger import _summary

    reason = "0x" + b"object_not_found".ljust(32, b"\0").hex()
    shown = _summary({"request_id": "0x" + "ab" * 32, "reason": reason, "amount": 5})
    assert shown == "request_id=0xabababab…, reason=object_not_found, amount=5"


def test_a_deployment_this_chain_lacks_is_never_replaced_silently(chain_cli: Path) -> None:
    """A chain URL (an external chain) whose chain lacks the deployment file's contracts
    most likely is the wrong URL: deploying anew would spend real gas and lose the old
    addresses. Refused, nothing written; --force deploys and keeps the old file."""
    deploy = ("chain", "deploy", "--dev-account", "0")
    assert run(*deploy)[0] == 0
    path = chain_cli / "deployment.json"
    elsewhere = json.loads(path.read_text()) | {"market": "0x" + "34" * 20}
    path.write_text(json.dumps(elsewhere))
    before = path.read_text()
    code, _, err = run(*deploy)
    said = " ".join(err.split())
    assert code == 1 and "error [deployment_not_on_chain]" in said, err
    assert "Check KRAKEN_CHAIN_URL" in said and "--force" in said
    assert path.read_text() == before and list(chain_cli.glob("deployment.replaced-*")) == []
    code, out, err = run(*deploy, "--force", "--json")
    assert code == 0, err
    [kept] = chain_cli.glob("deployment.replaced-*.json")
    assert kept.read_text() == before  # the old addresses are not lost
    assert json.loads(out)["market"] != elsewhere["market"]
