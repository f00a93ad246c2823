"""Starting the local platform, in the order its parts need each other.

    chain ─┬─ deploy (first start) ─ nodes set up, registered ─ node 0..m-1
    API ───┴─ (ready) ─ indexer ─ demo company in KCIT ─ Depute tool
    demo wallets and credentials (a thread: seconds of scrypt)

With ``KRAKEN_CHAIN_URL`` set the chain is not started: it is an external chain
(anvil, Besu, Gnosis Chain). Then nothing falls back to a well-known key: the
platform's accounts (``platform.keys``) and each node's own are checked for gas
money before anything is sent (``platform.gas``; nothing is funded from a dev
key), the contracts are deployed from the admin key file (or the deployment in
``deployment.json`` is reused, with ``KRAKEN_CHAIN_TOKEN_ADDRESS`` for an
existing token) without the development faucet, and the dev accounts are not
shown.

The chain and the API start together (the API reads the deployment only
when a request needs it); the nodes start while the API migrates its
database; the indexer waits for that migration; the Depute tool for the
company's entry in KCIT. Steps that are plain function calls (deploying,
registering nodes, making wallets) run in this process instead of a
``kraken-market`` child: each child costs a Python start-up.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic

from web3 import Web3

from kraken_market.db.engine import make_engine
from kraken_market.identity.issuer import Issuer
from kraken_market.ledger.chain_url import shown_chain_url
from kraken_market.ledger.client import connect, dev_account
from kraken_market.ledger.deploy import Roles, deploy_or_reuse, token_units
from kraken_market.ledger.deployment import Deployment
from kraken_market.ledger.errors import ChainUnavailable
from kraken_market.ledger.model import Parameters
from kraken_market.platform.database import record_origin, shown_url
from kraken_market.platform.demo import Demo, demo_company, identify_company, prepare_demo
from kraken_market.platform.gas import Signer, require_gas
from kraken_market.platform.keys import PlatformKeys, platform_keys, refuse_public_keys
from kraken_market.platform.nodes import (
    HOST,
    LocalNode,
    fund_if_empty,
    prepare_nodes,
    register_nodes,
)
from kraken_market.platform.report import (
    ApiInfo,
    ChainInfo,
    DeputeInfo,
    DevAccount,
    NodeInfo,
    PlatformInfo,
    WalletInfo,
)
from kraken_market.platform.supervisor import Supervisor
from kraken_market.settings import Settings

USER_DEV_ACCOUNTS = (7, 8, 9)
"""Dev accounts shown for trying the CLI: public keys, they hold no platform role."""
Say = Callable[[str], None]


def process_age() -> float:
    """Seconds since this process started (Linux; 0 where unknown), so that the ready
    time ``up`` prints includes its own start-up (the interpreter, the CLI's imports),
    as the person who typed the command waited for it."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22, starttime
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - started)


def deploy_platform(w3: Web3, settings: Settings, keys: PlatformKeys) -> tuple[Deployment, bool]:
    """The contracts with the platform's own keys in every role (and, on the embedded
    chain only, the development faucet), or the deployment already there."""
    roles = Roles(
        arbiters=(keys.account("arbiter").address,),
        verifiers=(keys.account("verifier").address,),
        token_address=settings.chain_token_address,
        faucet=settings.chain_is_embedded,
    )
    _symbol, decimals = token_units(w3, settings.chain_token_address)
    parameters = Parameters(  # a claim bond of 10 whole tokens, whatever their decimals
        treasury=keys.account("treasury").address, claim_bond=10 * 10**decimals
    )
    admin = keys.account("admin")
    deployment, reused = deploy_or_reuse(
        w3,
        admin,
        parameters,
        settings.deployment_file,
        roles,
        stale_redeploys=settings.chain_is_embedded,
    )
    if reused:
        refuse_public_keys([deployment.admin], f"the deployment in {settings.deployment_file}")
    return deployment, reused


