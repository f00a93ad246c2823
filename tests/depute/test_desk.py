"""The company's chain desk: a company's products are owned on chain by the company's
own account, published from it for authorised employees only; revoking an employee
stops him at once."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from kraken_market.access.nodes import NodeRef
from kraken_market.access.seller import prepare_deposits
from kraken_market.access.wire import KeyDeposit, check_signer
from kraken_market.client import MarketClient
from kraken_market.db.engine import write_session
from kraken_market.depute.client import publish_for_company
from kraken_market.depute.company_desk import Employee
from kraken_market.depute.core import Depute
from kraken_market.depute.desk import CompanyAccount, Desk
from kraken_market.depute.sessions import Sessions
from kraken_market.errors import KrakenError
from kraken_market.identity import presentations
from kraken_market.ledger.chain.embedded import DurableBackend
from kraken_market.ledger.chain.rpc_server import ChainNode, create_rpc_app
from kraken_market.ledger.client import connect
from kraken_market.ledger.model import ModeCode, Prices
from kraken_market.sdk import Marketplace
from kraken_market.smpc.keys import NodeKeyPair
from kraken_market.smpc.manifest import Manifest, ShareFileEntry, verify_manifest
from kraken_market.trade.unions import CONSENT_GIVEN
from tests.conftest import login, serving
from tests.depute.conftest import Person, Rig
from tests.factories import product_body
from tests.ledger.conftest import DATA, Market, _deploy


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[str, Market]]:
    """A served development chain (a test may sign for dev accounts) with the contracts."""
    node = ChainNode(DurableBackend(tmp_path / "chain.db"), development=True)
    with serving(create_rpc_app(node)) as url:
        yield url, _deploy("chain-serve", connect(url))


@pytest.fixture
def tool_on_chain(rig: Rig, chain: tuple[str, Market], tmp_path: Path) -> tuple[Depute, Market]:
    """The rig's Depute tool configured with the served chain and its contracts."""
    url, market = chain
    deployment_file = tmp_path / "deployment.json"
    market.deployment.save(deployment_file)
    config = dataclasses.replace(rig.depute.config, chain_url=url, deployment_file=deployment_file)
    return dataclasses.replace(rig.depute, config=config), market


