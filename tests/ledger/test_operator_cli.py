"""``kraken-market operator …`` and ``ledger transfer`` against a ``chain serve`` subprocess.

Dev accounts: 0 deploys and is admin, 1 arbiter, 2 verifier, 3 treasury; the others
hold no role. Each refusal is checked to have sent nothing (the signer's nonce and the
chain's state are unchanged).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from typer.testing import CliRunner
from web3 import Web3

from kraken_market.catalog.ids import new_product_id
from kraken_market.cli.main import app as cli
from kraken_market.ledger.client import Ledger, connect, dev_account
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import MarketPaused
from kraken_market.ledger.model import ModeCode, Prices
from kraken_market.settings import get_settings

runner = CliRunner()
DATA = 10**18
ADMIN, ARBITER, VERIFIER, TREASURY = (dev_account(i).address for i in range(4))
NEW_ADMIN, OTHER, SELLER, USER = (dev_account(i).address for i in (5, 6, 7, 9))
HPKE = "ab" * 32


@pytest.fixture
def chain_cli(chain_serve: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh deployment by dev account 0 on the module's chain, and a CLI set up for it."""
    monkeypatch.setenv("KRAKEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KRAKEN_CHAIN_URL", chain_serve)
    for name in ("KRAKEN_CONFIG", "KRAKEN_CHAIN_KEY_FILE", "KRAKEN_CHAIN_TOKEN_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    code, _, err = run("chain", "deploy", "--dev-account", "0", "--force")
    assert code == 0, err
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str, answer: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args), input=answer)
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str, answer: str | None = None) -> str:
    code, out, err = run(*args, answer=answer)
    assert code == 0, err
    return out


def refused(*args: str, said: str, answer: str | None = None) -> str:
    """Run a command that must fail, naming ``said``; nothing may have been sent."""
    w3 = chain()
    before = w3.eth.block_number
    code, _, err = run(*args, answer=answer)
    flat = " ".join(err.split())
    assert code == 1, (args, err)
    assert said in flat, (args, flat)
    assert "Traceback" not in err
    assert w3.eth.block_number == before, f"{args} sent a transaction"
    return flat


def chain() -> Web3:
    return connect(get_settings().resolved_chain_url)


def ledger_as(index: int) -> Ledger:
    return Ledger(chain(), Deployment.load(get_settings().deployment_file), dev_account(index))


def key_file(folder: Path, index: int) -> Path:
    path = folder / f"account{index}.key"
    path.write_text(dev_account(index).key.hex() + "\n")
    path.chmod(0o600)
    return path


def roles() -> dict[str, list[str]]:
    shown = json.loads(ok("operator", "roles", "--json"))
    return {
        name: [each["account"] for each in shown[name]]
        for name in ("admin", "arbiter", "verifier", "node")
    }


def test_roles_are_read_from_the_chain_and_granted_and_revoked_by_an_admin(
    chain_cli: Path,
) -> None:
    shown = json.loads(ok("operator", "roles", "--json"))
    assert [each["account"] for each in shown["admin"]] == [ADMIN]
    assert shown["admin"][0]["granted_by"] == ADMIN  # the deployer's own grant
    assert [each["account"] for each in shown["arbiter"]] == [ARBITER]
    assert [each["account"] for each in shown["verifier"]] == [VERIFIER]
    assert (shown["node"], shown["treasury"]) == ([], TREASURY)
    listing = ok("operator", "roles")
    assert "receives fees" in listing and "admin transfer" not in listing

    grant = ("operator", "grant", "arbiter", USER, "--yes")
    said = refused(*grant, "--dev-account", "7", said="error [chain_forbidden]")
    assert "only a platform admin may grant or revoke roles" in said
    assert f"{SELLER} (the account you sign with) does not hold the role" in said
    refused("operator", "grant", "arbiter", "0x1234", "--dev-account", "0", said="invalid_address")
    refused(
        "operator", "grant", "arbiter", "0x" + "00" * 20, "--dev-account", "0", said="zero address"
    )
    refused("operator", "grant", "admin", USER, "--dev-account", "0", said="operator admin offer")
    refused("operator", "grant", "node", USER, "--dev-account", "0", said="nodes register")
    refused("operator", "grant", "judge", USER, "--dev-account", "0", said="'judge' is not a role")

    out = ok(*grant, "--dev-account", "0", "--json")
    assert json.loads(out)["events"] == ["RoleGranted"]
    assert roles()["arbiter"] == [ARBITER, USER]
    refused(*grant, "--dev-account", "0", said=f"{USER} is already an arbiter")

    revoke = ("operator", "revoke", "arbiter", USER, "--dev-account", "0")
    refused(*revoke, answer="n\n", said="not_confirmed")
    refused(*revoke, said="not_confirmed")  # no answer to read: no
    assert roles()["arbiter"] == [ARBITER, USER]
    code, out, err = run(*revoke, answer="y\n")
    assert code == 0, err
    assert f"Revoke the arbiter role from {USER} (signed by {ADMIN})?" in err
    assert f"{USER} is no longer an arbiter" in out
    assert roles()["arbiter"] == [ARBITER]
    refused(*revoke, said="is not an arbiter: nothing to revoke")
    code, _, err = run("operator", "revoke", "verifier", VERIFIER, "--dev-account", "0", "-y")
    assert code == 0 and "is the only verifier" in err
    assert roles()["verifier"] == []