class Launch:
    """One start of the platform: its URLs, its children, what it found or made."""

    def __init__(self, settings: Settings, supervisor: Supervisor, timeout: float) -> None:
        self.settings = settings
        self.supervisor = supervisor
        self.timeout = timeout
        self.started = monotonic() - process_age()
        self.started_at = datetime.now(UTC)
        self.python = [sys.executable, "-m", "kraken_market.platform.child"]
        self.python += ["--parent", str(os.getpid())]
        self.external = not settings.chain_is_embedded
        """An external chain (KRAKEN_CHAIN_URL): not started, nothing funded from dev keys."""
        self.chain_url = settings.resolved_chain_url
        self.api_url = f"http://{settings.api_host}:{settings.api_port}"
        self.depute_url = f"http://{HOST}:{settings.depute_port}"
        self.company_account = ""

    def _start(
        self, name: str, args: list[str], ready_url: str | None, env: dict[str, str] | None = None
    ) -> None:
        self.supervisor.start(name, [*self.python, *args], ready_url, env)

    def _api_env(self) -> dict[str, str]:
        """The web wallet (served by the API) talks to the Depute tool on its own origin
        (invitations, the tool's sign-in requests): the pages' CSP ``connect-src`` must
        name that origin beside the ones configured."""
        sources = [*self.settings.web_connect_sources]
        if self.depute_url not in sources:
            sources.append(self.depute_url)
        return {"KRAKEN_WEB_CONNECT_SOURCES": json.dumps(sources)}

    def run(self, pool: Executor, say: Say) -> PlatformInfo:
        settings = self.settings
        # Made here, before the API opens it, so that exactly one process creates it.
        issuer = Issuer.open(settings.issuer_dir)
        keys = platform_keys(settings.data_dir)
        company, self.company_account = demo_company(settings)
        demo_job = pool.submit(prepare_demo, settings, issuer, keys, company)
        nodes = prepare_nodes(settings, self.chain_url)
        accounts = [*keys.addresses().values(), *(n.account for n in nodes), self.company_account]
        if self.external:
            w3 = self._connect_external()
            say(f"external chain {int(w3.eth.chain_id)} at {shown_chain_url(self.chain_url)}")
            self._require_gas(w3, keys, nodes)  # before any process starts or anything is sent
        else:
            chain_args = ["--host", settings.chain_host, "--port", str(settings.chain_port)]
            chain_args += [arg for account in accounts for arg in ("--fund", account)]
            self._start("chain", ["chain", "serve", *chain_args], f"{self.chain_url}/healthz")
        api_args = ["--host", settings.api_host, "--port", str(settings.api_port)]
        self._start("api", ["api", "serve", *api_args], f"{self.api_url}/readyz", self._api_env())
        if not self.external:
            self.supervisor.wait_ready(self.timeout, ["chain"])
            w3 = connect(self.chain_url)
            fund_if_empty(w3, accounts)
        deployment, reused = deploy_platform(w3, settings, keys)
        say(f"contracts {'reused' if reused else 'deployed'} ({self.elapsed()})")
        registered = register_nodes(w3, deployment, keys.account("admin"), nodes)
        say(f"{len(nodes)} compute nodes set up, {registered} registered now ({self.elapsed()})")
        for node in nodes:
            data_dir = str(node.config.data_dir)
            self._start(
                f"node-{node.config.index}",
                ["node", "serve", "--data-dir", data_dir],
                f"{node.url}/healthz",
            )
        self.supervisor.wait_ready(self.timeout, ["api"])
        # After the API: it has migrated the database the indexer writes to. Recorded
        # before the indexer writes: from now on the database belongs to this chain.
        self._record_origin(w3, deployment)
        self._start("indexer", ["ledger", "index", "--follow", "--interval", "0.2"], None)
        demo = demo_job.result(self.timeout)
        entry = identify_company(settings, demo, self.api_url)
        say(f"demo company {demo.company}: {entry} in KCIT ({self.elapsed()})")
        self._start("depute", self._depute_args(demo), f"{self.depute_url}/api/health")
        self.supervisor.wait_ready(self.timeout)
        return self._describe(w3, deployment, reused, nodes, demo, keys)

    def _connect_external(self) -> Web3:
        shown = shown_chain_url(self.chain_url)
        try:
            return connect(self.chain_url)
        except ChainUnavailable as exc:
            raise ChainUnavailable(
                f"no chain node answers at {shown} (KRAKEN_CHAIN_URL): start the node or "
                "correct the URL; unset KRAKEN_CHAIN_URL to run the embedded chain"
            ) from exc

    def _require_gas(self, w3: Web3, keys: PlatformKeys, nodes: list[LocalNode]) -> None:
        """Every account that will sign holds gas money on the external chain."""
        deploys = not self.settings.deployment_file.is_file()
        signers = [
            Signer(
                "admin", keys.account("admin").address, "deploys, registers nodes", deploys=deploys
            ),
            Signer("arbiter", keys.account("arbiter").address, "rules on claims"),
            Signer("verifier", keys.account("verifier").address, "records grants"),
            *(Signer(f"node {n.config.index}", n.account, "attests results") for n in nodes),
            Signer("company account", self.company_account, "publishes the company's products"),
        ]
        require_gas(w3, signers, shown_chain_url(self.chain_url), str(keys.directory))

    def _record_origin(self, w3: Web3, deployment: Deployment) -> None:
        engine = make_engine(self.settings.resolved_database_url)
        try:
            genesis = "0x" + bytes(w3.eth.get_block(0)["hash"]).hex()
            record_origin(engine, self.settings, deployment, genesis)
        finally:
            engine.dispose()

    def _depute_args(self, demo: Demo) -> list[str]:
        args = ["depute", "serve", "--company", demo.company, "--host", HOST]
        args += ["--port", str(self.settings.depute_port), "--marketplace", self.api_url]
        if self.settings.resolved_api_url != self.api_url:  # the API's public URL differs
            args += ["--registry-url", self.settings.resolved_api_url]
        return args

    def elapsed(self) -> str:
        return f"{monotonic() - self.started:.1f} s"

    def _describe(
        self,
        w3: Web3,
        deployment: Deployment,
        reused: bool,
        nodes: list[LocalNode],
        demo: Demo,
        keys: PlatformKeys,
    ) -> PlatformInfo:
        settings = self.settings
        wallets = [
            WalletInfo(role=role, path=str(w.path.resolve()), did=w.did, account=w.address)
            for role, w in (("admin", demo.admin), ("representative", demo.representative))
        ]
        return PlatformInfo(
            data_dir=str(settings.data_dir.resolve()),
            database=shown_url(settings.resolved_database_url),
            pid=os.getpid(),
            started_at=self.started_at,
            ready_in_seconds=round(monotonic() - self.started, 2),
            first_start=not reused,
            chain=ChainInfo(
                url=shown_chain_url(self.chain_url),
                embedded=not self.external,
                confirmations=settings.resolved_chain_confirmations,
                chain_id=int(w3.eth.chain_id),
                deployment_file=str(settings.deployment_file.resolve()),
                contracts=deployment.addresses(),
                deployed_now=not reused,
                roles=keys.addresses(),
                keys_dir=str(keys.directory),
            ),
            api=ApiInfo(
                url=self.api_url,
                api=f"{self.api_url}/api/v1",
                docs=f"{self.api_url}/docs",
                health=f"{self.api_url}/readyz",
                marketplace=f"{self.api_url}/",
                wallet_app=f"{self.api_url}/wallet/",
            ),
            nodes=[
                NodeInfo(
                    index=n.config.index,
                    url=n.url,
                    account=n.account,
                    hpke_public_key=n.hpke_public_key,
                    data_dir=str(n.config.data_dir),
                )
                for n in nodes
            ],
            depute=DeputeInfo(
                url=self.depute_url,
                company=demo.company,
                legal_name=settings.demo_company_name,
                country=settings.demo_company_country,
                directory=str(demo.company_dir.resolve()),
                account=self.company_account,
            ),
            wallets=wallets,
            wallet_passphrase_file=str(demo.passphrase_file.resolve()),
            dev_accounts=[]
            if self.external  # eth-tester's keys: money on the embedded chain only
            else [
                DevAccount(index=i, address=dev_account(i).address, role="public key, no role")
                for i in USER_DEV_ACCOUNTS
            ],
            logs={c.name: str(c.log) for c in self.supervisor.children},
            processes={c.name: c.process.pid for c in self.supervisor.children},
        )
