"""The people of the demo story: keys, credentials, an account with money, a session.

Each actor is what a wallet holds (a did:key, an Ethereum account, credentials
from the platform's demo issuer), kept in memory for the length of the story:
the demo plays every part in one process, so its actors' keys never touch the
platform's data directory. Gas money and DATA come from the embedded chain's
admin and faucet (development only). Login is the marketplace's own
challenge-response with a presentation; the DID is bound to the account the
way ``kraken-market wallet bind`` does it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kraken_market.client import MarketClient
from kraken_market.errors import Conflict, InvalidRequest
from kraken_market.identity import binding, presentations
from kraken_market.identity.credential_types import CredentialType
from kraken_market.identity.issuer import Issuer
from kraken_market.identity.keys import DidKey

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from kraken_market.ledger.client import Ledger
    from kraken_market.ledger.deployment import Deployment

ETHER = 10**18
DATA = 10**18
"""The story's amounts are in the platform's own DataToken (18 decimals)."""
PEOPLE_AT_MOST = 8
"""The demo's people with money (a bound on what the bank must hold)."""
FUNDS = 1000 * DATA
TRANSACTIONS_EACH = 40


@dataclass
class Actor:
    name: str
    key: DidKey
    account: LocalAccount
    credentials: list[str]
    api: MarketClient
    ledger: Ledger
    session: dict[str, Any] = field(default_factory=dict)

    @property
    def did(self) -> str:
        return self.key.did


class PlatformOnAnotherChain(InvalidRequest):
    """The demo would talk to another chain than the running platform's."""

    code = "platform_on_another_chain"


class BankTooPoor(Conflict):
    """The demo's bank (an external chain) cannot pay its people's gas and DATA."""

    code = "bank_too_poor"


class Cast:
    """Makes actors against one running platform."""

    def __init__(
        self,
        api_url: str,
        chain_url: str,
        deployment: Deployment,
        issuer: Issuer,
        bank: LocalAccount | None = None,
    ) -> None:
        from kraken_market.ledger.client import Ledger, connect, dev_account
        from kraken_market.platform.gas import TRANSACTION_GAS, fee_per_gas

        self.api_url, self.issuer, self.deployment = api_url.rstrip("/"), issuer, deployment
        if bank is None and deployment.faucet is None:  # a well-known key pays nothing here
            raise BankTooPoor("without the development faucet the demo needs a funded bank")
        self.w3 = connect(chain_url)
        if int(self.w3.eth.chain_id) != deployment.chain_id:
            raise PlatformOnAnotherChain(
                f"the chain at this URL is chain {int(self.w3.eth.chain_id)}, the platform's "
                f"is chain {deployment.chain_id}: run the demo with the same KRAKEN_CHAIN_URL "
                "as 'kraken-market up'"
            )
        self.bank: Ledger = Ledger(self.w3, deployment, bank or dev_account(0))
        # Gas money for a person's transactions at today's fee; on the embedded chain,
        # one whole unit as before (its fee is tiny, its dev accounts rich).
        per_gas = fee_per_gas(self.w3)
        self.gas_money = (
            ETHER if deployment.faucet else TRANSACTIONS_EACH * TRANSACTION_GAS * per_gas
        )
        if deployment.faucet is None:
            self._check_bank()
        self.actors: list[Actor] = []
        self.private_keys: list[str] = []
        """Every actor's private keys (hex), for the privacy check of ``demo --secrets``."""

    def credential(self, key: DidKey, type_: CredentialType, claims: dict[str, Any]) -> str:
        return self.issuer.issue(type_, {"id": key.did, **claims}, registry_url=self.api_url)

    def actor(
        self,
        name: str,
        *,
        country: str = "NL",
        category: str | None = None,
        roles: tuple[str, ...] = (),
        funds: int = FUNDS,
        key: DidKey | None = None,
        extra: tuple[str, ...] = (),
        act_for: str | None = None,
    ) -> Actor:
        """A person with a PersonCredential (and category/role credentials), funded,
        bound and logged in (``act_for``: a company, with an attorney credential in
        ``extra``)."""
        from eth_account import Account

        from kraken_market.ledger.client import Ledger

        key = key or DidKey.generate()
        held = [self.credential(key, CredentialType.PERSON, {"name": name, "country": country})]
        if category is not None:
            held.append(self.credential(key, CredentialType.BUYER_CATEGORY, {"category": category}))
        for role in roles:
            held.append(self.credential(key, CredentialType.PLATFORM_ROLE, {"role": role}))
        held.extend(extra)
        account: LocalAccount = Account.create()
        self.private_keys += [key.seed.hex(), bytes(account.key).hex()]
        if funds:
            self.bank.send_ether(account.address, self.gas_money)
            self.fund(funds, account.address)
        ledger = Ledger(self.w3, self.deployment, account, poll_latency=0.01)
        actor = Actor(name, key, account, held, MarketClient.connect(self.api_url), ledger)
        self.actors.append(actor)
        self.login(actor, act_for)
        made = binding.bind(key, account, audience=self.api_url, now=datetime.now(UTC))
        actor.api.bind(made.jws, made.account_signature)
        return actor

    def fund(self, amount: int, to: str) -> None:
        """DATA for someone in the story: minted by the development faucet, or paid from
        the bank's own DATA where there is no faucet (an external chain)."""
        if self.deployment.faucet:
            self.bank.drip(amount, to=to)
        else:
            self.bank.transfer(to, amount)

    def _check_bank(self) -> None:
        """Before the story starts: the bank can pay every person's gas and DATA."""
        from kraken_market.platform.gas import ether, fee_per_gas

        decimals = self.bank.token().decimals
        if decimals != 18:
            raise BankTooPoor(
                f"the demo's amounts are in a token of 18 decimals; this deployment's token "
                f"has {decimals}: run the demo on a deployment of the platform's own DataToken"
            )
        gas = PEOPLE_AT_MOST * (self.gas_money + 21_000 * fee_per_gas(self.w3))
        data = PEOPLE_AT_MOST * FUNDS + 100 * DATA
        has_gas = self.bank.ether_balance()
        has_data = self.bank.balance()
        if has_gas < gas or has_data < data:
            raise BankTooPoor(
                f"the bank account {self.bank.address} holds {ether(has_gas)} of the chain's "
                f"currency and {ether(has_data)} DATA; the demo's people need up to "
                f"{ether(gas)} and {ether(data)} DATA: send the difference to it, or give "
                "another --bank-key-file",
                details={"account": self.bank.address},
            )

    def close(self) -> None:
        """Close every actor's API client."""
        for actor in self.actors:
            actor.api.close()

    def login(self, actor: Actor, act_for: str | None = None) -> None:
        """(Re)open the actor's marketplace session with its current credentials."""
        with MarketClient.connect(self.api_url) as anonymous:
            challenge = anonymous.challenge()
            presentation = presentations.present(
                actor.key,
                actor.credentials,
                audience=challenge["audience"],
                nonce=challenge["nonce"],
            )
            actor.session = anonymous.login(presentation, act_for)
        actor.api.close()
        actor.api = MarketClient.connect(self.api_url, actor.session["session_token"])