def test_pause_is_shown_refused_twice_and_stops_publishing(chain_cli: Path) -> None:
    status = json.loads(ok("operator", "status", "--json"))
    assert (status["paused"], status["admins"], status["nodes"]) == (False, [ADMIN], 0)
    assert status["token"]["decimals"] == 18
    refused("operator", "pause", "--dev-account", "7", "--yes", said="only a platform admin")

    out = ok("operator", "pause", "--dev-account", "0", "--yes")
    assert "the marketplace is paused" in out
    assert json.loads(ok("operator", "status", "--json"))["paused"] is True
    assert "the marketplace is paused" in " ".join(ok("operator", "status").split())
    said = refused("operator", "pause", "--dev-account", "0", "--yes", said="chain_conflict")
    assert "pause the marketplace: the marketplace is already paused" in said

    seller = ledger_as(7)
    seller.drip(100 * DATA)
    with pytest.raises(MarketPaused):
        seller.publish(new_product_id(), mode=ModeCode.BATCH, prices=Prices(access=DATA), stake=0)

    ok("operator", "unpause", "--dev-account", "0", "--yes")
    refused("operator", "unpause", "--dev-account", "0", "--yes", said="is not paused")
    seller.publish(new_product_id(), mode=ModeCode.BATCH, prices=Prices(access=DATA), stake=0)