def authorise(rig: Rig, headers: dict[str, str], who: Person, scope: list[str]) -> Any:
    """The representative authorises ``who`` in the Depute tool: the authorisation made."""
    answer = rig.post("/api/authorisations", {"employee_did": who.did, "scope": scope}, headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def ask(desk: Desk, rig: Rig, who: Person) -> str:
    """A presentation of ``who`` to the Depute tool, on a nonce of its own."""
    issued = Sessions(rig.depute, desk.session).employee_challenge()
    return presentations.present(
        who.key, [who.credential], audience=issued.audience, nonce=issued.nonce
    )


def test_a_company_product_is_owned_by_the_company_and_revocation_stops_the_employee(
    rig: Rig, tool_on_chain: tuple[Depute, Market]
) -> None:
    depute, market = tool_on_chain
    _, headers = rig.representative()
    erin, bruno = rig.person("Erin"), rig.person("Bruno")
    made = {who.name: authorise(rig, headers, who, scope)
            for who, scope in ((erin, ["publish"]), (bruno, ["buy"]))}  # fmt: skip
    company = CompanyAccount(depute)
    bound = company.bind()
    assert bound["account"] == company.account().address
    market.admin.send_ether(company.account().address, 10**18)
    market.admin.drip(100 * DATA, to=company.account().address)

    with rig.act_for_company(erin, made["Erin"]["credential"]) as erin_market:
        product = erin_market.create_product(product_body())["id"]
    manifest = Manifest(
        product_id=product,
        share_set="s1",
        owner=rig.company,
        m=3,
        t=1,
        rows=12,
        schema={"columns": []},
        columns=(),
        files=tuple(
            ShareFileEntry(i, f"{product}/s1/node-{i}.kshare", "ab" * 32, 1000, "cd" * 32)
            for i in range(3)
        ),
        issued_at=1,
    )
    with write_session(depute.sessions) as session:
        desk = Desk(depute, session, company)
        with pytest.raises(KrakenError) as refused:  # Bruno may buy, not publish
            desk.publish(ask(desk, rig, bruno), product, None, 0)
        assert refused.value.code == "authorisation_required"
        published = desk.publish(ask(desk, rig, erin), product, 10 * DATA, 0)
        signed = desk.sign_manifest(ask(desk, rig, erin), product, manifest.to_json())
        assert verify_manifest(signed["jws"], rig.company, product) == manifest
        foreign = {**manifest.to_json(), "owner": erin.did}
        with pytest.raises(KrakenError) as refused:  # only the company's own manifests
            desk.sign_manifest(ask(desk, rig, erin), product, foreign)
        assert refused.value.code == "not_company_product"

        class AtTheDesk:  # what depute.client.DeskSigner does over HTTP
            address = company.account().address

            def sign_deposit(self, deposit: KeyDeposit) -> str:
                answer = desk.sign_deposit(ask(desk, rig, erin), product, deposit.model_dump())
                return str(answer["signature"])

        nodes = [NodeRef(i, f"http://node{i}", NodeKeyPair.generate().public_key) for i in range(3)]
        deposits = prepare_deposits(secrets.token_bytes(32), product, nodes, AtTheDesk())
        first = deposits[0]
        assert check_signer(first.message(), first.signature, first.depositor) == (
            company.account().address  # the product's owner on chain: the nodes take it
        )
    on_chain = market.admin.product(product)
    assert on_chain is not None
    assert Web3.to_checksum_address(on_chain.owner) == company.account().address
    assert published["account"] == company.account().address
    assert market.admin.stake(product).amount == 10 * DATA  # from the company's DATA

    revoked = rig.post(
        f"/api/authorisations/{made['Erin']['authorisation']['id']}/revoke", None, headers
    )
    assert revoked.status_code == 200, revoked.text
    with write_session(depute.sessions) as session:
        desk = Desk(depute, session, company)
        with pytest.raises(KrakenError) as refused:
            desk.sync(ask(desk, rig, erin), product)
        assert refused.value.code == "authorisation_required"


def test_the_companys_account_consents_to_a_union_through_the_desk(
    rig: Rig, tool_on_chain: tuple[Depute, Market]
) -> None:
    """A union of a person's product and a company's: the person proposes on chain from
    their own account; the company's consent on chain comes from the company's account,
    which only its Depute tool holds, for an employee authorised to publish."""
    depute, market = tool_on_chain
    _, headers = rig.representative()
    erin, bruno, sam = rig.person("Erin"), rig.person("Bruno"), rig.person("Sam")
    made = {who.name: authorise(rig, headers, who, scope)
            for who, scope in ((erin, ["publish"]), (bruno, ["buy"]))}  # fmt: skip
    company = CompanyAccount(depute)
    company.bind()
    market.admin.send_ether(company.account().address, 10**18)
    market.admin.drip(100 * DATA, to=company.account().address)
    with rig.act_for_company(erin, made["Erin"]["credential"]) as erin_market:
        ours = erin_market.create_product(product_body("analytics"))["id"]
    seller = market.funded(market.as_(7))
    sams_session = login(rig.app, sam.key, [sam.credential])["session_token"]
    with MarketClient.connect(rig.marketplace.url, sams_session) as sams:
        theirs = sams.create_product(product_body("analytics"))["id"]
        seller.publish(
            theirs, mode=ModeCode.ANALYTICS, prices=Prices(computation=DATA), stake=10 * DATA
        )
        union = sams.create_union(
            {"title": "Two cohorts", "members": [{"product_id": ours}, {"product_id": theirs}]}
        )["id"]
    with write_session(depute.sessions) as session:
        desk = Desk(depute, session, company)
        desk.publish(ask(desk, rig, erin), ours, 10 * DATA, 0)
        seller.propose_union({ours: 1, theirs: 1})
        assert market.admin.union(union)["consents_missing"] == 1  # type: ignore[index]
        with pytest.raises(KrakenError) as refused:  # Bruno may buy, not sell
            desk.join_union(ask(desk, rig, bruno), union, 0)
        assert refused.value.code == "authorisation_required"
        joined = desk.join_union(ask(desk, rig, erin), union, 0)
        assert joined["sent"] == "consent" and joined["products"] == [ours]
        assert joined["account"] == company.account().address
        again = desk.join_union(ask(desk, rig, erin), union, 0)
        assert again["sent"] is None  # nothing is sent twice
    assert market.admin.union(union)["status"] == "active"  # type: ignore[index]


def test_an_employees_sdk_has_the_tool_propose_and_consent_for_the_company(
    rig: Rig, tool_on_chain: tuple[Depute, Market], tmp_path: Path
) -> None:
    """Through the SDK alone, as ``unions create|consent`` run it: an employee acting for
    the company proposes a union of the company's product and a person's; the proposal
    on chain comes from the company's account, asked of its Depute tool over HTTP, and
    the person's SDK consents from their own account. Then the person proposes another
    and the employee's SDK consents for the company. A session that cannot say who asks
    is refused before the catalog changes."""
    depute, market = tool_on_chain
    rig.serve(depute)
    _, headers = rig.representative()
    erin, sam = rig.person("Erin"), rig.person("Sam")
    made = authorise(rig, headers, erin, ["publish"])
    company = CompanyAccount(rig.depute)
    company.bind()
    market.admin.send_ether(company.account().address, 10**18)
    market.admin.drip(100 * DATA, to=company.account().address)
    seller = market.funded(market.as_(7))
    sams_session = login(rig.app, sam.key, [sam.credential])["session_token"]
    with (
        rig.act_for_company(erin, made["credential"]) as erin_market,
        MarketClient.connect(rig.marketplace.url, sams_session) as sams,
    ):
        ours = erin_market.create_product(product_body("analytics"))["id"]
        theirs = sams.create_product(product_body("analytics"))["id"]
        seller.publish(
            theirs, mode=ModeCode.ANALYTICS, prices=Prices(computation=DATA), stake=10 * DATA
        )
        erins = Employee(erin.key, [erin.credential])
        publish_for_company(rig.url, erins.key, erins.persons, ours, stake=10 * DATA, wait=0)
        as_company = Marketplace(erin_market, market.as_(6), tmp_path, erins)
        sams_sdk = Marketplace(sams, seller, tmp_path)
        for unable, why in (
            (Marketplace(erin_market, market.as_(6), tmp_path), "Marketplace.login"),
            (Marketplace(erin_market, market.as_(6), tmp_path, Employee(erin.key, [])),
             "PersonCredential"),
        ):  # fmt: skip
            with pytest.raises(KrakenError) as refused:  # the tool must learn who asks
                unable.create_union("Refused", {ours: 1, theirs: 1}, wait=0)
            assert why in refused.value.message
        assert erin_market.unions()["items"] == []  # refused before the catalog changed

        proposed = as_company.create_union("Two cohorts", {ours: 1, theirs: 1}, wait=0)
        union = proposed["id"]
        on_chain = market.admin.union(union)
        assert on_chain is not None and on_chain["consents_missing"] == 1
        assert market.admin.union_consent(union, company.account().address) == CONSENT_GIVEN
        assert market.admin.union_consent(union, market.as_(6).address) != CONSENT_GIVEN
        sams_sdk.consent_union(union, wait=0)
        assert market.admin.union(union)["status"] == "active"  # type: ignore[index]

        # The other way round: the person proposes, the company consents by its tool.
        second = erin_market.create_product(product_body("analytics"))["id"]
        publish_for_company(rig.url, erins.key, erins.persons, second, stake=10 * DATA, wait=0)
        other = sams_sdk.create_union("Weighted", {theirs: 1, second: 3}, wait=0)["id"]
        assert market.admin.union_consent(other, company.account().address) != CONSENT_GIVEN
        as_company.consent_union(other, wait=0)
        assert market.admin.union_consent(other, company.account().address) == CONSENT_GIVEN
    assert market.admin.union(other)["status"] == "active"  # type: ignore[index]