def test_parameters_are_shown_and_changed_in_data_percent_and_durations(
    chain_cli: Path,
) -> None:
    before = json.loads(ok("operator", "parameters", "show", "--json"))
    assert before["fee_bps"] == "250" and before["fee_percent"] == "2.5"
    assert before["claim_window_text"] == "7d" and before["claim_bond_data"] == "10"
    table = " ".join(ok("operator", "parameters", "show").split())
    assert "2.5 % (250 bps)" in table and "10 DATA" in table and "1h" in table

    change = ("operator", "parameters", "set", "--dev-account", "0", "--yes")
    for args, said in [
        (("--fee", "25"), "at most 20 % (2000 bps), not 25 %"),
        (("--fee", "2.555"), "--fee: 2.555 has 3 decimals"),
        (("--fee", "2.5", "--fee-bps", "250"), "not both"),
        (("--claim-window", "7x"), "--claim-window: '7x' is not a duration"),
        (("--computation-deadline", "0s"), "longer than 0s"),
        (("--min-stake", "-1"), "--min-stake: -1 is negative"),
        (("--claim-bond", "0.0000000000000000001"), "DATA has 18"),
        (("--treasury", "treasury"), "--treasury: 'treasury' is not an account address"),
        ((), "say what to change"),
        (("--fee-bps", "250"), "already have these values"),
    ]:
        refused(*change, *args, said=said)
    refused(
        "operator", "parameters", "set", "--fee", "3", "--dev-account", "7", "--yes",
        said="only a platform admin may do this",
    )  # fmt: skip

    code, out, err = run(
        *change[:-1],
        "--fee",
        "3.5%",
        "--claim-window",
        "2d12h",
        "--min-stake",
        "1.5",
        "--attestations",
        "3",
        answer="y\n",
    )
    assert code == 0, err
    assert "3 attestations required but 0 node(s) registered" in err
    assert "2.5 % (250 bps)" in out and "3.5 % (350 bps)" in out and "2d12h" in out
    after = json.loads(ok("operator", "parameters", "show", "--json"))
    assert (after["fee_bps"], after["claim_window"], after["min_stake"]) == (
        "350",
        str(2 * 86400 + 12 * 3600),
        str(15 * DATA // 10),
    )
    assert after["attestations_required"] == "3"
    kept = ("treasury", "claim_bond", "computation_deadline")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    ok(*change, "--min-stake", "7", "--base-units")
    assert json.loads(ok("operator", "parameters", "show", "--json"))["min_stake"] == "7"


def test_nodes_are_registered_updated_listed_and_removed(chain_cli: Path) -> None:
    node = dev_account(4).address
    register = ("operator", "nodes", "register", node, "--dev-account", "0", "--yes")
    refused(*register, "--hpke-key", "abcd", "--endpoint", "https://n0.test", said="64 hex digits")
    refused(*register, "--hpke-key", "00" * 32, "--endpoint", "https://n0.test", said="zeros")
    refused(*register, "--hpke-key", HPKE, "--endpoint", "n0.test", said="is not a URL")
    refused(
        *register, "--hpke-key", HPKE, "--endpoint", "https://" + "n" * 250 + ".test",
        said="at most 256 bytes",
    )  # fmt: skip
    refused(
        "operator", "nodes", "register", node, "--hpke-key", HPKE, "--endpoint",
        "https://n0.test", "--dev-account", "7", "--yes", said="only a platform admin",
    )  # fmt: skip

    out = ok(*register, "--hpke-key", "0x" + HPKE, "--endpoint", "https://n0.test/", "--json")
    assert json.loads(out)["events"] == ["NodeRegistered"]
    listed = json.loads(ok("operator", "nodes", "list", "--json"))["nodes"]
    assert listed == [{"account": node, "endpoint": "https://n0.test", "hpke_public_key": HPKE}]
    assert roles()["node"] == [node]
    refused(*register, "--hpke-key", HPKE, "--endpoint", "https://n0.test", said="already")

    code, out, err = run(*register, "--hpke-key", HPKE, "--endpoint", "http://10.0.0.4:8800")
    assert code == 0, err
    assert "plain HTTP" in err
    assert json.loads(ok("operator", "nodes", "list", "--json"))["nodes"][0]["endpoint"] == (
        "http://10.0.0.4:8800"
    )

    remove = ("operator", "nodes", "remove", node, "--dev-account", "0", "--yes")
    code, out, err = run(*remove)
    assert code == 0, err
    assert "1 node(s)" not in err and "0 node(s) will be left and 2 attestations" in err
    assert json.loads(ok("operator", "nodes", "list", "--json"))["nodes"] == []
    said = refused(*remove, said="chain_not_found")
    assert f"remove compute node {node}: no such compute node" in said


def test_the_admin_role_moves_in_two_steps_and_the_old_admin_keeps_it_until_the_new_accepts(
    chain_cli: Path,
) -> None:
    new_key = key_file(chain_cli, 5)
    exposed = chain_cli / "exposed.key"
    exposed.write_text(dev_account(5).key.hex())
    exposed.chmod(0o644)
    offer = ("operator", "admin", "offer", "--to", NEW_ADMIN, "--dev-account", "0", "--yes")
    accept = ("operator", "admin", "accept", "--from", ADMIN)

    refused(*accept, "--key-file", str(new_key), said="holds no admin role to accept")
    refused("operator", "admin", "offer", "--to", "0xnope", "--dev-account", "0", said="0x and 40")
    refused(
        "operator", "admin", "offer", "--to", ADMIN, "--dev-account", "0", "--yes",
        said="the account making the offer",
    )  # fmt: skip
    refused(
        "operator", "admin", "offer", "--to", USER, "--dev-account", "7", "--yes",
        said="only a platform admin may grant or revoke roles",
    )  # fmt: skip

    out = json.loads(ok(*offer, "--json"))
    assert out["sent"] is True and out["events"] == ["RoleGranted"]
    assert f"accept --from {ADMIN}" in out["next"]
    # Between the steps both are admins: the old one still acts.
    assert roles()["admin"] == [ADMIN, NEW_ADMIN]
    assert "2 admins" in ok("operator", "roles")
    ok("operator", "pause", "--dev-account", "0", "--yes")
    refused(*offer, said="is an admin already")

    refused(*accept, "--key-file", str(exposed), said="chmod 600")
    refused(*accept, "--dev-account", "0", said="the account accepting")
    refused(*accept, "--dev-account", "6", said="holds no admin role to accept")
    refused(
        "operator", "admin", "accept", "--from", USER, "--key-file", str(new_key), "--yes",
        said=f"{USER} is no admin",
    )  # fmt: skip
    refused(*accept, "--key-file", str(new_key), answer="n\n", said="not_confirmed")
    assert roles()["admin"] == [ADMIN, NEW_ADMIN]

    out = ok(*accept, "--key-file", str(new_key), "--yes")
    assert f"{NEW_ADMIN} is admin and {ADMIN} no longer is" in out
    assert roles()["admin"] == [NEW_ADMIN]
    said = refused("operator", "unpause", "--dev-account", "0", "--yes", said="chain_forbidden")
    assert f"{ADMIN} (the account you sign with) does not hold the role" in said
    ok("operator", "unpause", "--key-file", str(new_key), "--yes")
    refused(
        "operator", "admin", "cancel", "--to", NEW_ADMIN, "--key-file", str(new_key), "--yes",
        said="never removes its own role",
    )  # fmt: skip

    # A mistyped account: warned about, and the offer withdrawn; the admin never left.
    typo = Account.create().address
    code, _, err = run("operator", "admin", "offer", "--to", typo, "--key-file", str(new_key), "-y")
    assert code == 0, err
    assert "has never sent a transaction" in " ".join(err.split())
    assert roles()["admin"] == [NEW_ADMIN, typo]
    out = ok("operator", "admin", "cancel", "--to", typo, "--key-file", str(new_key), "--yes")
    assert f"{typo} no longer holds the admin role" in out
    assert roles()["admin"] == [NEW_ADMIN]
    refused(
        "operator", "admin", "cancel", "--to", typo, "--key-file", str(new_key), "--yes",
        said="no offer to withdraw",
    )  # fmt: skip


def test_a_multisig_admin_gets_a_checked_transaction_to_propose(chain_cli: Path) -> None:
    w3 = chain()
    said = refused("operator", "pause", "--multisig", USER, said="chain_forbidden")
    assert f"{USER} (the multisig) does not hold the role" in said
    refused("operator", "pause", "--multisig", ADMIN, "--dev-account", "0", said="not a key")

    before = w3.eth.block_number
    shown = json.loads(ok("operator", "pause", "--multisig", ADMIN, "--json"))
    assert w3.eth.block_number == before and shown["sent"] is False
    proposal = shown["proposal"]
    deployment = Deployment.load(chain_cli / "deployment.json")
    assert (proposal["to"], proposal["value"], proposal["function"]) == (
        deployment.authority,
        "0",
        "pause()",
    )
    assert json.loads(ok("operator", "status", "--json"))["paused"] is False
    # The multisig (here the admin's own key stands in for it) executes exactly that.
    admin = dev_account(0)
    tx = {
        "to": proposal["to"],
        "data": proposal["data"],
        "value": int(proposal["value"]),
        "from": admin.address,
        "nonce": w3.eth.get_transaction_count(admin.address, "pending"),
        "gas": 200_000,
        "gasPrice": w3.eth.gas_price,
        "chainId": w3.eth.chain_id,
    }
    sent = w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(sent)["status"] == 1
    assert json.loads(ok("operator", "status", "--json"))["paused"] is True

    text = ok("operator", "admin", "offer", "--to", NEW_ADMIN, "--multisig", ADMIN)
    assert "Nothing was sent" in text and "grantRole(bytes32,address)" in text
    assert "once executed: sign step 2" in " ".join(text.split())


def test_data_is_transferred_after_checks_and_balances_are_listed(chain_cli: Path) -> None:
    ok("ledger", "faucet", "10", "--dev-account", "8")
    buyer = dev_account(8).address
    send = ("ledger", "transfer", USER)
    refused(*send, "2.5", "--dev-account", "8", answer="n\n", said="not_confirmed")
    refused(*send, "11", "--dev-account", "8", "--yes", said="holds 10 DATA")
    refused(*send, "1.2.3", "--dev-account", "8", "--yes", said="not an amount of DATA")
    refused(*send, "0", "--dev-account", "8", "--yes", said="sending 0 DATA")
    refused(
        "ledger", "transfer", buyer, "1", "--dev-account", "8", "--yes", said="the account sending"
    )
    market = Deployment.load(chain_cli / "deployment.json").market
    refused("ledger", "transfer", market, "1", "--dev-account", "8", "--yes", said="is lost")

    code, out, err = run(*send, "2.5", "--dev-account", "8", answer="y\n")
    assert code == 0, err
    assert f"Send 2.5 DATA to {USER} (signed by {buyer})?" in err
    assert f"{USER} received 2.5 DATA from {buyer}" in out
    assert json.loads(ok("ledger", "balance", USER, "--json"))["data_balance"] == "2.5"
    out = ok(*send, "1", "--base-units", "--dev-account", "8", "--yes", "--json")
    assert json.loads(out)["events"] == ["Transfer"]
    assert json.loads(ok("ledger", "balance", USER, "--json"))["data"] == str(25 * DATA // 10 + 1)

    listed = json.loads(ok("operator", "balances", "--json"))
    by_account = {row["account"]: row for row in listed["accounts"]}
    assert by_account[ADMIN]["roles"] == ["admin"]
    assert by_account[TREASURY]["roles"] == ["treasury"]
    assert int(by_account[VERIFIER]["ether_wei"]) > 0
    assert listed["market"]["balance"] == "0"
    assert "the Market holds 0 DATA" in " ".join(ok("operator", "balances").split())


def test_a_six_decimal_token_is_counted_in_its_own_units(
    chain_cli: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.ledger.test_token_units import USDX, six_decimal_token

    token = six_decimal_token(chain(), dev_account(0), chain_cli)
    monkeypatch.setenv("KRAKEN_CHAIN_TOKEN_ADDRESS", token)
    get_settings.cache_clear()
    ok("chain", "deploy", "--dev-account", "0", "--no-faucet", "--force", "--claim-bond", "2")
    change = ("operator", "parameters", "set", "--dev-account", "0", "--yes")
    refused(*change, "--min-stake", "0.0000001", said="0.0000001 has 7 decimals; USDX has 6")
    ok(*change, "--min-stake", "1.25")
    shown = json.loads(ok("operator", "parameters", "show", "--json"))
    assert (shown["min_stake"], shown["min_stake_data"]) == (str(1_250_000), "1.25")
    assert shown["claim_bond"] == str(2 * USDX)
    refused(
        "ledger", "transfer", USER, "0.0000001", "--dev-account", "0", "--yes", said="USDX has 6"
    )
    ok("ledger", "transfer", USER, "0.5", "--dev-account", "0", "--yes")
    assert json.loads(ok("ledger", "balance", USER, "--json"))["data"] == str(USDX // 2)


def test_a_deployment_file_of_another_chain_is_refused_before_anything(chain_cli: Path) -> None:
    path = chain_cli / "deployment.json"
    other = json.loads(path.read_text()) | {"chain_id": 1}
    path.write_text(json.dumps(other))
    for args in (
        ("operator", "roles"),
        ("operator", "pause", "--dev-account", "0", "--yes"),
        ("operator", "pause", "--multisig", ADMIN),
        ("ledger", "transfer", USER, "1", "--dev-account", "0", "--yes"),
    ):
        refused(*args, said="the deployment is for chain 1")
